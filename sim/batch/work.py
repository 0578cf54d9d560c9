"""Rows for a list of run specs: from the store where a run is done, else run now.

The one loop behind compare, optimise and regress: nothing finished is run twice, each
fresh row is stored as it arrives (so a killed command resumes), and the rows come back in
spec order whatever order the executor finished them in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from sim.batch.progress import Progress
from sim.batch.runs import RunSpec
from sim.batch.store import ResultStore

Run = Callable[[list[RunSpec]], Iterable[dict[str, Any]]]
"""Runs specs on some executor, yielding their rows in any order."""


def rows_for(
    specs: list[RunSpec],
    run: Run,
    *,
    store: ResultStore | None = None,
    label: str | None = None,
    show_bar: bool | None = None,
) -> pd.DataFrame:
    """One row per spec, in spec order; progress shown under `label` if one is given."""
    keys = [s.key() for s in specs]
    done = store.done(keys) if store is not None else set()
    todo = [s for s in specs if s.key() not in done]
    fresh: dict[str, dict[str, Any]] = {}
    progress = (
        Progress(len(specs), label=label, initial=len(specs) - len(todo), show_bar=show_bar)
        if label
        else None
    )
    with progress or contextlib.nullcontext():
        for row in run(todo):
            if store is not None:
                store.save(row)
            else:
                fresh[row["key"]] = row
            if progress is not None:
                progress.update()
    if store is not None:
        return store.load(keys)
    return pd.DataFrame([fresh[k] for k in keys])
