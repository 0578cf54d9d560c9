"""Results on disk: one parquet file per run, written atomically.

A restarted sweep skips runs already there; a run file that cannot be read, whose content
no longer matches its checksum, or that does not hold one row (truncated or corrupted on
disk) does not count as done, so it is run again. `consolidate` writes one table for the
whole experiment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.files import atomic_write
from sim.output import DamagedTableError, read_table, write_table

RUNS_DIR = "runs"


class ResultStore:
    """A folder of per-run parquet files named by content key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs = self.root / RUNS_DIR
        self._checked: dict[Path, tuple[int, int, bool]] = {}  # path: (mtime, size, sound)

    def path(self, key: str) -> Path:
        """Where the run with this content key is (or will be) stored."""
        return self.runs / f"{key}.parquet"

    def done(self, keys: list[str] | None = None) -> set[str]:
        """Keys of the runs on disk (of `keys`, if given) whose file matches its checksum."""
        files = self._files() if keys is None else [self.path(k) for k in keys]
        return {p.stem for p in files if self._sound(p)}

    def damaged(self) -> list[Path]:
        """Run files on disk that cannot be read; the runs are done again on resume."""
        return [p for p in self._files() if not self._sound(p)]

    def _sound(self, path: Path) -> bool:
        """The file holds one run's row and matches its checksum (checked once while unchanged)."""
        try:
            stat = path.stat()
        except OSError:
            return False
        known = self._checked.get(path)
        if known is None or known[:2] != (stat.st_mtime_ns, stat.st_size):
            known = self._checked[path] = (stat.st_mtime_ns, stat.st_size, _one_run(path))
        return known[2]

    def _files(self) -> list[Path]:
        return sorted(self.runs.glob("*.parquet")) if self.runs.exists() else []

    def save(self, row: dict[str, Any]) -> None:
        """Write one run's row (temp file + rename: a killed sweep leaves no half file)."""
        write_table(pd.DataFrame([row]), self.path(row["key"]))

    def load(self, keys: list[str] | None = None) -> pd.DataFrame:
        """All stored rows (or those with the given keys), in key order."""
        keys = sorted(self.done()) if keys is None else keys
        frames = [read_table(self.path(k)) for k in keys]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def consolidate(self, keys: list[str], name: str = "results.parquet") -> Path:
        """One table of the given runs, in design order, next to the per-run files.

        Also written as CSV without the per-place and per-hour lists: one row per run.
        """
        out = self.root / name
        table = self.load(keys)
        write_table(table, out)
        write_flat(table, out.with_suffix(".csv"))
        return out


def _one_run(path: Path) -> bool:
    try:
        return len(read_table(path)) == 1
    except DamagedTableError:
        return False


PER_RUN_LISTS = ("place_", "hourly_", "police_layout")
"""Columns of a run's row that hold lists (per place, per hour) or a layout, not a number."""


def write_flat(rows: pd.DataFrame, path: Path) -> None:
    """One row per run with its parameters and metrics (BehaviorSpace's table format)."""
    flat = rows[[c for c in rows.columns if not c.startswith(PER_RUN_LISTS)]]
    atomic_write(path, lambda tmp: flat.to_csv(tmp, index=False))
