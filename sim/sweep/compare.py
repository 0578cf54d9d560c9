"""`crowdsim compare`: every policy under the same seeds, summarised against a baseline."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.executors import choose, run_all
from sim.batch.progress import log
from sim.batch.runs import RunSpec, replication_seeds, validate
from sim.batch.store import ResultStore, write_flat
from sim.batch.work import rows_for
from sim.calibration.posterior import check_draws, load_posterior
from sim.config import to_raw
from sim.errors import ConfigError
from sim.files import atomic_write
from sim.folder import claim
from sim.metrics import BY_NAME
from sim.output import write_table
from sim.policing.cost import budget_overrides
from sim.policing.policy import load_policy
from sim.scenario import Scenario, load_scenario
from sim.sizes import check_run, check_total, size_overrides, visitor_days
from sim.sweep.analysis import paired_effects, posterior_effects, separation, summarize
from sim.viz.figures import city_map, effects, time_series

RATE = "theft_rate_per_1000_visitors"
COMPARED = (
    "theft_rate_per_1000_visitors",
    "thefts_occurred",
    "arrests_total",
    "response_all_mean_min",
    "police_visibility",
    "officer_hours",
)
"""What the comparison table shows, in this order (titles from the metric registry)."""
PER_100_OFFICER_HOURS = "thefts prevented per 100 officer-hours"
UNADJUSTED = (
    "the intervals in the table are each 95% on their own (not adjusted for comparing "
    "several policies); the verdict on the best is the stricter, adjusted test, so an effect "
    "interval wholly below zero does not by itself make a policy the best"
)


@dataclass(kw_only=True)
class Comparison:
    """The runs, the per-policy summary, the paired effects and the files written."""

    rows: pd.DataFrame
    summary: pd.DataFrame
    effects: pd.DataFrame
    baseline: str
    best: str
    """The policy with the lowest mean theft rate (whether or not it separates)."""
    separated: bool
    """Whether `best` is the best, the choice accounted for (`analysis.separation`)."""
    verdict: str
    files: list[Path]
    posterior_effects: pd.DataFrame | None = None
    """Under a calibration's posterior: effects with intervals holding parameter and
    run-to-run uncertainty, and the share of each (`analysis.posterior_effects`)."""
    draws: pd.DataFrame | None = None
    """The posterior draws the policies ran under (one row per draw)."""
    cautions: tuple[str, ...] = ()
    """Warnings a reader needs: few replications, few thefts behind a rate."""

    scale: float = 1.0
    """The runs' scale (visitors and offenders as a share of the scenario's)."""
    days: int = 1
    """Days per run."""
    budget: float | None = None
    """Officer-hours a day every staffed policy was scaled to (`--budget`), if any."""

    def per_officer_hours(self) -> dict[str, tuple[float, float, float]]:
        """Thefts prevented (vs the baseline) per 100 officer-hours, with the paired interval.

        A policy's officer-hours are fixed by its schedule, so the interval of the paired
        difference in thefts scales exactly; policies without officers are left out.
        """
        s = self.summary
        hours = s[s["metric"] == "officer_hours"].set_index("label")["mean"]
        e = self.effects[self.effects["metric"] == "thefts_occurred"]
        out = {}
        for _, r in e.iterrows():
            per = 100.0 / hours.get(r["label"], 0.0) if hours.get(r["label"], 0.0) > 0 else 0.0
            if per:
                out[r["label"]] = (-r["difference"] * per, -r["ci_high"] * per, -r["ci_low"] * per)
        return out

    def table(self) -> pd.DataFrame:
        """The printed table: mean [95% interval] per metric, the effect on the theft rate."""
        s = self.summary
        cells: dict[str, dict[str, str]] = {}
        for _, r in s.iterrows():
            cells.setdefault(r["label"], {})[BY_NAME[r["metric"]].title] = _fmt(
                r["mean"], r["ci_low"], r["ci_high"]
            )
        column = f"thefts/1000 vs {self.baseline}"
        post = self.posterior_effects
        if post is None:
            e = self.effects
            for _, r in e[e["metric"] == RATE].iterrows():
                cells[r["label"]][column] = _fmt(r["difference"], r["ci_low"], r["ci_high"])
            for label, (value, low, high) in self.per_officer_hours().items():
                cells[label][PER_100_OFFICER_HOURS] = _fmt(value, low, high)
        else:
            for _, r in post[post["metric"] == RATE].iterrows():
                cells[r["label"]][f"{column} (95% prediction)"] = _fmt(
                    r["difference"], r["pi_low"], r["pi_high"]
                )
                cells[r["label"]]["share from parameters"] = (
                    "-" if np.isnan(r["parameter_share"]) else f"{r['parameter_share']:.0%}"
                )
        frame = pd.DataFrame.from_dict(cells, orient="index")
        frame.index.name = "policy"
        return frame.fillna("")


def specs_for(
    scenario: str,
    policies: list[str],
    *,
    replications: int,
    seed: int,
    days: int | None,
    scale: float | None,
    budget: float | None,
    draws: pd.DataFrame | None = None,
) -> list[RunSpec]:
    """Policies x replications, replication r with the same seed under every policy.

    With posterior `draws` (one row of scenario field values per draw), every policy runs
    `replications` seeds under each draw: common random numbers within a draw, fresh
    seeds for each draw.
    """
    fixed_sets: list[tuple[tuple[str, Any], ...]] = (
        [()]
        if draws is None
        else [tuple(sorted((k, float(v)) for k, v in d.items())) for d in draws.to_dict("records")]
    )
    seeds = replication_seeds(seed, replications * len(fixed_sets))
    checkpoints = int(load_scenario(scenario).city_model().checkpoint.sum())
    specs = []
    for point, name in enumerate(policies):
        overrides: dict = {}
        if budget is not None:
            overrides = budget_overrides(load_policy(name), checkpoints, budget)
        for k, fixed in enumerate(fixed_sets):
            for r in range(replications):
                i = k * replications + r
                specs.append(
                    RunSpec(
                        scenario,
                        name,
                        seeds[i],
                        replication=i,
                        point=point,
                        days=days,
                        scale=scale,
                        scenario_set=fixed,
                        policy_set=tuple(sorted(overrides.items())),
                        label=name,
                        factors=() if draws is None else (("draw", k),),
                    )
                )
    return specs


def compare(
    scenario: str,
    policies: list[str],
    *,
    baseline: str,
    replications: int = 5,
    workers: int = 1,
    seed: int = 0,
    days: int | None = None,
    scale: float | None = None,
    budget: float | None = None,
    out: Path | None = None,
    executor: str | None = None,
    progress: bool | None = None,
    posterior: str | Path | None = None,
    draws: int = 10,
    force: bool = False,
) -> Comparison:
    """Run (or resume) the comparison and write its tables and figures to `out`.

    The executor defaults to in-process (serial) for one worker, else local processes.
    With `posterior` (a calibration folder), every policy runs `replications` seeds under
    each of `draws` parameter sets drawn from it; summaries and tests then take each
    draw's mean as one unit, and effects carry both parameter and run-to-run uncertainty.
    """
    executor = choose(executor, workers)
    policies = _with_baseline(policies, baseline)
    one_run = load_scenario(scenario, size_overrides(days, scale))
    check_run(one_run, "--scale" if scale is not None else scenario, "scale")
    runs = len(policies) * replications * (1 if posterior is None else draws)
    check_total(runs, visitor_days(one_run), "--draws" if posterior else "--replications", "runs")
    log.info(
        "compare: %d policies x %d replications%s = %d runs of %s visitor-days each",
        len(policies),
        replications,
        "" if posterior is None else f" x {draws} posterior draws",
        runs,
        f"{visitor_days(one_run):,.0f}",
    )
    drawn = None if posterior is None else _drawn(posterior, scenario, one_run, draws, seed)
    specs = specs_for(
        scenario,
        policies,
        replications=replications,
        seed=seed,
        days=days,
        scale=scale,
        budget=budget,
        draws=drawn,
    )
    for spec in specs:  # bad input fails here, before any run
        validate(spec)
    compared = functools.partial(
        _compared,
        specs,
        executor=executor,
        workers=workers,
        progress=progress,
        baseline=baseline,
        drawn=drawn,
        runs_of=one_run,
        budget=budget,
    )
    if out is None:
        return compared(None)
    settings = {  # what decides the comparison's results (the folder's fingerprint)
        "scenario": scenario,
        "policies": policies,
        "baseline": baseline,
        "replications": replications,
        "seed": seed,
        "days": days,
        "scale": scale,
        "budget": budget,
        "posterior": None if posterior is None else str(posterior),
        "draws": None if drawn is None else draws,
    }
    return _in_folder(Path(out), compared, settings, specs, one_run, force=force)


def _in_folder(
    out: Path,
    compared: Callable[[Path | None], Comparison],
    settings: dict[str, Any],
    specs: list[RunSpec],
    one_run: Scenario,
    *,
    force: bool,
) -> Comparison:
    """The comparison run into `out` (claimed, resumable), its tables and figures written."""
    with claim(out, command="compare", settings=settings, force=force) as record:
        record.update(
            seeds=sorted({s.seed for s in specs}),
            runs=len(specs),
            resolved_scenario=to_raw(one_run),
            resolved_policies={name: to_raw(load_policy(name)) for name in settings["policies"]},
        )
        comparison = compared(out)
        comparison.files = _write(out, settings["scenario"], comparison)
    return comparison


def _with_baseline(policies: list[str], baseline: str) -> list[str]:
    """The policies compared, the baseline first if it was not named; one other at least."""
    if not [p for p in policies if p != baseline]:
        raise ConfigError(
            "--policies",
            ",".join(policies),
            f"name at least one policy besides the baseline {baseline!r}",
        )
    return policies if baseline in policies else [baseline, *policies]


def _drawn(
    posterior: str | Path, scenario: str, one_run: Scenario, draws: int, seed: int
) -> pd.DataFrame:
    """`draws` parameter sets from a calibration of this scenario, each a valid scenario."""
    fitted = load_posterior(posterior)
    if fitted.scenario != scenario:
        raise ConfigError(
            "--posterior",
            str(posterior),
            f"was calibrated on scenario {fitted.scenario!r}, not {scenario!r}",
        )
    drawn = fitted.draws(draws, seed)
    check_draws(fitted, drawn, one_run)
    return drawn


def _compared(
    specs: list[RunSpec],
    out: Path | None,
    *,
    executor: str,
    workers: int,
    progress: bool | None,
    baseline: str,
    drawn: pd.DataFrame | None,
    runs_of: Scenario,
    budget: float | None = None,
) -> Comparison:
    """Run (or load) the specs and summarise them against the baseline.

    `runs_of` is the scenario as the runs have it (its scale and days label the figures).
    """
    rows = _run(specs, out, executor, workers, progress)
    if drawn is not None:
        rows = _pooled(rows, drawn)
    units = rows if drawn is None else _draw_means(rows)
    pair_on = "replication" if drawn is None else "f:draw"
    summary = summarize(units, list(COMPARED))
    paired = paired_effects(units, list(COMPARED), baseline, pair_on=pair_on)
    best, tests = separation(units, RATE, pair_on=pair_on)
    separated = bool(tests) and all(t["separated"] for t in tests)
    return Comparison(
        rows=rows,
        summary=summary,
        effects=paired,
        baseline=baseline,
        best=best,
        separated=separated,
        verdict=_verdict(
            best, tests, separated, over="posterior draws" if drawn is not None else ""
        ),
        files=[],
        posterior_effects=(
            posterior_effects(rows, list(COMPARED), baseline) if drawn is not None else None
        ),
        draws=drawn,
        cautions=_cautions(rows, units),
        scale=runs_of.scale,
        days=runs_of.days,
        budget=budget,
    )


def _pooled(rows: pd.DataFrame, drawn: pd.DataFrame) -> pd.DataFrame:
    """Rows with each draw numbered as the first draw of the same parameter set.

    Draws are resampled by weight from a few particles, so a particle can be drawn twice:
    that is one parameter set with more runs, not two independent draws.
    """
    first: dict[tuple, int] = {}
    same = {i: first.setdefault(tuple(r), i) for i, r in enumerate(drawn.itertuples(index=False))}
    return rows.assign(**{"f:draw": rows["f:draw"].map(same)})


def _draw_means(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per policy and posterior draw: the mean of its runs (the unit of tests)."""
    means = rows.groupby(["label", "f:draw"], sort=False)[list(COMPARED)].mean()
    return means.reset_index()


def _run(
    specs: list[RunSpec], out: Path | None, executor: str, workers: int, progress: bool | None
) -> pd.DataFrame:
    return rows_for(
        specs,
        lambda todo: run_all(todo, executor=executor, workers=workers),
        store=ResultStore(out) if out else None,
        label="compare",
        show_bar=progress,
    )


FEW_UNITS = 5
FEW_THEFTS = 10


def _cautions(rows: pd.DataFrame, units: pd.DataFrame) -> tuple[str, ...]:
    """Warnings for results that rest on few runs or few events."""
    out = []
    per_policy = int(units.groupby("label").size().min())
    if per_policy < FEW_UNITS:
        unit = "posterior draws" if "f:draw" in units.columns else "replications"
        out.append(
            f"only {per_policy} {unit} per policy: intervals are rough and a real difference "
            "may go unseen"
        )
    thefts = rows.groupby("label", sort=False)["thefts_occurred"].mean()
    few = thefts[thefts < FEW_THEFTS]
    if len(few):
        listed = ", ".join(f"{label} {value:.3g}" for label, value in few.items())
        out.append(f"few thefts per run ({listed}): theft rates rest on few events and are noisy")
    return tuple(out)


def _verdict(best: str, tests: list[dict], separated: bool, over: str = "") -> str:
    """One sentence: the best policy, or that no policy separated, and how that was decided."""
    how = (
        f"multiple comparisons with the best: one-sided paired t-tests over "
        f"{over or 'replications'}, Bonferroni for the {len(tests)} comparisons, 5%"
    )
    if separated:
        return f"lowest theft rate: {best}, the best with the choice accounted for ({how})"
    close = [t["label"] for t in tests if not t["separated"]]
    return (
        f"no policy separated: {best} has the lowest mean theft rate, but no difference "
        f"from {', '.join(close)} was found ({how})"
    )


def _fmt(mean: float, low: float, high: float) -> str:
    if np.isnan(mean):
        return "-"
    if np.isnan(low) or low == high:
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def _write(out: Path, scenario: str, comparison: Comparison) -> list[Path]:
    out = Path(out)
    rows, summary, paired, best = (
        comparison.rows,
        comparison.summary,
        comparison.effects,
        comparison.best,
    )
    files = [
        out / "runs.parquet",
        out / "runs.csv",
        out / "summary.csv",
        out / "effects.csv",
        out / "summary.md",
    ]
    write_table(rows, files[0])
    write_flat(rows, files[1])
    atomic_write(files[2], lambda tmp: summary.to_csv(tmp, index=False))
    atomic_write(files[3], lambda tmp: paired.to_csv(tmp, index=False))
    shown = comparison.table()
    text = f"Runs: {_size(comparison)}.\n\n{shown.to_markdown()}\n\n{comparison.verdict}.\n"
    text += "".join(f"\n**Warning:** {c}.\n" for c in comparison.cautions)
    over = "posterior draws (each the mean of its runs)" if comparison.draws is not None else "runs"
    text += (
        f"\nLevels: mean over {over} with a 95% interval kept within the metric's range "
        "(t on the log scale; logit for shares); effects: paired differences with 95% "
        f"t-intervals. Note: {UNADJUSTED}.\n"
    )
    post, drawn = comparison.posterior_effects, comparison.draws
    interval = "95% CI"
    if post is not None and drawn is not None:
        files += [out / "posterior_effects.csv", out / "draws.csv"]
        atomic_write(files[-2], lambda tmp: post.to_csv(tmp, index=False))
        atomic_write(files[-1], lambda tmp: drawn.to_csv(tmp, index=False))
        text += "\n" + _uncertainty_note(post, drawn) + "\n"
        paired = post.rename(columns={"pi_low": "ci_low", "pi_high": "ci_high"})
        interval = "95% prediction interval over posterior draws"
    atomic_write(files[4], lambda tmp: tmp.write_text(text))
    files += effects(
        paired,
        RATE,
        out / "effects_theft_rate",
        title=f"Thefts per 1,000 visitors vs {comparison.baseline} ({_size(comparison)})",
        interval=interval,
    )
    files += _best_map(out, scenario, rows, best, comparison.separated)
    files += time_series(
        {label: _mean_hourly(group) for label, group in rows.groupby("label", sort=False)},
        out / "time_series",
        title=f"Mean over runs, per policy ({_size(comparison)})",
    )
    return files


def _size(comparison: Comparison) -> str:
    """How many runs stand behind each policy's figures, at what scale and length."""
    per_policy = int(comparison.rows.groupby("label").size().min())
    draws = "" if comparison.draws is None else f" over {len(comparison.draws)} posterior draws"
    budget = "" if comparison.budget is None else f", {comparison.budget:,g} officer-hours a day"
    return (
        f"{per_policy} runs per policy{draws}, scale {comparison.scale:g}, "
        f"{comparison.days} day{'s' if comparison.days != 1 else ''}{budget}"
    )


def _uncertainty_note(post: pd.DataFrame, draws: pd.DataFrame) -> str:
    """Where the spread of each effect on the theft rate comes from, in words."""
    rate = post[post["metric"] == RATE]
    runs = int(rate["runs"].max() // max(len(draws), 1))
    distinct = int(rate["draws"].max())
    lines = [
        f"Under the calibration's posterior: {len(draws)} parameter sets drawn by weight "
        f"({distinct} distinct: a particle drawn twice is one parameter set, its runs "
        f"pooled), {runs} seeds a draw (the same seeds for every policy within a draw). "
        "Effects: mean paired difference with a 95% prediction interval for the paired "
        "difference of one run at a parameter set drawn from the posterior (parameter "
        "uncertainty and run-to-run noise). Tests and the summary take each distinct "
        "parameter set's mean as one unit.",
        "",
        "Share of the variance of each effect on thefts per 1,000 visitors:",
        "",
    ]
    for r in rate.itertuples(index=False):
        if np.isnan(r.parameter_share):
            lines.append(f"- {r.label}: not estimable (needs at least 2 seeds per draw)")
        else:
            lines.append(
                f"- {r.label}: {r.parameter_share:.0%} from parameter uncertainty, "
                f"{r.run_to_run_share:.0%} from run-to-run noise"
            )
    return "\n".join(lines)


def _mean_hourly(runs: pd.DataFrame) -> pd.DataFrame:
    """Hourly series averaged over a policy's runs."""
    columns = ("visitors_present", "thefts", "arrests")
    frame = pd.DataFrame({c: np.mean(np.stack(runs[f"hourly_{c}"]), axis=0) for c in columns})
    return frame.assign(minute=60.0 * np.arange(len(frame)))


def _best_map(
    out: Path, scenario: str, rows: pd.DataFrame, best: str, separated: bool
) -> list[Path]:
    """Mean thefts and visits per place over the best policy's runs, and its police.

    Police positions are those of the policy's first run.
    """
    city = load_scenario(scenario).city_model()
    nodes = city.places
    mine = rows["label"] == best
    layout = json.loads(rows.loc[mine, "police_layout"].iloc[0])
    places = pd.DataFrame(
        {
            "x": city.x[nodes],
            "y": city.y[nodes],
            "label": np.asarray(city.label)[nodes],
            "visits": np.mean(np.stack(rows.loc[mine, "place_visits"]), axis=0),
            "thefts": np.mean(np.stack(rows.loc[mine, "place_thefts"]), axis=0),
        }
    )
    return city_map(
        city,
        places,
        out / "map_best_policy",
        police=layout,
        title=f"{best}{'' if separated else ' (lowest mean; not separated from the others)'}: "
        "thefts per place (mean of runs) and police positions",
        days=float(rows.loc[mine, "days"].iloc[0]),
    )
