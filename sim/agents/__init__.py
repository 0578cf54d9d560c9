"""Mesa agents whose behaviour runs as SimPy processes."""
