"""Deployment policies: the spec (data), turning it into agents, and dispatch."""
