"""Targets files of `crowdsim calibrate`: what is fitted, to what, under which runs.

A targets file names the scenario, the policy in force, scale, days and seed; the scenario
parameters to fit, each with a prior; and the observed statistics, each with the model
metric (or derived statistic) that stands for it, the observed value, its scale (the
tolerance of the distance) and its source. Everything is checked before any run: an
unknown parameter or metric, an empty range, a non-finite number or a prior the scenario
schema refuses exits 2 naming the file and the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from sim.config import beside, build_file, check_range
from sim.errors import ConfigError
from sim.folder import check_name
from sim.metrics import BY_NAME
from sim.params import param
from sim.policing.policy import Policy, load_policy
from sim.policing.units import KINDS
from sim.results import RunResult
from sim.scenario import Scenario, load_scenario
from sim.sizes import check_run, check_total, size_overrides, visitor_days

T = TypeVar("T")
DISTRIBUTIONS = ("uniform", "loguniform", "normal")
STATISTICS = ("full_city", "value", "reduction")


def _reported_bus_thefts(result: RunResult) -> float:
    incidents = result.incidents
    return float((incidents["on_bus"] & incidents["occurred"] & incidents["reported"]).sum())


TRIAL_PLACES = 20
"""A field trial's treated places: the most crowded ones, as `top_crowded` ranks them."""


def _thefts_at_trial_places(result: RunResult) -> float:
    places = result.places
    return float(places.loc[places["crowd_rank"] < TRIAL_PLACES, "thefts"].sum())


DERIVED: dict[str, tuple[str, Callable[[RunResult], float]]] = {
    "bus_thefts_reported": ("thefts on buses that the victim reported", _reported_bus_thefts),
    "thefts_at_top20_crowded": (
        f"thefts at the {TRIAL_PLACES} places planners expect most crowded (a trial's treated "
        "places; the same places in every run of a scenario)",
        _thefts_at_trial_places,
    ),
}
"""Statistics read from a run's incident table, beside the metrics of sim/metrics.py."""


@dataclass(frozen=True)
class Prior:
    """A parameter's prior: uniform or log-uniform on [low, high], or a normal cut to them."""

    distribution: str = param("uniform", choices=DISTRIBUTIONS, doc="the prior's family")
    low: float | None = param(None, doc="lower bound (required: the range the prior covers)")
    high: float | None = param(None, doc="upper bound (required)")
    mean: float | None = param(None, doc="mean of a normal prior")
    sd: float | None = param(None, low=0, doc="standard deviation of a normal prior")


@dataclass(frozen=True)
class Observed:
    """One observed statistic and the model quantity that stands for it."""

    name: str = param("", doc="what was observed, in words (required)")
    metric: str = param("", doc="a run metric (sim/metrics.py) or a derived statistic (required)")
    value: float | None = param(None, doc="the observed value (required)")
    scale: float | None = param(None, low=0, doc="the distance's unit for this statistic (> 0)")
    source: str = param("", doc="where the observed value comes from (required)")
    why: str = param("", doc="why this metric stands for the observation")
    statistic: str = param(
        "full_city",
        choices=STATISTICS,
        doc="full_city: a count divided by the run's scale (the whole city's count); "
        "value: the metric as it is; reduction: 1 - metric under `policy` / under `versus`",
    )
    policy: str = param("", doc="policy of its runs (default: the policy in force)")
    versus: str = param("", doc="the before policy of a reduction")
    set: dict[str, Any] = param(
        None, doc="scenario fields held fixed in its runs (over the particle's values)"
    )
    days: int | None = param(None, low=1, high=60, doc="days of its runs (default: the file's)")


@dataclass(frozen=True)
class Abc:
    """ABC-SMC settings (pyabc)."""

    population: int = param(40, low=2, doc="accepted particles per generation")
    generations: int = param(4, low=1, doc="at most this many generations")
    max_simulations: int = param(
        1000,
        low=1,
        doc="simulations in all, at most: a generation that would need more is stopped "
        "and not kept",
    )
    min_acceptance: float = param(
        0.02, low=0, high=1, doc="stop when a generation's acceptance rate falls below this"
    )


@dataclass(frozen=True)
class Targets:
    """A calibration: scenario, policy in force, runs, parameters with priors, observations."""

    name: str = param("calibration", doc="calibration name")
    description: str = param("", doc="one line")
    scenario: str = param("small-town", doc="built-in scenario name or path")
    policy: str = param("integrated", doc="the policy in force when the data were observed")
    scale: float | None = param(None, low=0, high=10, doc="override the scenario's scale")
    days: int | None = param(None, low=1, high=60, doc="override the scenario's days")
    seed: int = param(0, low=0, doc="base seed (particles' run seeds and the sampler's)")
    replications: int = param(1, low=1, doc="runs per particle; the statistic is their mean")
    params: dict[str, Prior] = param(None, doc="scenario field path -> prior")
    observed: tuple[Observed, ...] = param((), doc="the observed statistics")
    held_out: tuple[str, ...] = param(
        (),
        doc="names of observed statistics left out of the fit: the posterior predictive "
        "check predicts them (cross-validation)",
    )
    abc: Abc = param(Abc(), doc="ABC-SMC settings")
    check_draws: int = param(
        20, low=1, doc="posterior draws run on fresh seeds for the posterior predictive check"
    )
    source_file: str = field(default="", compare=False, metadata={"internal": True})

    @property
    def fitted(self) -> tuple[Observed, ...]:
        """The observed statistics the fit uses (all but the held-out ones)."""
        return tuple(o for o in self.observed if o.name not in self.held_out)

    def runs(self, observed: tuple[Observed, ...] | None = None) -> list[RunSet]:
        """The distinct runs behind `observed` (default: every statistic), in a fixed order."""
        seen: dict[RunSet, None] = {}
        for o in self.observed if observed is None else observed:
            for policy in (o.policy, o.versus) if o.statistic == "reduction" else (o.policy,):
                seen[self._run_set(o, policy)] = None
        return list(seen)

    def run_set(self, observed: Observed, which: str = "policy") -> RunSet:
        """The runs behind an observed statistic (`which`: its policy, or `versus`)."""
        return self._run_set(observed, observed.versus if which == "versus" else observed.policy)

    def _run_set(self, o: Observed, policy: str) -> RunSet:
        return RunSet(policy, tuple(sorted((o.set or {}).items())), o.days or self.days)


@dataclass(frozen=True)
class RunSet:
    """Runs of one policy with some scenario fields held fixed, for every particle."""

    policy: str
    fixed: tuple[tuple[str, Any], ...]
    days: int | None


def load_targets(path: str | Path) -> Targets:
    """Read and check a targets file (ConfigError naming file and field if it is bad)."""
    path = Path(path)
    file = str(path)
    targets = build_file(Targets, path, relative=("scenario", "policy"))
    check_name(targets.name, file)
    here = path.parent
    targets = replace(
        targets,
        observed=tuple(
            replace(
                o,
                policy=beside(here, o.policy or targets.policy),
                versus=beside(here, o.versus) if o.versus else "",
            )
            for o in targets.observed
        ),
    )
    if not targets.params:
        raise ConfigError(file, "params", "name at least one scenario field to fit")
    if not targets.observed:
        raise ConfigError(file, "observed", "give at least one observed statistic")
    base = size_overrides(targets.days, targets.scale)
    scenario = _load(file, "scenario", lambda: load_scenario(targets.scenario, base))
    if scenario.scale == 0:
        raise ConfigError(file, "scale", "must be above 0: a run at scale 0 has no visitors")
    _load(file, "policy", lambda: load_policy(targets.policy))
    for key, prior in targets.params.items():
        _check_prior(targets, key, prior, base)
    _check_size(targets, scenario)
    names = [o.name for o in targets.observed]
    for i, o in enumerate(targets.observed):
        _check_observed(targets, i, o, base)
        if o.name in names[:i]:
            raise ConfigError(file, f"observed[{i}].name", f"{o.name!r} is named twice")
    check_held_out(targets)
    return targets


def check_held_out(targets: Targets) -> None:
    """Held-out names must be observed statistics, and at least one must be left to fit."""
    names = [o.name for o in targets.observed]
    for name in targets.held_out:
        if name not in names:
            raise ConfigError(
                targets.source_file,
                "held_out",
                f"{name!r} is not an observed statistic (observed: {', '.join(names)})",
            )
    if not targets.fitted:
        raise ConfigError(
            targets.source_file, "held_out", "every statistic is held out: nothing is left to fit"
        )


def _check_size(targets: Targets, scenario: Scenario) -> None:
    """The calibration's runs must fit in memory and finish (at most its simulation budget)."""
    file = targets.source_file
    check_run(scenario, file, "scale")
    particles = max(targets.abc.max_simulations, targets.abc.population) + targets.check_draws
    runs = particles * len(targets.runs()) * targets.replications
    check_total(runs, visitor_days(scenario), file, "abc.max_simulations")


def _load(file: str, where: str, load: Callable[[], T]) -> T:
    """What `load` returns; its ConfigError is reported as this file's field `where`."""
    try:
        return load()
    except ConfigError as exc:
        raise ConfigError(file, where, str(exc)) from None


def _check_prior(targets: Targets, key: str, prior: Prior, base: dict[str, Any]) -> None:
    file, where = targets.source_file, f"params.{key}"
    for bound in ("low", "high"):
        if getattr(prior, bound) is None:
            raise ConfigError(file, f"{where}.{bound}", "required field is missing")
    check_range(file, where, prior.low, prior.high)
    if prior.distribution == "loguniform" and prior.low <= 0:
        raise ConfigError(file, where, "a log-uniform prior needs low > 0")
    if prior.distribution == "normal":
        if prior.mean is None or prior.sd is None or prior.sd <= 0:
            raise ConfigError(file, where, "a normal prior needs mean and sd > 0")
        if _normal_mass(prior) < MIN_PRIOR_MASS:
            raise ConfigError(
                file,
                where,
                f"the normal prior (mean {prior.mean:g}, sd {prior.sd:g}) has almost no mass "
                f"between low {prior.low:g} and high {prior.high:g}: move the mean or widen them",
            )
    elif prior.mean is not None or prior.sd is not None:
        raise ConfigError(
            file, where, f"mean and sd belong to a normal prior, not {prior.distribution}"
        )
    for value in (prior.low, prior.high):
        try:
            load_scenario(targets.scenario, base | {key: value})
        except ConfigError as exc:
            raise ConfigError(file, where, f"{value!r}: {exc.field}: {exc.message}") from None


MIN_PRIOR_MASS = 1e-6
"""A normal prior cut to its bounds needs at least this share of its mass between them."""


def _normal_mass(prior: Prior) -> float:
    """The share of a normal prior's mass between its low and high bounds."""

    def cdf(x: float) -> float:
        return 0.5 * math.erfc(-(x - prior.mean) / (prior.sd * math.sqrt(2.0)))

    return cdf(prior.high) - cdf(prior.low)


def _check_responding_cars(file: str, where: str, metric: str, source: str, policy: Policy) -> None:
    """A response-time statistic needs a car that answers calls under the policy."""
    if metric not in BY_NAME or "over responses" not in BY_NAME[metric].aggregation:
        return
    if not any(
        KINDS[d.unit].answers == "anywhere" and d.count and d.responds for d in policy.deploy
    ):
        raise ConfigError(
            file,
            where,
            f"{metric} is measured over car responses, and policy {source!r} has no patrol car "
            "that answers calls: the statistic could never be computed",
        )


def _check_observed(targets: Targets, i: int, o: Observed, base: dict[str, Any]) -> None:
    file, where = targets.source_file, f"observed[{i}]"
    for required in ("name", "metric", "value", "scale", "source"):
        if getattr(o, required) in (None, ""):
            raise ConfigError(file, f"{where}.{required}", "required field is missing")
    if o.scale <= 0:
        raise ConfigError(file, f"{where}.scale", "must be above 0 (it divides the distance)")
    if o.metric not in BY_NAME and o.metric not in DERIVED:
        known = ", ".join(sorted(DERIVED))
        raise ConfigError(
            file,
            f"{where}.metric",
            f"{o.metric!r} is neither a run metric (sim/metrics.py) nor a derived statistic "
            f"({known})",
        )
    if (
        o.statistic == "full_city"
        and o.metric in BY_NAME
        and not BY_NAME[o.metric].aggregation.startswith("count")
    ):
        raise ConfigError(
            file,
            f"{where}.statistic",
            f"full_city divides a count by the scale; {o.metric} is not a count "
            '(use statistic = "value")',
        )
    if o.statistic == "reduction":
        if not o.versus:
            raise ConfigError(file, f"{where}.versus", "a reduction needs the before policy")
        versus = _load(file, f"{where}.versus", lambda: load_policy(o.versus))
        _check_responding_cars(file, f"{where}.versus", o.metric, o.versus, versus)
    elif o.versus:
        raise ConfigError(file, f"{where}.versus", "only a reduction compares two policies")
    policy = _load(file, f"{where}.policy", lambda: load_policy(o.policy))
    _check_responding_cars(file, f"{where}.policy", o.metric, o.policy, policy)
    fixed = dict(o.set or {})
    days = {} if o.days is None else {"days": o.days}
    _load(file, f"{where}.set", lambda: load_scenario(targets.scenario, base | fixed | days))
