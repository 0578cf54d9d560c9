"""One particle's statistics: the runs a targets file asks for, at given parameter values.

A particle's runs share their seeds (common random numbers between the policy in force
and a reduction's before and after policies). The seeds are derived from the base seed and
the parameter values, so the same values give the same statistics in any process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim.api import run
from sim.batch.runs import replication_seeds
from sim.calibration.targets import DERIVED, Observed, RunSet, Targets
from sim.errors import ConfigError
from sim.policing.policy import Policy, load_policy
from sim.results import RunResult
from sim.scenario import Scenario, load_scenario

UNDEFINED_IN_A_ROW = 10
"""Draws in a row (in one process) whose statistic cannot be computed before the fit stops.

A statistic that is undefined (a response time where no car responded, a reduction from a
before-value of 0) gives pyabc a distance it can never accept: without this bound a
generation would sample until its evaluation limit, hours at full scale."""
UNDEFINED_NOTE = ".undefined-statistic.json"
"""Where a worker process leaves the reason it stopped, for the parent to report."""


def particle_seed(base: int, values: Mapping[str, float]) -> int:
    """A run seed that depends on the base seed and on the values (names in sorted order)."""
    digest = hashlib.sha256(struct.pack("<q", base))
    for name in sorted(values):
        digest.update(name.encode())
        digest.update(struct.pack("<d", float(values[name])))
    return int.from_bytes(digest.digest()[:4], "little")


@functools.lru_cache(maxsize=16)
def _scenario(source: str, scale: float | None) -> Scenario:
    return load_scenario(source, {} if scale is None else {"scale": scale})


@functools.lru_cache(maxsize=16)
def _policy(source: str) -> Policy:
    return load_policy(source)


def run_scale(targets: Targets) -> float:
    """The scale the runs use (the file's, else the scenario's own)."""
    return _scenario(targets.scenario, targets.scale).scale


def _value(result: RunResult, metric: str) -> float:
    if metric in DERIVED:
        return DERIVED[metric][1](result)
    value = result.metrics[metric]
    return math.nan if value is None else float(value)


def simulate(
    targets: Targets,
    values: Mapping[str, Any],
    seed: int,
    observed: tuple[Observed, ...] | None = None,
) -> dict[str, float]:
    """The statistics `observed` (default: all) as the model gives them at `values`.

    Only the runs those statistics need are made: a fit leaves out the held-out ones.
    """
    observed = targets.observed if observed is None else observed
    scenario = _scenario(targets.scenario, targets.scale)
    seeds = replication_seeds(seed, targets.replications)
    needed: dict[RunSet, set[str]] = {}
    for o in observed:
        for which in ("policy", "versus") if o.statistic == "reduction" else ("policy",):
            needed.setdefault(targets.run_set(o, which), set()).add(o.metric)
    measured: dict[tuple[RunSet, str], float] = {}
    for run_set, metrics in needed.items():
        per_run: dict[str, list[float]] = {m: [] for m in metrics}
        for s in seeds:
            result = run(
                scenario,
                _policy(run_set.policy),
                seed=s,
                days=run_set.days,
                overrides=dict(values) | dict(run_set.fixed),
                policy_source=run_set.policy,
            )
            for metric in metrics:
                per_run[metric].append(_value(result, metric))
        for metric, got in per_run.items():
            array = np.asarray(got, dtype=float)
            measured[run_set, metric] = (
                float(array.mean()) if np.isfinite(array).all() else math.nan
            )
    return {o.name: _statistic(targets, o, measured, scenario.scale) for o in observed}


def _statistic(
    targets: Targets, o: Observed, measured: dict[tuple[RunSet, str], float], scale: float
) -> float:
    value = measured[targets.run_set(o), o.metric]
    if o.statistic == "full_city":
        return value / scale
    if o.statistic == "value":
        return value
    before = measured[targets.run_set(o, "versus"), o.metric]
    return 1.0 - value / before if before else math.nan


class UndefinedStatisticError(ConfigError):
    """A statistic could not be computed in UNDEFINED_IN_A_ROW draws in a row."""


class Simulator:
    """The model pyabc calls: parameter values in, the observed statistics out.

    It stops the fit (UndefinedStatisticError, and a note in `note` for a parent process) when
    one statistic has been undefined in UNDEFINED_IN_A_ROW draws in a row.
    """

    def __init__(self, targets: Targets, note: Path | None = None) -> None:
        self.targets = targets
        self.note = note
        self.undefined_in_a_row = {o.name: 0 for o in targets.fitted}

    def __call__(self, parameter: Mapping[str, float]) -> dict[str, float]:
        """Run a particle's runs at its values, seeded by them."""
        values = {name: float(parameter[name]) for name in self.targets.params}
        seed = particle_seed(self.targets.seed, values)
        statistics = simulate(self.targets, values, seed, self.targets.fitted)
        for name, value in statistics.items():
            self.undefined_in_a_row[name] = (
                self.undefined_in_a_row[name] + 1 if math.isnan(value) else 0
            )
            if self.undefined_in_a_row[name] >= UNDEFINED_IN_A_ROW:
                self._stop(name, values)
        return statistics

    def _stop(self, name: str, values: Mapping[str, float]) -> None:
        index = [o.name for o in self.targets.observed].index(name)
        error = UndefinedStatisticError(
            self.targets.source_file,
            f"observed[{index}]",
            f"the statistic {name!r} could not be computed in {UNDEFINED_IN_A_ROW} draws in a "
            f"row (the last at {dict(values)}): its runs have nothing to measure (no response, "
            "or a reduction from 0); choose another statistic, policy or prior",
        )
        if self.note is not None:
            text = json.dumps({"file": error.file, "field": error.field, "message": error.message})
            # written whole then renamed: a worker ended while writing leaves no half note
            partial = self.note.with_name(f"{self.note.name}.{os.getpid()}")
            partial.write_text(text)
            os.replace(partial, self.note)
        raise error


def undefined_note(path: Path) -> ConfigError | None:
    """The reason a worker stopped the fit, if it left one.

    The note is removed, and so is any a stopped worker was still writing.
    """
    for partial in path.parent.glob(f"{path.name}.*"):
        partial.unlink(missing_ok=True)
    if not path.exists():
        return None
    try:
        note = json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)
    return ConfigError(note["file"], note["field"], note["message"])
