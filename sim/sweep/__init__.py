"""Many seeded runs: run specs, executors (serial, processes, dask), a resumable store, analysis."""
