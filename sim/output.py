"""Writing run outputs: every file lands whole (temp file + rename) or not at all."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.results import RunResult


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""The mode a plain `open()` would give (read by colleagues under the usual umask 022);
temporary files start at 0600."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a parquet table atomically."""
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_run(result: RunResult, out: Path) -> list[Path]:
    """Write metrics (JSON) and every table of a run (parquet) to `out`."""
    out = Path(out)
    paths = [
        out / "metrics.json",
        out / "places.parquet",
        out / "hourly.parquet",
        out / "incidents.parquet",
        out / "police_stops.parquet",
        out / "daily.parquet",
    ]
    metrics = {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in result.metrics.items()
    }
    atomic_write(paths[0], lambda tmp: tmp.write_text(json.dumps(metrics, indent=2)))
    write_table(result.places, paths[1])
    write_table(result.hourly, paths[2])
    write_table(result.incidents, paths[3])
    write_table(result.police_stops, paths[4])
    write_table(result.daily, paths[5])
    return paths
