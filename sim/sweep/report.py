"""`crowdsim analyze`: summaries, paired effects, factor effects and displacement of a sweep.

Reads a sweep folder (manifest, experiment copy, results) and writes `analysis/`: CSV
tables and figures. Displacement uses the weighted displacement quotient (Bowers & Johnson
2003) with the baseline policy's runs of the same seeds standing in for "before".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.store import ResultStore
from sim.config import build
from sim.errors import ConfigError
from sim.files import atomic_write
from sim.folder import refuse_shipped
from sim.output import load_table
from sim.scenario import load_scenario
from sim.sweep.analysis import bootstrap_interval, mean_ci, paired_effects, summarize
from sim.sweep.design import (
    LEVEL_NAME,
    SAMPLE_KEY,
    Experiment,
    describe,
    factor_paths,
    in_words,
)
from sim.sweep.sensitivity import (
    SAMPLE,
    contrast_values,
    input_names,
    sobol_analysis,
    sobol_of_contrasts,
)
from sim.sweep.sweep import EXPERIMENT_COPY, MANIFEST, RESULTS
from sim.viz.factorial import effect_grid
from sim.viz.figures import dose_response, effects
from sim.viz.sensitivity import sobol_bars

METRICS = [
    "theft_rate_per_1000_visitors",
    "thefts_occurred",
    "thefts_deterred",
    "arrests_in_act",
    "arrests_total",
    "response_time_mean_min",
    "police_visibility",
    "officer_hours",
    "top5pct_places_theft_share",
]


@dataclass
class Analysis:
    """Tables of one sweep's analysis (each also written as CSV)."""

    summary: pd.DataFrame
    effects: pd.DataFrame
    main_effects: pd.DataFrame
    interactions: pd.DataFrame
    displacement: pd.DataFrame
    files: list[Path]


def load_sweep(folder: Path) -> tuple[Experiment, pd.DataFrame]:
    """The experiment and its finished runs, with the design's factor columns.

    Adds the point's full setting and its scenario-only setting (what baselines pair on).
    """
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        raise ConfigError(str(folder), "", f"no {MANIFEST}: not a sweep folder")
    copy = folder / EXPERIMENT_COPY
    experiment = replace(
        build(Experiment, json.loads(copy.read_text()), file=str(copy)), source_file=str(copy)
    )
    remedy = "run the same `crowdsim sweep` again: it rebuilds this table from the run files"
    manifest = load_table(folder / MANIFEST, remedy)
    results_file = folder / RESULTS
    runs = load_table(results_file, remedy) if results_file.exists() else ResultStore(folder).load()
    if runs.empty:
        raise ConfigError(str(folder), "", "no finished runs yet")
    shared = [c for c in runs.columns if c != "key" and c in manifest.columns]
    rows = manifest.merge(runs.drop(columns=shared), on="key", how="inner")
    rows["setting"] = [
        label.removeprefix(policy)
        for label, policy in zip(rows["label"], rows["policy"], strict=True)
    ]
    scoped = [f"f:{name}" for name in _scenario_factors(experiment)]
    rows["scenario_setting"] = rows[scoped].astype(str).agg(" ".join, axis=1) if scoped else ""
    return experiment, rows


def _scenario_factors(experiment: Experiment) -> list[str]:
    """Factors that only change the scenario (a baseline runs at each of their levels)."""
    names = []
    for name, levels in (experiment.factors or {}).items():
        if all(p.startswith("scenario.") for p in factor_paths(name, levels)):
            names.append(name)
    ranges = (experiment.space.ranges or {}) if experiment.space else {}
    names += [k for k in ranges if k.startswith("scenario.")]
    return sorted(names)


def analyze(folder: Path, out: Path | None = None, *, force: bool = False) -> Analysis:
    """Write the analysis of a sweep folder to `out` (default `folder/analysis/`).

    Nothing is written into a shipped folder of results/ without `force`.
    """
    folder = Path(folder)
    refuse_shipped(folder if out is None else Path(out), force, "analyze")
    out = Path(out) if out is not None else folder / "analysis"
    experiment, rows = load_sweep(folder)
    metrics = [m for m in METRICS if m in rows.columns]
    # a space-filling block has a point per sample: its per-point tables and figures would be
    # thousands of rows of one run each; it is read through its contrasts and indices instead
    sampled = {f"f:{k}" for k in (experiment.space.ranges or {})} if experiment.space else set()
    by_policy = rows.assign(label=[Path(p).stem for p in rows["policy"]]) if sampled else rows
    summary = summarize(by_policy, metrics, by="label")  # per policy over a sampled block
    paired = pd.DataFrame() if sampled else _paired_by_setting(rows, metrics, experiment)
    factors = [
        c
        for c in rows.columns
        if c.startswith("f:") and c != f"f:{SAMPLE_KEY}" and c not in sampled
    ]
    main = _main_effects(rows, factors, experiment.response)
    inter = _interactions(rows, factors, experiment.response)
    displacement = _displacement(experiment, rows)
    tables = {
        "summary": summary,
        "effects": paired,
        "main_effects": main,
        "interactions": inter,
        "displacement": displacement,
    }
    saltelli = experiment.space is not None and experiment.space.method == "saltelli"
    if saltelli:
        tables["sobol"] = sobol_indices(experiment, rows)
    if experiment.contrasts:
        tables["contrasts"] = contrast_values(experiment, rows)
    if experiment.contrasts and saltelli:
        tables["sobol_contrasts"] = sobol_of_contrasts(experiment, tables["contrasts"])
    files = []
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        atomic_write(path, lambda tmp, f=frame: f.to_csv(tmp, index=False))
        files.append(path)
    size = (
        f"{experiment.replications} runs per point, scale "
        f"{experiment.scale if experiment.scale is not None else 'as the scenario'}, "
        f"{experiment.days or 'the scenario'} day(s)"
    )
    if not paired.empty:
        files += effects(
            paired,
            experiment.response,
            out / "effects",
            title=f"{experiment.name}: vs {experiment.baseline_policy} ({size})",
        )
    grid = _two_factor_grid(experiment, paired)
    if grid is not None:
        files += effect_grid(
            grid,
            experiment.response,
            out / "effects_grid",
            title=f"{experiment.name}: {Path(grid['policy'].iloc[0]).stem} vs "
            f"{Path(experiment.baseline_policy).stem} ({size})",
        )
    if "sobol_contrasts" in tables:
        labels = {n: in_words(n) for n in experiment.space.ranges}
        labels |= {c.name: c.doc or c.name for c in experiment.contrasts}
        files += sobol_bars(
            tables["sobol_contrasts"],
            labels,
            out / "sobol_contrasts",
            title=f"{experiment.name}: what decides each effect "
            f"({experiment.space.samples * (len(experiment.space.ranges) + 2)} points, {size})",
        )
    composite = {
        f"f:{n}" for n, levels in (experiment.factors or {}).items() if isinstance(levels[0], dict)
    }
    for factor in factors:
        numeric = pd.api.types.is_numeric_dtype(rows[factor]) and factor not in composite
        if numeric and rows[factor].nunique() >= 3:  # a dose (not a composite level's number)
            name = factor.removeprefix("f:")
            stem = out / f"dose_response_{name.replace('.', '_')}"
            files += dose_response(
                main[main["factor"] == factor],
                experiment.response,
                stem,
                factor=describe(name),
                title=f"{experiment.name} ({size})",
            )
    return Analysis(summary, paired, main, inter, displacement, files)


def sobol_indices(experiment: Experiment, rows: pd.DataFrame) -> pd.DataFrame:
    """First-order and total Sobol indices of the response, per policy (SALib).

    The response of each point of Saltelli's design is its mean over replications; the
    points must be complete and in the sampler's order.
    """
    names = input_names(experiment)
    records = []
    for policy, group in rows[rows[SAMPLE].notna()].groupby("policy", sort=False):
        y = group.groupby(SAMPLE)[experiment.response].mean().sort_index().to_numpy()
        result = sobol_analysis(experiment, y, policy)
        for i, name in enumerate(names):
            records.append(
                {
                    "policy": policy,
                    "parameter": name,
                    "S1": result["S1"][i],
                    "S1_conf": result["S1_conf"][i],
                    "ST": result["ST"][i],
                    "ST_conf": result["ST_conf"][i],
                }
            )
    return pd.DataFrame(records)


def _treated_points(
    rows: pd.DataFrame, baseline: str
) -> Iterator[tuple[str, str, pd.DataFrame, pd.DataFrame]]:
    """Each non-baseline point's (policy, setting, runs, baseline runs at its scenario setting).

    Points without such a baseline are left out.
    """
    for (policy, setting), group in rows.groupby(["policy", "setting"], sort=False):
        base = rows[
            (rows["policy"] == baseline)
            & (rows["scenario_setting"] == group["scenario_setting"].iloc[0])
        ]
        if policy != baseline and not base.empty:
            yield policy, setting, group, base


def _paired_by_setting(
    rows: pd.DataFrame, metrics: list[str], experiment: Experiment
) -> pd.DataFrame:
    """Each policy point against the baseline at the same scenario setting, paired by seed."""
    baseline = experiment.baseline_policy
    frames = []
    for policy, setting, group, base in _treated_points(rows, baseline):
        pair = pd.concat([base, group]).assign(
            arm=lambda f: np.where(f["policy"] == baseline, "baseline", "treated")
        )
        effect = paired_effects(pair, metrics, "baseline", by="arm")
        first = group.iloc[0]
        words = setting_words(experiment, first)
        levels = {f"f:{name}": first.get(f"f:{name}") for name in experiment.factors or {}}
        frames.append(
            effect.drop(columns="arm").assign(
                policy=policy,
                setting=setting,
                label=Path(policy).stem + (f": {words}" if words else ""),
                **levels,
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _two_factor_grid(experiment: Experiment, paired: pd.DataFrame) -> pd.DataFrame | None:
    """A two-factor design of one policy: its effects on the response, by both factors."""
    factors = experiment.factors or {}
    plain = [n for n, levels in factors.items() if not isinstance(levels[0], dict)]
    if paired.empty or len(factors) != 2 or len(plain) != 2 or paired["policy"].nunique() != 1:
        return None
    mine = paired[paired["metric"] == experiment.response]
    words = [in_words(n) for n in plain]
    return mine.rename(columns={f"f:{n}": w for n, w in zip(plain, words, strict=True)}).assign(
        x_factor=words[0], y_factor=words[1]
    )


def setting_words(experiment: Experiment, row: pd.Series) -> str:
    """A point's factor levels in words, for figures.

    `offenders per 100k visitors 10` for a plain level; a composite level's `name` (else
    its number).
    """
    parts = []
    for name, levels in (experiment.factors or {}).items():
        value = row.get(f"f:{name}")
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(levels[0], dict):
            level = levels[int(value)]
            parts.append(str(level.get(LEVEL_NAME, f"{name} {int(value)}")))
        else:
            words = in_words(name)
            parts.append(
                f"{words} {value:,g}" if isinstance(value, int | float) else f"{words} {value}"
            )
    return ", ".join(parts)


def _main_effects(rows: pd.DataFrame, factors: list[str], response: str) -> pd.DataFrame:
    """Per policy and factor level: mean response (over the other factors) with its CI."""
    records = []
    for factor in factors:
        for (policy, level), group in rows.groupby(["policy", factor], sort=True):
            mean, low, high, n = mean_ci(group[response])
            records.append(
                {
                    "policy": policy,
                    "factor": factor,
                    "level": level,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                }
            )
    return pd.DataFrame(records)


def _interactions(rows: pd.DataFrame, factors: list[str], response: str) -> pd.DataFrame:
    """Per policy and pair of factors: mean response at every combination of levels."""
    records = []
    for i, a in enumerate(factors):
        for b in factors[i + 1 :]:
            for (policy, la, lb), group in rows.groupby(["policy", a, b], sort=True):
                records.append(
                    {
                        "policy": policy,
                        "factor_a": a,
                        "level_a": la,
                        "factor_b": b,
                        "level_b": lb,
                        "mean": float(group[response].mean()),
                        "n": len(group),
                    }
                )
    return pd.DataFrame(records)


def _displacement(experiment: Experiment, rows: pd.DataFrame) -> pd.DataFrame:
    """Thefts at treated places, in a buffer ring and elsewhere, and the WDQ with a CI."""
    records = []
    baseline = experiment.baseline_policy
    for policy, setting, group, base in _treated_points(rows, baseline):
        areas = treatment_areas(experiment, group)
        if areas is None:
            continue
        treated, buffer, control = areas
        pairs = group.set_index("replication")["place_thefts"].to_dict()
        before = base.set_index("replication")["place_thefts"].to_dict()
        reps = sorted(set(pairs) & set(before))
        if not reps:  # no run of this point has its baseline run yet (a shard, a resume)
            continue
        counts = np.array(
            [[_sum(pairs[r], m) for m in areas] + [_sum(before[r], m) for m in areas] for r in reps]
        )
        estimate = wdq(counts.sum(axis=0))
        low, high = wdq_interval(counts)
        reading = (
            _reading(estimate, low, high)
            if control.any()
            else "undefined (police at every place: no control area)"
        )
        records.append(
            {
                "policy": policy,
                "setting": setting,
                "treated_places": int(treated.sum()),
                "buffer_places": int(buffer.sum()),
                "control_places": int(control.sum()),
                "thefts_treated": counts[:, 0].mean(),
                "thefts_treated_baseline": counts[:, 3].mean(),
                "thefts_buffer": counts[:, 1].mean(),
                "thefts_buffer_baseline": counts[:, 4].mean(),
                "thefts_control": counts[:, 2].mean(),
                "thefts_control_baseline": counts[:, 5].mean(),
                "wdq": estimate,
                "wdq_ci_low": low,
                "wdq_ci_high": high,
                "reading": reading,
            }
        )
    return pd.DataFrame(records)


def wdq(counts: np.ndarray) -> float:
    """Weighted displacement quotient from (A, B, C after; A, B, C before) theft counts.

    WDQ = (B_a/C_a - B_b/C_b) / (A_a/C_a - A_b/C_b): the buffer's change relative to the
    control, per unit of the treated area's change. Positive: diffusion of benefits;
    negative: displacement; undefined when the treated area did not improve.
    """
    a1, b1, c1, a0, b0, c0 = (float(x) for x in counts)
    if c1 == 0 or c0 == 0:
        return float("nan")
    success = a1 / c1 - a0 / c0
    if success >= 0:
        return float("nan")
    return (b1 / c1 - b0 / c0) / success


def wdq_interval(counts: np.ndarray) -> tuple[float, float]:
    """95% bootstrap interval of the WDQ, resampling replications (pairs).

    `counts` has one row per replication: (A, B, C) after, then (A, B, C) before. Resamples
    where the treated area did not improve leave the WDQ undefined and are dropped
    (`bootstrap_interval`); no interval if the estimate itself is undefined.
    """
    if not np.isfinite(wdq(counts.sum(axis=0))):
        return float("nan"), float("nan")
    return bootstrap_interval(len(counts), lambda p: wdq(counts[p].sum(axis=0)))


def _reading(estimate: float, low: float, high: float) -> str:
    if not np.isfinite(estimate):
        return "undefined (no reduction at treated places)"
    if np.isfinite(low) and low > 0:
        return "diffusion of benefits"
    if np.isfinite(high) and high < 0:
        return "displacement"
    return "neither (CI includes 0)"


def _sum(counts: list[int] | np.ndarray, mask: np.ndarray) -> int:
    return int(np.asarray(counts)[mask].sum())


def treatment_areas(experiment: Experiment, runs: pd.DataFrame) -> tuple[np.ndarray, ...] | None:
    """Masks over the city's places: treated, the buffer ring within `buffer_m`, control.

    Treated places are those where police stopped in any of the point's runs; runs stored
    before police minutes per place were recorded have none (no displacement table).
    """
    if "place_police_minutes" not in runs:
        return None
    city = load_scenario(experiment.scenario).city_model()
    places = city.places
    treated = (np.stack(runs["place_police_minutes"].to_numpy()) > 0).any(axis=0)
    if not treated.any():
        return None
    near = city.distance_matrix(places[treated], places).min(axis=0) <= experiment.buffer_m
    buffer = near & ~treated
    return treated, buffer, ~treated & ~buffer
