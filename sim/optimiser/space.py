"""The search space of `crowdsim optimise`: what varies, the budget, the objectives.

A space file names a scenario and a base policy whose fields vary (any path `--set
policy.` can address), each with a range or choices; the budget as hard limits; the
objectives; the seeds of the search and of the fresh-seed re-evaluation. Everything is
checked before any run: an unknown path, an empty or reversed range, a bound the policy
schema refuses, a non-finite number, or a budget that no candidate can meet exits 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.config import apply_overrides, build, build_file, check_range, to_raw
from sim.errors import ConfigError
from sim.folder import check_name
from sim.metrics import NAMES
from sim.params import param
from sim.policing.cost import car_hours_per_day, officer_hours_per_day
from sim.policing.policy import Policy, check_policy, load_policy
from sim.policing.units import KINDS
from sim.scenario import load_scenario
from sim.sizes import check_run, check_total, size_overrides, visitor_days

DIRECTIONS = ("minimize", "maximize")
FEASIBILITY_SAMPLES = 2000
"""Random candidates tried at load time to show that some candidate meets the budget."""


@dataclass(frozen=True)
class Parameter:
    """One varying policy field: a range (low, high) or a list of choices."""

    low: float | None = param(None, doc="lower end of a numeric range")
    high: float | None = param(None, doc="upper end of a numeric range")
    integer: bool = param(False, doc="whole numbers only (counts)")
    log: bool = param(False, doc="search the range on a log scale")
    choices: tuple[Any, ...] = param((), doc="the values of a categorical field")


@dataclass(frozen=True)
class Objective:
    """A run metric to minimise or maximise (its mean over the search seeds)."""

    metric: str = param("theft_rate_per_1000_visitors", doc="a metric of sim/metrics.py")
    direction: str = param("minimize", choices=DIRECTIONS, doc="minimize or maximize")


@dataclass(frozen=True)
class Budget:
    """Hard limits per day; a candidate above any of them is never run or returned."""

    officer_hours_per_day: float | None = param(
        None, unit="officer-hours", low=0, doc="scheduled officer-hours a day"
    )
    cars: int | None = param(None, low=0, doc="patrol cars")
    drones: int | None = param(None, low=0, doc="drones")
    cost_per_day: float | None = param(None, low=0, doc="total cost a day, with the weights below")
    officer_hour_cost: float = param(1.0, low=0, doc="cost of one officer-hour")
    car_hour_cost: float = param(0.0, low=0, doc="cost of one patrol-car hour (beyond its crew)")
    drone_sortie_cost: float = param(0.0, low=0, doc="cost of one drone sortie")


@dataclass(frozen=True)
class Reevaluation:
    """The guard against the winner's curse: the best few, on fresh seeds, against a reference."""

    top: int = param(3, low=1, doc="best candidates re-run")
    replications: int = param(20, low=2, doc="fresh seeds, never used in the search")


@dataclass(frozen=True)
class Space:
    """A deployment search: scenario, base policy, varying fields, budget, objectives."""

    name: str = param("optimise", doc="study name")
    description: str = param("", doc="one line")
    scenario: str = param("small-town", doc="built-in scenario name or path")
    policy: str = param("integrated", doc="base policy whose fields vary (name or path)")
    reference: str = param("integrated", doc="policy the best are compared with (name or path)")
    days: int = param(1, low=1, high=60, doc="days per run")
    scale: float | None = param(None, low=0, high=10, doc="override the scenario's scale")
    seed: int = param(0, low=0, doc="base seed of the search seeds (fresh seeds differ)")
    search_replications: int = param(
        4, low=1, doc="seeds per candidate (per posterior draw), the same for all"
    )
    posterior: str = param(
        "",
        doc="a calibration folder (beside this file, or from the working directory): every "
        "candidate is scored across `draws` parameter sets drawn from its posterior",
    )
    draws: int = param(
        1, low=1, doc="posterior draws per candidate (with `posterior`), the same for all"
    )
    trials: int = param(40, low=1, doc="candidates simulated (budget-breaking ones are not)")
    sampler_seed: int = param(0, low=0, doc="seed of the Optuna sampler")
    params: dict[str, Parameter] = param(None, doc="policy path -> range or choices")
    objectives: tuple[Objective, ...] = param((Objective(),), doc="one (TPE) or more (NSGA-II)")
    budget: Budget = param(Budget(), doc="hard limits")
    reevaluate: Reevaluation = param(Reevaluation(), doc="fresh-seed re-evaluation")
    source_file: str = field(default="", compare=False, metadata={"internal": True})


def load_space(path: str | Path) -> Space:
    """Read and check a space file (ConfigError naming file and field if it is bad)."""
    file = str(path)
    space = build_file(Space, path, relative=("scenario", "policy", "reference"))
    check_name(space.name, file)
    if not space.params:
        raise ConfigError(file, "params", "name at least one policy field to vary")
    if not space.objectives:
        raise ConfigError(file, "objectives", "name at least one objective (a metric to minimise)")
    scenario_overrides = size_overrides(space.days, space.scale)
    loaded = {}
    for where, load in (
        ("scenario", lambda: load_scenario(space.scenario, scenario_overrides)),
        ("policy", lambda: load_policy(space.policy)),
        ("reference", lambda: load_policy(space.reference)),
    ):
        try:
            loaded[where] = load()
        except ConfigError as exc:
            raise ConfigError(file, where, str(exc)) from None
    base = loaded["policy"]
    for i, objective in enumerate(space.objectives):
        if objective.metric not in NAMES:
            raise ConfigError(
                file,
                f"objectives[{i}].metric",
                f"{objective.metric!r} is not a run metric (see sim/metrics.py or docs/usage.md)",
            )
    one_run = loaded["scenario"]
    check_run(one_run, file, "scale")
    if space.posterior:
        space = replace(space, posterior=_posterior_folder(space))
        search_draws(space)  # readable, of this scenario, every draw a valid scenario
    elif space.draws > 1:
        raise ConfigError(file, "draws", "draws need a posterior (a calibration folder)")
    runs = (
        space.trials * space.search_replications * space.draws
        + (space.reevaluate.top + 2) * space.reevaluate.replications
    )
    check_total(runs, visitor_days(one_run), file, "trials")
    raw = to_raw(base)
    for key, spec in space.params.items():
        _check_parameter(file, key, spec, raw)
    _check_candidates(space, raw)
    return space


def _posterior_folder(space: Space) -> str:
    """The calibration folder: beside the space file if it is there, else as given."""
    beside_file = Path(space.source_file).parent / space.posterior
    return str(beside_file.resolve() if beside_file.is_dir() else Path(space.posterior))


POSTERIOR_FRESH_OFFSET = 2_000_029
"""Draws for the re-evaluation come from seed + this: none of the search's draws."""


def search_draws(space: Space) -> list[dict[str, float]]:
    """The parameter sets every candidate is scored under ([{}]: the scenario's own)."""
    return _draws(space, space.draws, space.seed)


def fresh_draws(space: Space) -> list[dict[str, float]]:
    """One fresh parameter set per fresh seed of the re-evaluation ([{}] x n without one)."""
    n = space.reevaluate.replications
    return _draws(space, n, space.seed + POSTERIOR_FRESH_OFFSET) if space.posterior else [{}] * n


def _draws(space: Space, n: int, seed: int) -> list[dict[str, float]]:
    if not space.posterior:
        return [{}]
    from sim.calibration.posterior import check_draws, load_posterior  # noqa: PLC0415

    try:
        fitted = load_posterior(space.posterior)
    except ConfigError as exc:
        raise ConfigError(space.source_file, "posterior", f"{exc.field}: {exc.message}") from None
    scenario = load_scenario(space.scenario, size_overrides(space.days, space.scale))
    if Path(fitted.scenario).stem != Path(space.scenario).stem:
        raise ConfigError(
            space.source_file,
            "posterior",
            f"a calibration of {fitted.scenario!r}, not of {space.scenario!r}",
        )
    drawn = fitted.draws(n, seed)
    check_draws(fitted, drawn, scenario)
    return [{k: float(v) for k, v in d.items()} for d in drawn.to_dict("records")]


def _check_parameter(file: str, key: str, spec: Parameter, raw: dict) -> None:
    where = f"params.{key}"
    if spec.choices:
        if spec.low is not None or spec.high is not None:
            raise ConfigError(file, where, "give either choices or low and high, not both")
        values = list(spec.choices)
    else:
        if spec.low is None or spec.high is None:
            raise ConfigError(file, where, "a range needs low and high (or give choices)")
        check_range(file, where, spec.low, spec.high)
        if spec.log and spec.low <= 0:
            raise ConfigError(file, where, "a log-scale range needs low > 0")
        values = [spec.low, spec.high]
    for value in values:
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(file, where, f"{value!r} is not a finite number")
        try:
            policy_with(raw, {key: int(value) if spec.integer else value}, file)
        except ConfigError as exc:
            raise ConfigError(file, where, f"{value!r}: {exc.message}") from None


def policy_with(raw: dict, overrides: dict[str, Any], file: str) -> Policy:
    """The base policy (as raw data) with a candidate's values, validated."""
    data = apply_overrides(Policy, raw, overrides, label=file)
    policy = build(Policy, data, file=file)
    check_policy(policy, file)
    return policy


def usage(space: Space, policy: Policy) -> dict[str, float]:
    """What a candidate uses per day: officer-hours, cars, drones, cost."""
    checkpoints = _checkpoints(space.scenario)
    hours = officer_hours_per_day(policy, checkpoints)
    cars = sum(d.count for d in policy.deploy if KINDS[d.unit].moves == "drives")
    car_hours = car_hours_per_day(policy)
    flying = [d for d in policy.deploy if KINDS[d.unit].moves == "flies"]
    drones = sum(d.count for d in flying)
    sorties = sum(d.count * d.sorties_per_day for d in flying)
    b = space.budget
    cost = hours * b.officer_hour_cost + car_hours * b.car_hour_cost + sorties * b.drone_sortie_cost
    return {"officer_hours_per_day": hours, "cars": cars, "drones": drones, "cost_per_day": cost}


def violations(space: Space, policy: Policy) -> dict[str, float]:
    """Amount above each budget limit (<= 0: within it), for the limits the space sets."""
    used = usage(space, policy)
    return {
        name: used[name] - limit
        for name, limit in (
            ("officer_hours_per_day", space.budget.officer_hours_per_day),
            ("cars", space.budget.cars),
            ("drones", space.budget.drones),
            ("cost_per_day", space.budget.cost_per_day),
        )
        if limit is not None
    }


def _checkpoints(scenario: str) -> int:
    return int(load_scenario(scenario).city_model().checkpoint.sum())


def random_candidate(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    """A candidate drawn uniformly from the space (for the feasibility check)."""
    out: dict[str, Any] = {}
    for key, spec in space.params.items():
        if spec.choices:
            out[key] = spec.choices[int(rng.integers(len(spec.choices)))]
        elif spec.integer:
            out[key] = int(rng.integers(int(spec.low), int(spec.high) + 1))
        else:
            out[key] = float(rng.uniform(spec.low, spec.high))
    return out


def _check_candidates(space: Space, raw: dict) -> None:
    """Some candidate (the lowest corner, or a random one) must be a valid policy within budget.

    Values valid one by one can still combine into an invalid policy (a shift from 22 h to
    22 h); the search skips such candidates, but a space with none valid is refused here.
    """
    lowest = {
        k: (s.choices[0] if s.choices else int(s.low) if s.integer else s.low)
        for k, s in space.params.items()
    }
    rng = np.random.default_rng(0)
    candidates = [lowest] + [random_candidate(space, rng) for _ in range(FEASIBILITY_SAMPLES)]
    first_error, valid = None, 0
    for candidate in candidates:
        try:
            policy = policy_with(raw, candidate, space.source_file)
        except ConfigError as exc:
            first_error = first_error or exc
            continue
        valid += 1
        if all(v <= 0 for v in violations(space, policy).values()):
            return
    tried = f"tried the lowest corner and {FEASIBILITY_SAMPLES} random candidates"
    if not valid:
        raise ConfigError(
            space.source_file,
            "params",
            f"no candidate of the space is a valid policy ({tried}; e.g. {first_error.field}: "
            f"{first_error.message})",
        )
    raise ConfigError(space.source_file, "budget", f"no candidate meets the budget ({tried})")
