"""The floor under every batch command: run specs, executors, the resumable store, progress.

compare, sweep, regress, validate-model, calibrate and optimise all stand on it; it imports
none of them.
"""
