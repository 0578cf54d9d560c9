"""What `crowdsim optimise` writes: the best policy as TOML, tables, figures, a summary."""

from __future__ import annotations

import json
import math
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from sim.config import to_raw
from sim.files import atomic_write
from sim.optimiser.space import fresh_draws, search_draws, usage
from sim.optimiser.study import (
    REFERENCE_ON_SEARCH,
    Optimisation,
    fresh_seeds,
    search_seeds,
    selection_adjusted_level,
)
from sim.output import write_table
from sim.scenario import load_scenario
from sim.viz.figures import city_map, optimisation_history, pareto_front


def write_outputs(
    result: Optimisation, out: Path, fresh: pd.DataFrame, study: Any, record: dict[str, Any]
) -> list[Path]:
    """Every output file of a study (each lands whole or not at all); adds to the manifest."""
    space = result.space
    files = [
        out / "trials.parquet",
        out / "reevaluation.csv",
        out / "best_policy.toml",
        out / "manifest.json",
        out / "summary.md",
    ]
    write_table(result.trials, files[0])
    atomic_write(files[1], lambda tmp: result.reevaluation.to_csv(tmp, index=False))
    raw = to_raw(result.best_policy)
    raw["name"] = f"{space.name}-best"
    raw["description"] = f"best of {len(result.trials)} candidates of {space.name}"
    atomic_write(files[2], lambda tmp: tmp.write_text(tomli_w.dumps(raw)))
    record.update(
        space_file=space.source_file,
        search_seeds=search_seeds(space),
        fresh_seeds=fresh_seeds(space),
        search_draws=search_draws(space) if space.posterior else None,
        fresh_draws=fresh_draws(space) if space.posterior else None,
        versions={**record["versions"], "optuna": version("optuna")},
    )
    files += _figures(result, out, fresh)
    atomic_write(files[4], lambda tmp: tmp.write_text(summary(result, study, fresh)))
    return files


def _figures(result: Optimisation, out: Path, fresh: pd.DataFrame) -> list[Path]:
    space = result.space
    first = space.objectives[0]
    on_search = fresh[fresh["label"] == REFERENCE_ON_SEARCH]
    reference = on_search[first.metric].mean()
    files = optimisation_history(
        result.trials,
        first.metric,
        out / "history",
        minimise=first.direction == "minimize",
        reference=reference,
        title=f"{space.name}: {len(result.trials)} candidates, "
        f"{space.search_replications * space.draws} runs each"
        + (f" ({space.draws} posterior draws)" if space.posterior else ""),
    )
    if len(space.objectives) >= 2:
        second = space.objectives[1]
        ref_point = (reference, on_search[second.metric].mean())
        files += pareto_front(
            result.trials,
            first.metric,
            second.metric,
            out / "pareto",
            directions=(first.direction, second.direction),
            reference=ref_point,
            title=f"{space.name}: trade-off ({len(result.trials)} candidates)",
        )
    best = (
        result.reevaluation.sort_values("fresh_mean", kind="stable").iloc[0]["trial"]
        if first.direction == "minimize"
        else result.reevaluation.sort_values("fresh_mean", kind="stable").iloc[-1]["trial"]
    )
    mine = fresh[fresh["label"] == f"trial {int(best)}"]
    city = load_scenario(space.scenario).city_model()
    places = pd.DataFrame(
        {
            "x": city.x[city.places],
            "y": city.y[city.places],
            "label": np.asarray(city.label)[city.places],
            "visits": np.mean(np.stack(mine["place_visits"]), axis=0),
            "thefts": np.mean(np.stack(mine["place_thefts"]), axis=0),
        }
    )
    files += city_map(
        city,
        places,
        out / "best_deployment",
        police=json.loads(mine["police_layout"].iloc[0]),
        title=f"{space.name}: the best deployment (thefts per place, mean of "
        f"{len(mine)} fresh runs)",
        days=float(space.days),
    )
    return files


def _shown(folder: str) -> str:
    """A folder as the reader would type it: relative to the working directory if inside it."""
    path = Path(folder)
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else folder


def _reference_means(space: Any, fresh: pd.DataFrame) -> str:
    on_search = fresh[fresh["label"] == REFERENCE_ON_SEARCH]
    return ", ".join(f"`{o.metric}` {on_search[o.metric].mean():.4g}" for o in space.objectives)


def _interval(mean: float, low: float, high: float) -> str:
    if math.isnan(low):
        return f"{mean:.4g}"
    return f"{mean:.4g} [{low:.4g}, {high:.4g}]"


def summary(result: Optimisation, study: Any, fresh: pd.DataFrame) -> str:
    """summary.md: the search, the re-evaluation and what holds on fresh seeds."""
    space = result.space
    budget = {
        k: v
        for k, v in to_raw(space.budget).items()
        if k in ("officer_hours_per_day", "cars", "drones", "cost_per_day")
    }
    used = usage(space, result.best_policy)
    infeasible = sum(1 for t in study.trials if t.user_attrs.get("feasible") is False)
    lines = [
        f"# {space.name}: deployment search",
        "",
        f"{space.description}",
        "",
        f"- Scenario `{space.scenario}`, {space.days} day(s) per run"
        + (f", scale {space.scale:g}" if space.scale is not None else "")
        + ".",
        f"- Base policy `{Path(space.policy).stem}`; fields searched: "
        + ", ".join(f"`{k}`" for k in space.params)
        + ".",
        "- Budget (per day): "
        + (", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in budget.items()) or "none")
        + ".",
        "- Objectives: "
        + ", ".join(f"{o.direction} `{o.metric}`" for o in space.objectives)
        + f" (mean over the same {space.search_replications} search seeds for every candidate"
        + (
            f", under each of the same {space.draws} parameter sets drawn from the "
            f"calibration's posterior (`{_shown(space.posterior)}`)"
            if space.posterior
            else ", at the scenario's own parameter values"
        )
        + ").",
        f"- {len(result.trials)} candidates simulated ({infeasible} proposals broke the "
        "budget and were not run); sampler: "
        + ("TPE" if len(space.objectives) == 1 else "NSGA-II")
        + f", seed {space.sampler_seed}.",
        "",
        "## Re-evaluation on fresh seeds",
        "",
        f"The best {space.reevaluate.top} candidates of the search and the reference "
        f"`{Path(space.reference).stem}` were re-run on {space.reevaluate.replications} fresh "
        "seeds never used in the search"
        + (
            f", each under a fresh draw from the posterior of `{_shown(space.posterior)}`"
            if space.posterior
            else ""
        )
        + ", and compared with the reference paired by seed (fresh means: 95% t-intervals; "
        f"differences: {selection_adjusted_level(space):.1%} t-intervals, Bonferroni over the "
        f"{space.reevaluate.top} candidates, since the best of them is picked on these runs). "
        "The winner of many noisy trials looks better than it is: only the fresh-seed "
        "figures are evidence.",
        "",
        f"On the search seeds the reference scored {_reference_means(space, fresh)}: that is "
        "what the search means compare with.",
        "",
        "Candidates are numbered 1 to N among those simulated; Optuna's trial number (in "
        "brackets) also counts proposals over the budget or invalid, which were not run.",
        "",
        "| candidate (trial) | metric | search mean | fresh mean [95% CI] "
        "| vs reference [95% CI] | holds |",
        "|--:|---|--:|---|---|---|",
    ]
    lines += [
        f"| {r.candidate} ({r.trial}) | {r.metric} | {r.search_mean:.4g} | "
        f"{_interval(r.fresh_mean, r.fresh_ci_low, r.fresh_ci_high)} | "
        f"{_interval(r.difference_vs_reference, r.difference_ci_low, r.difference_ci_high)} | "
        f"{'yes' if r.holds else 'no'} |"
        for r in result.reevaluation.itertuples(index=False)
    ]
    verdict = (
        "The improvement over the reference holds on fresh seeds."
        if result.holds
        else "No difference from the reference was found on fresh "
        "seeds: the search's best is not shown to beat it."
    )
    lines += [
        "",
        f"**{verdict}**",
        "",
        "## The best policy (`best_policy.toml`)",
        "",
        "Chosen as the best on fresh seeds among the re-evaluated candidates:",
        "",
    ]
    lines += [f"- `{k}` = {v!r}" for k, v in result.best_overrides.items()]
    lines += [
        "",
        "A day of it uses "
        + ", ".join(f"{k.replace('_per_day', '').replace('_', ' ')} {v:g}" for k, v in used.items())
        + ".",
        "",
        "Figures: `history.png` (each candidate's objective and the best so far), "
        + ("`pareto.png` (the trade-off, reference marked), " if len(space.objectives) > 1 else "")
        + "`best_deployment.png` (the best policy on the city map).",
    ]
    return "\n".join(lines) + "\n"
