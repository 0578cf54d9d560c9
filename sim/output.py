"""Writing run outputs: every file lands whole (temp file + rename) or not at all.

Every parquet table carries a SHA-256 of its content in its own metadata, checked when it
is read back (`read_table`): a flipped bit anywhere in the data or the schema, which
parquet's footer check alone lets through, makes the file "damaged" instead of wrong
numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import ConfigError
from sim.files import atomic_write
from sim.results import RunResult

CHECKSUM_KEY = b"crowdsim.sha256"


class DamagedTableError(ValueError):
    """A stored table that cannot be read, or whose content no longer matches its checksum."""


def metrics_text(metrics: Mapping[str, float | int]) -> str:
    """A run's metrics as `crowdsim run` prints them, one per line.

    Counts with thousands separators, measures to two decimals, '-' where a measure is
    undefined (NaN). The one formatter of a run's numbers, so a notebook prints what the
    command line does.
    """
    width = max((len(k) for k in metrics), default=0)
    lines = []
    for key, value in metrics.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        lines.append(f"  {key:<{width}}  {'-' if shown == 'nan' else shown:>14}")
    return "\n".join(lines)


def _digest(table: pa.Table) -> str:
    """SHA-256 of a table's column names, metadata and values (not of its bytes on disk).

    Arrow types are left out: parquet renames a list's item field on the way back.
    """
    meta = sorted((k, v) for k, v in (table.schema.metadata or {}).items() if k != CHECKSUM_KEY)
    h = hashlib.sha256(repr(meta).encode())
    h.update(repr(table.column_names).encode())
    h.update(json.dumps(table.to_pylist(), default=repr).encode())
    return h.hexdigest()


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a parquet table atomically, with the checksum of its content."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[CHECKSUM_KEY] = _digest(table).encode()
    table = table.replace_schema_metadata(meta)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, write_page_checksum=True))


def read_table(path: Path) -> pd.DataFrame:
    """A table written by `write_table`, checked (DamagedTableError if it is not what was written).

    Tables written before checksums were stored are read unchecked.
    """
    try:
        table = pq.read_table(path, page_checksum_verification=True)
        frame = table.to_pandas()
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        raise DamagedTableError(f"{path}: not a readable table ({exc})") from None
    stored = (table.schema.metadata or {}).get(CHECKSUM_KEY)
    if stored is not None and stored != _digest(table).encode():
        raise DamagedTableError(f"{path}: its content does not match its checksum")
    return frame


def load_table(path: Path, remedy: str) -> pd.DataFrame:
    """`read_table` for a file the user gave or a command shares: damage is bad input.

    The message names the file and says what to do (`remedy`); nothing is deleted.
    """
    try:
        return read_table(path)
    except DamagedTableError as exc:
        raise ConfigError(str(path), "", f"damaged ({exc}); {remedy}") from None


def check_database(path: Path, remedy: str) -> None:
    """Refuse (exit 2, naming the file) an SQLite database that is damaged; never delete it."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            verdict = con.execute("pragma quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        verdict = str(exc)
    if verdict != "ok":
        raise ConfigError(str(path), "", f"damaged database ({verdict}); {remedy}")


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
