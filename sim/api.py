"""The Python API: load a scenario, run it, get results. The CLI and every sweep run through it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.model import CrowdPolicingModel, few_collections
from sim.policing.policy import Policy, load_policy
from sim.results import RunResult, collect
from sim.scenario import Scenario, load_scenario, with_overrides


def run(
    scenario: Scenario | str,
    policy: Policy | str | None = None,
    *,
    seed: int = 0,
    days: int | None = None,
    scale: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    policy_source: str = "policy",
) -> RunResult:
    """Run one seeded simulation and return its metrics, place table and hourly series.

    `scenario` and `policy` are loaded objects or built-in names / paths (no policy: no
    police); `overrides` maps dotted
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
    if isinstance(policy, str):
        policy, policy_source = load_policy(policy), policy
    with few_collections():  # the released model is collected on the way out
        return _run_and_release(scenario, policy, seed, policy_source)


def _run_and_release(
    scenario: Scenario, policy: Policy | None, seed: int, policy_source: str
) -> RunResult:
    model = CrowdPolicingModel(scenario, policy, seed=seed, policy_source=policy_source)
    try:
        model.run()
        return collect(model)
    finally:
        model.release()
