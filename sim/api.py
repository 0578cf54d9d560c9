"""The Python API: load a scenario, run it, get results. The CLI and sweeps call only this."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.model import CrowdPolicingModel
from sim.results import RunResult, collect
from sim.scenario import Scenario, load_scenario, with_overrides


def run(
    scenario: Scenario | str,
    *,
    seed: int = 0,
    days: int | None = None,
    scale: float | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run one seeded simulation and return its metrics, place table and hourly series.

    `scenario` is a loaded Scenario or a built-in name / path; `overrides` maps dotted
    scenario field paths to values (as `--set` does) and, like `days` and `scale`, is
    validated against the schema. The model is released afterwards so
    a process can run thousands of these without growing.
    """
    changes = dict(overrides or {})
    if days is not None:
        changes["days"] = days
    if scale is not None:
        changes["scale"] = scale
    if isinstance(scenario, str):
        scenario = load_scenario(scenario, changes)
    else:
        scenario = with_overrides(scenario, changes)
    model = CrowdPolicingModel(scenario, seed=seed)
    try:
        model.run()
        return collect(model)
    finally:
        model.release()
