"""Experiment files: scenario, policies, factors (full factorial) and a space-filling block.

Any scenario or policy field is addressable by its dotted path, prefixed `scenario.` or
`policy.` (`policy.deploy.0.dwell_min`). A factor whose levels are tables is composite: each
level sets several paths at once (e.g. an officer mix at a fixed budget). A baseline that is
not among the policies runs at every scenario setting, without the policy factors. Every
design point is validated when the file is loaded, so a typo fails before the first run,
naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import types
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.batch.runs import RunSpec, replication_seeds, validate
from sim.config import beside, build_file, check_range
from sim.errors import ConfigError
from sim.folder import check_name
from sim.metrics import BY_NAME
from sim.params import param
from sim.policing.cost import budget_overrides
from sim.policing.policy import Policy, load_policy
from sim.scenario import Scenario, load_scenario
from sim.sizes import check_run, check_total, size_overrides, visitor_days

PREFIXES = ("scenario.", "policy.")


@dataclass(frozen=True)
class SpaceSpec:
    """A space-filling sample over parameter ranges (scipy.stats.qmc)."""

    method: str = param(
        "lhs",
        choices=("lhs", "sobol", "saltelli"),
        doc="Latin hypercube, Sobol sequence, or Saltelli's design for Sobol "
        "sensitivity indices (needs the [sa] extra; samples x (d + 2) points)",
    )
    samples: int = param(16, low=1, doc="number of points (a power of 2 suits Sobol and Saltelli)")
    seed: int = param(0, low=0, doc="seed of the sampler")
    ranges: dict[str, tuple[float, ...]] = param(None, length=2, doc="dotted path -> [low, high]")
    integers: tuple[str, ...] = param((), doc="paths whose sampled values are rounded")
    logs: tuple[str, ...] = param(
        (),
        doc="paths sampled uniformly on a log scale (ranges that span orders of magnitude); "
        "their Sobol indices are of the logarithm",
    )


CONTRAST_KINDS = ("difference", "prevented_per_100_officer_hours")


@dataclass(frozen=True)
class Contrast:
    """A policy effect computed at every point of the design, paired by seed.

    difference: metric under `policy` minus under `versus`. prevented_per_100_officer_hours:
    (metric under `versus` - under `policy`) per 100 of the policy's officer-hours. With
    `minus`, the same effect of `minus` is subtracted (which of two policies does more).
    """

    name: str = param("", doc="the effect's name (a column of contrasts.csv; required)")
    policy: str = param("", doc="policy of the effect (one of the experiment's; required)")
    versus: str = param("", doc="what it is compared with (default: the baseline)")
    minus: str = param("", doc="another policy whose effect is subtracted (optional)")
    metric: str = param("theft_rate_per_1000_visitors", doc="the run metric compared")
    kind: str = param("difference", choices=CONTRAST_KINDS, doc="how the effect is expressed")
    doc: str = param("", doc="what the effect means, in words (figures and reports)")


@dataclass(frozen=True)
class Experiment:
    """What to run: points = policies x factor levels x space samples; R replications each."""

    name: str = param("experiment", doc="name; results go to out/<name>/ by default")
    description: str = param("", doc="one line")
    scenario: str = param("small-town", doc="built-in scenario name or path")
    policies: tuple[str, ...] = param(("none",), doc="policy names or paths")
    baseline: str = param(
        "",
        doc="policy the others are compared with (default: the first "
        "policy); if not among them, it runs at every scenario setting",
    )
    replications: int = param(10, low=1, doc="seeds per design point (the same at every point)")
    seed: int = param(0, low=0, doc="base seed: replication r uses SeedSequence(seed) child r")
    days: int | None = param(None, low=1, high=60, doc="override the scenario's days")
    scale: float | None = param(None, low=0, high=10, doc="override the scenario's scale")
    budget: float | None = param(
        None,
        unit="officer-hours/day",
        low=1,
        doc="scale every staffed policy to this many officer-hours a day (as compare "
        "--budget); the factors' policy fields apply after it",
    )
    factors: dict[str, tuple[Any, ...]] = param(
        None, doc="dotted path -> levels (factorial); or name -> tables of path = value"
    )
    space: SpaceSpec | None = param(None, doc="space-filling block")
    response: str = param("theft_rate_per_1000_visitors", doc="metric the figures plot")
    contrasts: tuple[Contrast, ...] = param(
        (), doc="policy effects computed at every point ([[contrasts]]; Sobol indices each)"
    )
    buffer_m: float = param(
        400.0,
        unit="m",
        low=0,
        doc="walking distance of the buffer ring around treated places (displacement analysis)",
    )
    source_file: str = field(default="", compare=False, metadata={"internal": True})

    @property
    def baseline_policy(self) -> str:
        """The comparison policy."""
        return self.baseline or self.policies[0]


def load_experiment(path: str | Path, scale: float | None = None) -> Experiment:
    """Read and validate an experiment file; `scale` overrides the file's (for quick runs)."""
    experiment = build_file(Experiment, path, relative=("scenario", "policies", "baseline"))
    check_name(experiment.name, str(path))
    experiment = _resolved_contrasts(experiment, Path(path).parent)
    if scale is not None:
        experiment = replace(experiment, scale=scale)
    if not experiment.policies:
        raise ConfigError(str(path), "policies", "name at least one policy")
    for name, levels in (experiment.factors or {}).items():
        if not levels:
            raise ConfigError(str(path), f"factors.{name}", "a factor needs at least one level")
        for key in factor_paths(name, levels):
            if not key.startswith(PREFIXES):
                raise ConfigError(
                    str(path),
                    f"factors.{name}",
                    f"{key!r}: a path starts with 'scenario.' or 'policy.'",
                )
    for key, (low, high) in ((experiment.space.ranges or {}) if experiment.space else {}).items():
        if not key.startswith(PREFIXES):
            raise ConfigError(
                str(path), f"space.ranges.{key}", "a path starts with 'scenario.' or 'policy.'"
            )
        check_range(str(path), f"space.ranges.{key}", low, high)
    if experiment.space:
        _check_space_lists(experiment, str(path))
    _check_size(experiment)
    specs = design(experiment)
    for spec in {s.point: s for s in specs}.values():  # one run spec per point suffices
        _validate_point(experiment, spec)
    return experiment


def _check_space_lists(experiment: Experiment, file: str) -> None:
    """Integer and log-scale paths must be ranges; a log-scale range must stay above 0."""
    ranges = experiment.space.ranges or {}
    for listed in ("integers", "logs"):
        for i, key in enumerate(getattr(experiment.space, listed)):
            if key not in ranges:
                raise ConfigError(
                    file,
                    f"space.{listed}[{i}]",
                    f"{key!r} is not a path of space.ranges; allowed: {', '.join(ranges)}",
                )
    for key in experiment.space.logs:
        if ranges[key][0] <= 0:
            raise ConfigError(file, f"space.ranges.{key}", "a log-scale range needs low > 0")


def _resolved_contrasts(experiment: Experiment, here: Path) -> Experiment:
    """Contrasts with their policies resolved like the experiment's, each checked."""
    file = experiment.source_file
    contrasts = []
    for i, given in enumerate(experiment.contrasts):
        where = f"contrasts[{i}]"
        if not given.name or not given.policy:
            missing = "name" if not given.name else "policy"
            raise ConfigError(file, f"{where}.{missing}", "required field is missing")
        c = replace(
            given,
            policy=beside(here, given.policy),
            versus=beside(here, given.versus) if given.versus else experiment.baseline_policy,
            minus=beside(here, given.minus) if given.minus else "",
        )
        runs = set(experiment.policies) | {experiment.baseline_policy}
        for role in ("policy", "versus", "minus"):
            named = getattr(c, role)
            if named and named not in runs:
                raise ConfigError(
                    file, f"{where}.{role}", f"{named!r} is not one of the experiment's policies"
                )
        if c.metric not in BY_NAME:
            raise ConfigError(file, f"{where}.metric", f"{c.metric!r} is not a run metric")
        if [x.name for x in contrasts].count(c.name):
            raise ConfigError(file, f"{where}.name", f"{c.name!r} is named twice")
        contrasts.append(c)
    if contrasts and not (experiment.space and experiment.space.ranges):
        raise ConfigError(
            file, "contrasts", "contrasts are computed per point of a space-filling block"
        )
    return replace(experiment, contrasts=tuple(contrasts))


def planned_runs(experiment: Experiment) -> int:
    """An upper bound of the design's runs, counted without building it."""
    levels = [len(v) for v in (experiment.factors or {}).values()]
    samples = 1
    if experiment.space and experiment.space.ranges:
        d = len(experiment.space.ranges)
        samples = experiment.space.samples * (
            (d + 2) if experiment.space.method == "saltelli" else 1
        )
    grid = int(np.prod(levels)) if levels else 1
    return (len(experiment.policies) + 1) * grid * samples * experiment.replications


def _check_size(experiment: Experiment) -> None:
    """Refuse a design too large to hold, or a run too large for memory, before building it."""
    file = experiment.source_file
    check_total(planned_runs(experiment), 0.0, file, "replications")
    try:
        scenario = load_scenario(
            experiment.scenario, size_overrides(experiment.days, experiment.scale)
        )
    except ConfigError as exc:
        raise ConfigError(file, "scenario", str(exc)) from None
    check_run(scenario, file, "scale")


def run_visitor_days(experiment: Experiment) -> float:
    """Visitor-days of one run at the experiment's scale and days (factors aside)."""
    sizes = size_overrides(experiment.days, experiment.scale)
    return visitor_days(load_scenario(experiment.scenario, sizes))


def describe(path: str) -> str:
    """A factor's path in words with its unit, from the schema's own field documentation.

    `policy.deploy.0.dwell_min` -> "stop length at each point or place when moving (min),
    deployment 0"; a path the schema does not document keeps its last part, in words.
    """
    scope, _, rest = path.partition(".")
    current: Any = {"scenario": Scenario, "policy": Policy}.get(scope)
    meta: dict[str, Any] = {}
    groups = []
    for part in rest.split("."):
        if current is None:
            break
        if part.isdigit():
            groups.append(part)
            current = typing.get_args(current)[0] if typing.get_args(current) else None
            continue
        fields = (
            {f.name: f for f in dataclasses.fields(current)}
            if dataclasses.is_dataclass(current)
            else {}
        )
        if part not in fields:
            current = None
            break
        meta = dict(fields[part].metadata)
        hint = typing.get_type_hints(current)[part]
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        current = options[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) else hint
    words = (meta.get("doc") or path.rsplit(".", 1)[-1].replace("_", " ")).split(" (")[0]
    unit = f" ({meta['unit']})" if meta.get("unit") else ""
    where = f", deployment {groups[0]}" if scope == "policy" and groups else ""
    return f"{words}{unit}{where}"


def _validate_point(experiment: Experiment, spec: RunSpec) -> None:
    """Load a point's scenario and policy; a failure names the experiment key behind it."""
    try:
        validate(spec)
    except ConfigError as exc:
        field = _experiment_key(experiment, spec, exc.field) or exc.field
        raise ConfigError(
            experiment.source_file,
            field,
            f"{exc.message} (design point {spec.point}: {spec.label})",
        ) from None


def _experiment_key(experiment: Experiment, spec: RunSpec, field: str) -> str | None:
    """The factor or range of the experiment file that set `field`, if one did."""
    dotted = re.sub(r"\[(\d+)\]", r".\1", field)
    for prefix, pairs in (("scenario.", spec.scenario_set), ("policy.", spec.policy_set)):
        for key, _ in pairs:
            if dotted != key:
                continue
            path = prefix + key
            for name, levels in (experiment.factors or {}).items():
                if name == path or any(isinstance(lv, dict) and path in lv for lv in levels):
                    return f"factors.{name}"
            return f"space.ranges.{path}"
    return None


def points(experiment: Experiment) -> list[dict[str, Any]]:
    """Factor levels of every design point except the policy (factorial x space)."""
    factors = experiment.factors or {}
    grid = [
        dict(zip(factors, levels, strict=True)) for levels in itertools.product(*factors.values())
    ] or [{}]
    samples = _space_samples(experiment.space) if experiment.space else [{}]
    return [{**g, **s} for g in grid for s in samples]


LEVEL_NAME = "name"
"""A composite level may name itself (`{ name = "20 posts, 0 teams", ... }`) for figures."""


def factor_paths(name: str, levels: tuple[Any, ...]) -> list[str]:
    """The dotted paths a factor sets: its own name, or its composite levels' keys."""
    return [k for level in levels if isinstance(level, dict) for k in level if k != LEVEL_NAME] or [
        name
    ]


def in_words(path: str) -> str:
    """A dotted path's last two parts in words, for figures (`offenders per 100k visitors`)."""
    return " ".join(path.split(".")[-2:]).replace("_", " ")


def paths_of(levels: dict[str, Any]) -> dict[str, Any]:
    """Dotted path -> value set by a point's factor levels (composite levels expanded)."""
    out: dict[str, Any] = {}
    for name, level in levels.items():
        if isinstance(level, dict):
            out.update({k: v for k, v in level.items() if k != LEVEL_NAME})
        else:
            out[name] = level
    return out


def level_value(level: Any, levels: tuple[Any, ...]) -> Any:
    """How a level is recorded: its value, or for a composite level its index."""
    return levels.index(level) if isinstance(level, dict) else level


SAMPLE_KEY = "space.sample"
"""Recorded with each space-filling point: its index in the sampler's order."""


def _space_samples(space: SpaceSpec) -> list[dict[str, Any]]:
    ranges = space.ranges or {}
    if not ranges:
        return [{}]
    names = list(ranges)
    logs = np.array([n in space.logs for n in names])
    lows = np.array([ranges[n][0] for n in names], dtype=float)
    highs = np.array([ranges[n][1] for n in names], dtype=float)
    lows[logs], highs[logs] = np.log(lows[logs]), np.log(highs[logs])
    if space.method == "saltelli":
        values = saltelli_sample(names, lows, highs, space.samples, space.seed)
    else:
        sampler = (
            qmc.LatinHypercube(d=len(names), seed=space.seed)
            if space.method == "lhs"
            else qmc.Sobol(d=len(names), scramble=True, seed=space.seed)
        )
        values = qmc.scale(sampler.random(space.samples), lows, highs)
    values[:, logs] = np.exp(values[:, logs])
    out = []
    for index, row in enumerate(values):
        sample: dict[str, Any] = {SAMPLE_KEY: index}
        for name, value in zip(names, row.tolist(), strict=True):
            sample[name] = round(value) if name in space.integers else value
        out.append(sample)
    return out


def sensitivity_problem(names: list[str], lows: np.ndarray, highs: np.ndarray) -> dict:
    """SALib's description of the parameter space."""
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[float(lo), float(hi)] for lo, hi in zip(lows, highs, strict=True)],
    }


def saltelli_sample(
    names: list[str], lows: np.ndarray, highs: np.ndarray, n: int, seed: int
) -> np.ndarray:
    """Saltelli's design (SALib), first-order and total indices only: n x (d + 2) points."""
    try:
        from SALib.sample import sobol  # noqa: PLC0415 - optional [sa] extra
    except ImportError:
        raise ConfigError(
            "space.method", "method", "'saltelli' needs the [sa] extra: pip install 'crowdsim[sa]'"
        ) from None
    return sobol.sample(
        sensitivity_problem(names, lows, highs), n, calc_second_order=False, seed=seed
    )


def design(experiment: Experiment) -> list[RunSpec]:
    """Every run, in design order: point-major, replication-minor; CRN across points."""
    seeds = replication_seeds(experiment.seed, experiment.replications)
    settings = points(experiment)
    runs: list[tuple[str, dict[str, Any]]] = [
        (p, lv) for p in experiment.policies for lv in settings
    ]
    baseline = experiment.baseline_policy
    if baseline not in experiment.policies:
        scenario_only = []
        for levels in settings:
            kept = {
                k: v
                for k, v in levels.items()
                if all(p.startswith("scenario.") for p in paths_of({k: v}))
            }
            if kept not in scenario_only:
                scenario_only.append(kept)
        runs = [(baseline, lv) for lv in scenario_only] + runs
    factor_levels = {**(experiment.factors or {})}
    scaled = _budget_counts(experiment)
    specs = []
    for point, (policy, levels) in enumerate(runs):
        assigned = {
            **{f"policy.{k}": v for k, v in scaled.get(policy, {}).items()},
            **paths_of(levels),
        }
        scenario_set = tuple(
            sorted(
                (k.removeprefix("scenario."), v)
                for k, v in assigned.items()
                if k.startswith("scenario.")
            )
        )
        policy_set = tuple(
            sorted(
                (k.removeprefix("policy."), v)
                for k, v in assigned.items()
                if k.startswith("policy.")
            )
        )
        recorded = tuple(
            sorted(
                (name, level_value(level, factor_levels[name]) if name in factor_levels else level)
                for name, level in levels.items()
            )
        )
        label = policy + "".join(f" {k}={_short(v)}" for k, v in recorded)
        for r, seed in enumerate(seeds):
            specs.append(
                RunSpec(
                    experiment.scenario,
                    policy,
                    seed,
                    replication=r,
                    point=point,
                    days=experiment.days,
                    scale=experiment.scale,
                    scenario_set=scenario_set,
                    policy_set=policy_set,
                    label=label,
                    factors=recorded,
                )
            )
    return specs


def _budget_counts(experiment: Experiment) -> dict[str, dict[str, int]]:
    """Unit counts (`deploy.i.count`) that bring each policy to the experiment's budget."""
    if experiment.budget is None:
        return {}
    scenario = load_scenario(experiment.scenario)
    checkpoints = int(scenario.city_model().checkpoint.sum())
    names = {*experiment.policies, experiment.baseline_policy}
    return {
        name: budget_overrides(load_policy(name), checkpoints, experiment.budget) for name in names
    }


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def shard(specs: list[RunSpec], text: str | None) -> list[RunSpec]:
    """The deterministic slice `i/N` of the design (every N-th run from the i-th)."""
    if not text:
        return specs
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError("--shard", "shard", f"{text!r}: expected i/N, e.g. 2/8") from None
    if not 1 <= i <= n:
        raise ConfigError("--shard", "shard", f"{text!r}: need 1 <= i <= N")
    return specs[i - 1 :: n]
