"""Results on disk: one parquet file per run, written atomically.

A restarted sweep skips runs already there; `consolidate` writes one table for the whole
experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.output import write_table

RUNS_DIR = "runs"


class ResultStore:
    """A folder of per-run parquet files named by content key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs = self.root / RUNS_DIR

    def path(self, key: str) -> Path:
        """Where the run with this content key is (or will be) stored."""
        return self.runs / f"{key}.parquet"

    def done(self) -> set[str]:
        """Content keys of the runs already on disk."""
        if not self.runs.exists():
            return set()
        return {p.stem for p in self.runs.glob("*.parquet")}

    def save(self, row: dict[str, Any]) -> None:
        """Write one run's row (temp file + rename: a killed sweep leaves no half file)."""
        write_table(pd.DataFrame([row]), self.path(row["key"]))

    def load(self, keys: list[str] | None = None) -> pd.DataFrame:
        """All stored rows (or those with the given keys), in key order."""
        keys = sorted(self.done()) if keys is None else keys
        frames = [pd.read_parquet(self.path(k)) for k in keys]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def consolidate(self, keys: list[str], name: str = "results.parquet") -> Path:
        """One table of the given runs, in design order, next to the per-run files."""
        out = self.root / name
        write_table(self.load(keys), out)
        return out
