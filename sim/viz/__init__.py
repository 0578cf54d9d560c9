"""Figures (matplotlib, from plain result tables) and the interactive app.

The figures only read tables that the public API and the sweeps return. The app is the one
part that drives a live model step by step, and it reads the model's crowd and presence
counters directly to draw them as the day unfolds.
"""
