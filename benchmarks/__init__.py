"""Benchmarks for the performance targets (run with `python -m benchmarks` or `make bench`)."""
