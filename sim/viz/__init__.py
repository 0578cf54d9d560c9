"""Figures (matplotlib) and the interactive app; they only call the public API."""
