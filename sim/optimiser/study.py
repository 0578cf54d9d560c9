"""The search: Optuna with budget constraints, resumable, then a fresh-seed re-evaluation.

TPE for one objective, NSGA-II for several; a persistent study (SQLite) that resumes after
a kill; common random numbers across candidates; the best few re-run on fresh seeds
against a reference policy, paired by seed.

A candidate that breaks the budget is never simulated: it is told to Optuna as infeasible
(with its constraint values), so the sampler learns where the budget lies.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim.batch.executors import choose, runner
from sim.batch.progress import Progress
from sim.batch.runs import RunSpec, replication_seeds
from sim.batch.store import ResultStore
from sim.batch.work import rows_for
from sim.config import to_raw
from sim.errors import ConfigError
from sim.folder import claim
from sim.optimiser.space import (
    Space,
    fresh_draws,
    load_space,
    policy_with,
    search_draws,
    usage,
    violations,
)
from sim.output import check_database
from sim.policing.policy import Policy, load_policy
from sim.sweep.analysis import CONFIDENCE, mean_ci, paired_effects

FRESH_SEED_OFFSET = 1_000_003
"""Fresh seeds are spawned from seed + this, and checked to share none with the search."""
MAX_INFEASIBLE_IN_A_ROW = 2000
MAX_UNDEFINED_IN_A_ROW = 20
MAX_INVALID_IN_A_ROW = 200
"""Candidates in a row whose values combine into an invalid policy before the study stops."""
REFERENCE_ON_SEARCH = "reference, search seeds"
PENALTY = 1e12


@dataclass
class Optimisation:
    """The study's simulated candidates, the fresh-seed re-evaluation and the best policy."""

    space: Space
    trials: pd.DataFrame
    reevaluation: pd.DataFrame
    best_policy: Policy
    best_overrides: dict[str, Any]
    holds: bool
    files: list[Path] = field(default_factory=list)


def search_seeds(space: Space) -> list[int]:
    """The seeds every candidate runs on (common random numbers)."""
    return replication_seeds(space.seed, space.search_replications)


def fresh_seeds(space: Space) -> list[int]:
    """Seeds never used in the search, for the re-evaluation."""
    used = set(search_seeds(space))
    offset = FRESH_SEED_OFFSET
    while True:
        seeds = replication_seeds(space.seed + offset, space.reevaluate.replications)
        if not used & set(seeds):
            return seeds
        offset += FRESH_SEED_OFFSET


def run_specs(
    space: Space,
    policy: str,
    overrides: dict[str, Any],
    seeds: list[int],
    label: str,
    *,
    draws: list[dict[str, float]],
    paired_draws: bool = False,
) -> list[RunSpec]:
    """A candidate's runs: the same seeds under the same parameter sets for every candidate.

    Every seed under every draw (the search: common random numbers within a draw), or with
    `paired_draws` seed i under draw i (the re-evaluation: a fresh draw for each fresh seed).
    """
    pairs = (
        list(zip(draws, seeds, strict=True))
        if paired_draws
        else [(d, s) for d in draws for s in seeds]
    )
    return [
        RunSpec(
            space.scenario,
            policy,
            seed,
            replication=r,
            days=space.days,
            scale=space.scale,
            scenario_set=tuple(sorted(drawn.items())),
            policy_set=tuple(sorted(overrides.items())),
            label=label,
        )
        for r, (drawn, seed) in enumerate(pairs)
    ]


def _stored(run: Any, store: ResultStore, specs: list[RunSpec]) -> pd.DataFrame:
    """Rows of `specs` (stored, or run now), labelled as the specs are."""
    return rows_for(specs, run, store=store).assign(label=[s.label for s in specs])


def _optuna() -> Any:
    try:
        import optuna  # noqa: PLC0415 - optional [optimise] extra
    except ImportError:
        raise ConfigError(
            "optimise", "extra", "needs the [optimise] extra: pip install 'crowdsim[optimise]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _suggest(trial: Any, space: Space) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, spec in space.params.items():
        if spec.choices:
            values[key] = trial.suggest_categorical(key, list(spec.choices))
        elif spec.integer:
            values[key] = trial.suggest_int(key, int(spec.low), int(spec.high), log=spec.log)
        else:
            values[key] = trial.suggest_float(key, spec.low, spec.high, log=spec.log)
    return values


def _fingerprint(space: Space) -> str:
    return hashlib.sha256(
        json.dumps(to_raw(space), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]


def open_study(space: Space, out: Path) -> Any:
    """The study in `out/study.db`, created or resumed; a stale running trial is failed."""
    optuna = _optuna()
    objectives = space.objectives
    sampler_class = (
        optuna.samplers.TPESampler if len(objectives) == 1 else optuna.samplers.NSGAIISampler
    )
    sampler = sampler_class(seed=space.sampler_seed)
    path = out / "study.db"
    if path.exists():
        check_database(path, f"move {path} aside (it may hold finished trials), then run again")
    storage = f"sqlite:///{path.resolve()}"
    study = optuna.create_study(
        study_name=space.name,
        storage=storage,
        load_if_exists=True,
        directions=[o.direction for o in objectives],
        sampler=sampler,
    )
    stamp = study.user_attrs.get("space")
    if stamp is None:
        study.set_user_attr("space", _fingerprint(space))
    elif stamp != _fingerprint(space):
        raise ConfigError(
            "--out", str(out), "holds a study of another space file; choose another --out"
        )
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)  # left by a killed run
    return study


def simulated(study: Any) -> list[Any]:
    """Completed trials that were simulated (within the budget)."""
    return [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state.name == "COMPLETE" and t.user_attrs.get("feasible")
    ]


def search(
    space: Space,
    out: Path,
    *,
    trials: int | None = None,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> Any:
    """Run (or resume) the study until `trials` candidates have been simulated."""
    optuna = _optuna()
    study = open_study(space, out)
    target = trials or space.trials
    base = to_raw(load_policy(space.policy))
    seeds, draws = search_seeds(space), search_draws(space)
    store = ResultStore(out)
    executor = choose(executor, workers, scheduler)
    done = len(simulated(study))
    with (
        runner(executor, workers, scheduler) as run,
        Progress(
            target,
            label=f"optimise {space.name}",
            unit="trial",
            initial=min(done, target),
            show_bar=progress,
        ) as bar,
    ):
        streaks = Streaks(space.source_file)
        while done < target:
            trial = study.ask()
            overrides = _screened(trial, study, space, base, streaks)
            if overrides is None:
                continue
            rows = _stored(
                run,
                store,
                run_specs(
                    space, space.policy, overrides, seeds, f"trial {trial.number}", draws=draws
                ),
            )
            values = _objective_values(trial, rows, space)
            trial.set_user_attr("feasible", True)
            if any(math.isnan(v) for v in values):  # e.g. no response at all: undefined
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                streaks.add("undefined")
                continue
            streaks.reset()
            study.tell(trial, values)
            done += 1
            best = _best_value(study, space)
            bar.update(detail=f"{space.objectives[0].metric} {values[0]:.4g} (best {best:.4g})")
    return study


def _screened(
    trial: Any, study: Any, space: Space, base: dict[str, Any], streaks: Streaks
) -> dict[str, Any] | None:
    """The trial's overrides if it is a valid policy within the budget, else None (told).

    An invalid combination of valid values is pruned with its reason; a candidate over the
    budget gets the worst score, and its constraints teach the sampler where the budget lies.
    """
    optuna = _optuna()
    overrides = _suggest(trial, space)
    try:
        policy = policy_with(base, overrides, space.source_file)
    except ConfigError as exc:
        trial.set_user_attr("invalid", f"{exc.field}: {exc.message}")
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        streaks.add("invalid", f"{exc.field}: {exc.message}")
        return None
    over = violations(space, policy)
    for name, amount in (over or {"none": 0.0}).items():
        trial.set_constraint(name, amount)
    for key, value in usage(space, policy).items():
        trial.set_user_attr(key, value)
    if any(v > 0 for v in over.values()):
        trial.set_user_attr("feasible", False)
        study.tell(
            trial, [PENALTY if o.direction == "minimize" else -PENALTY for o in space.objectives]
        )
        streaks.add("infeasible")
        return None
    return overrides


class Streaks:
    """Candidates in a row stopped at each stage (invalid, over budget, undefined objective).

    A sampler that keeps proposing candidates stopped at one stage would search for ever: a
    candidate that passes a stage ends that stage's streak, and too long a streak stops the
    study.
    """

    LIMITS: ClassVar[dict[str, tuple[int, str, str]]] = {
        "invalid": (MAX_INVALID_IN_A_ROW, "params", "were invalid policies"),
        "infeasible": (MAX_INFEASIBLE_IN_A_ROW, "budget", "were over the budget"),
        "undefined": (
            MAX_UNDEFINED_IN_A_ROW,
            "objectives",
            "had an undefined objective (e.g. a response time where no car responds): "
            "choose another metric",
        ),
    }

    def __init__(self, source: str) -> None:
        self.source = source
        self.length = dict.fromkeys(self.LIMITS, 0)

    def add(self, kind: str, detail: str = "") -> None:
        """One more candidate stopped at `kind` (the stages before it passed)."""
        for stage in self.LIMITS:
            if stage == kind:
                break
            self.length[stage] = 0
        self.length[kind] += 1
        limit, field_name, words = self.LIMITS[kind]
        if self.length[kind] >= limit:
            last = f" (the last: {detail})" if detail else ""
            raise ConfigError(
                self.source, field_name, f"{self.length[kind]} candidates in a row {words}{last}"
            )

    def reset(self) -> None:
        """A candidate passed every stage and was scored."""
        self.length = dict.fromkeys(self.LIMITS, 0)


def _objective_values(trial: Any, rows: pd.DataFrame, space: Space) -> list[float]:
    """Each objective's mean over the search seeds (NaN if no seed defined it), sd recorded."""
    values = []
    for objective in space.objectives:
        column = rows[objective.metric].to_numpy(dtype=float)
        values.append(float(np.nanmean(column)) if np.isfinite(column).any() else math.nan)
        trial.set_user_attr(
            f"sd:{objective.metric}",
            float(np.nanstd(column, ddof=1)) if np.isfinite(column).sum() > 1 else math.nan,
        )
    return values


def _best_value(study: Any, space: Space) -> float:
    values = [t.values[0] for t in simulated(study)]
    return (min if space.objectives[0].direction == "minimize" else max)(values)


def trials_table(study: Any, space: Space) -> pd.DataFrame:
    """One row per simulated candidate: its number, fields, objective means and usage.

    `candidate` counts the simulated candidates (1..N, the study's trial count); `trial` is
    Optuna's number, which also counts proposals never simulated (over the budget, invalid).
    """
    records = []
    for candidate, t in enumerate(simulated(study), start=1):
        record: dict[str, Any] = {"candidate": candidate, "trial": t.number}
        record.update({f"param:{k}": v for k, v in t.params.items()})
        for objective, value in zip(space.objectives, t.values, strict=True):
            record[objective.metric] = value
            record[f"sd:{objective.metric}"] = t.user_attrs.get(f"sd:{objective.metric}")
        for key in ("officer_hours_per_day", "cars", "drones", "cost_per_day"):
            record[key] = t.user_attrs.get(key)
        records.append(record)
    return pd.DataFrame(records)


def selection_adjusted_level(space: Space) -> float:
    """The confidence of the differences to the reference.

    Bonferroni over the candidates re-evaluated: the best of them is picked on the same
    fresh runs.
    """
    return 1.0 - (1.0 - CONFIDENCE) / space.reevaluate.top


def reevaluate(
    space: Space,
    study: Any,
    out: Path,
    *,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The best `top` candidates and the reference on fresh seeds, paired by seed.

    Returns the table (one row per candidate and objective: search mean, fresh mean with
    its interval, the paired difference to the reference with its interval, whether the
    improvement holds) and the runs (fresh, plus the reference on the search seeds).
    """
    first = space.objectives[0]
    ranked = sorted(
        simulated(study), key=lambda t: t.values[0], reverse=first.direction == "maximize"
    )[: space.reevaluate.top]
    seeds, draws = fresh_seeds(space), fresh_draws(space)
    fresh = {"draws": draws, "paired_draws": True}
    specs = run_specs(space, space.reference, {}, seeds, "reference", **fresh)
    # the reference on the search seeds too: what the candidates' search means compare with
    specs += run_specs(
        space,
        space.reference,
        {},
        search_seeds(space),
        REFERENCE_ON_SEARCH,
        draws=search_draws(space),
    )
    for t in ranked:
        specs += run_specs(space, space.policy, dict(t.params), seeds, f"trial {t.number}", **fresh)
    executor = choose(executor, workers, scheduler)
    with runner(executor, workers, scheduler) as run:
        rows = _stored(run, ResultStore(out), specs)
    metrics = [o.metric for o in space.objectives]
    level = selection_adjusted_level(space)
    effects = paired_effects(
        rows[rows["label"] != REFERENCE_ON_SEARCH], metrics, "reference", confidence=level
    )
    candidates = {t.number: i for i, t in enumerate(simulated(study), start=1)}
    records = []
    for t in ranked:
        label = f"trial {t.number}"
        for objective, search_value in zip(space.objectives, t.values, strict=True):
            mine = rows.loc[rows["label"] == label, objective.metric]
            mean, low, high, n = mean_ci(mine)
            effect = effects[
                (effects["label"] == label) & (effects["metric"] == objective.metric)
            ].iloc[0]
            better = (
                effect["ci_high"] < 0 if objective.direction == "minimize" else effect["ci_low"] > 0
            )
            records.append(
                {
                    "candidate": candidates[t.number],
                    "trial": t.number,
                    "metric": objective.metric,
                    "direction": objective.direction,
                    "search_mean": search_value,
                    "fresh_mean": mean,
                    "fresh_ci_low": low,
                    "fresh_ci_high": high,
                    "fresh_runs": n,
                    "difference_vs_reference": effect["difference"],
                    "difference_ci_low": effect["ci_low"],
                    "difference_ci_high": effect["ci_high"],
                    "difference_ci_level": level,
                    "holds": bool(better),
                }
            )
    return pd.DataFrame(records), rows


def optimise(
    space: Space | str | Path,
    out: Path,
    *,
    trials: int | None = None,
    workers: int = 1,
    executor: str | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> Optimisation:
    """Search, re-evaluate on fresh seeds, and write the study's outputs to `out`."""
    if not isinstance(space, Space):
        space = load_space(space)
    out = Path(out)
    with claim(out, command="optimise", settings=to_raw(space), force=force) as record:
        if record["replaces"]:  # forced over other settings or model: start afresh, never mix
            (out / "study.db").unlink(missing_ok=True)
        return _optimise(
            space,
            out,
            record,
            trials=trials,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            progress=progress,
        )


def _optimise(
    space: Space,
    out: Path,
    record: dict[str, Any],
    *,
    trials: int | None,
    workers: int,
    executor: str | None,
    scheduler: str | None,
    progress: bool | None,
) -> Optimisation:
    from sim.optimiser.report import write_outputs  # noqa: PLC0415 - figures only here

    study = search(
        space,
        out,
        trials=trials,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    table = trials_table(study, space)
    reevaluation, fresh = reevaluate(
        space, study, out, workers=workers, executor=executor, scheduler=scheduler
    )
    first = reevaluation[reevaluation["metric"] == space.objectives[0].metric]
    pick = first.sort_values(
        "fresh_mean", ascending=space.objectives[0].direction == "minimize", kind="stable"
    ).iloc[0]
    trial = study.trials[int(pick["trial"])]
    overrides = dict(trial.params)
    best = policy_with(to_raw(load_policy(space.policy)), overrides, space.source_file)
    result = Optimisation(space, table, reevaluation, best, overrides, bool(pick["holds"]))
    result.files = write_outputs(result, out, fresh, study, record)
    return result
