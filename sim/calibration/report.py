"""What `crowdsim calibrate` writes: posterior tables, figures, a manifest and summary.md."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.fit import CHECK_SEED_OFFSET, Calibration
from sim.calibration.simulate import run_scale
from sim.config import to_raw
from sim.files import atomic_write
from sim.output import write_table
from sim.viz.figures import posterior_marginals, posterior_pairs, predictive_check


def write_outputs(
    result: Calibration, out: Path, history: Any, record: dict[str, Any]
) -> list[Path]:
    """Every output file of a calibration (each whole or not at all), and the manifest's details."""
    targets = result.targets
    files = [
        out / "posterior.parquet",
        out / "summary.csv",
        out / "generations.csv",
        out / "predictive.parquet",
        out / "manifest.json",
    ]
    summary_md = out / "summary.md"
    files.append(summary_md)
    write_table(result.posterior, files[0])
    atomic_write(files[1], lambda tmp: result.summary.to_csv(tmp, index=False))
    atomic_write(files[2], lambda tmp: result.generations.to_csv(tmp, index=False))
    record.update(
        targets_file=targets.source_file,
        targets=to_raw(targets),
        scale=run_scale(targets),
        seed=targets.seed,
        predictive_check_seed=targets.seed + CHECK_SEED_OFFSET,
        database="abc.db (pyabc History, run id 1)",
        versions={**record["versions"], "pyabc": version("pyabc")},
        abc_started=history.get_abc().start_time.isoformat(timespec="seconds"),
        fit_wall_s=float(result.generations["wall_s"].sum()),
        simulations=int(result.generations["simulations"].sum()),
        simulations_per_s=float(
            result.generations["simulations"].sum() / result.generations["wall_s"].sum()
        ),
        effective_sample_size=effective_sample_size(result.posterior),
        held_out=list(targets.held_out),
    )
    priors = {k: (p.low, p.high, p.distribution) for k, p in targets.params.items()}
    n = len(result.posterior)
    caption = (
        f"{targets.name}: {n} particles, generation {int(result.generations['generation'].max())}"
    )
    files += posterior_marginals(
        result.posterior, priors, out / "posterior_marginals", title=caption
    )
    if len(priors) > 1:  # one parameter has no pairs: its marginal is the whole picture
        files += posterior_pairs(result.posterior, priors, out / "posterior_pairs", title=caption)
    observed = {o.name: float(o.value) for o in targets.observed}
    files += predictive_check(
        result.check,
        observed,
        out / "predictive_check",
        title=f"{targets.name}: posterior predictive check ({len(result.check)} fresh runs "
        f"at posterior draws, scale {run_scale(targets):g})",
        held_out=targets.held_out,
    )
    atomic_write(summary_md, lambda tmp: tmp.write_text(summary(result)))
    return files


def _fmt(x: float) -> str:
    return f"{x:.3g}"


MIN_CHECK_RUNS = 10
"""Fewer finite predictive runs than this decide nothing about a held-out statistic."""


def effective_sample_size(posterior: pd.DataFrame) -> float:
    """Kish's effective sample size of the weighted particles (pyabc's definition)."""
    from pyabc.weighted_statistics import effective_sample_size as ess  # noqa: PLC0415

    return float(ess(posterior["weight"].to_numpy(dtype=float)))


def verdict(observed: float, sims: np.ndarray, held_out: bool) -> str:
    """A held-out statistic is inside or outside its 90% per-run predictive interval.

    A fitted one is not a test (the fit read it); too few finite runs are inconclusive.
    """
    if not held_out:
        return "fitted (not a test)"
    if len(sims) < MIN_CHECK_RUNS:
        return "inconclusive"
    inside = np.quantile(sims, 0.05) <= observed <= np.quantile(sims, 0.95)
    return "inside" if inside else "outside"


def predictive_table(result: Calibration) -> pd.DataFrame:
    """Per statistic: observed, predictive mean, 5-95% of runs, share at or below, verdict."""
    records = []
    for o in result.targets.observed:
        sims = result.check[o.name].to_numpy(dtype=float)
        sims = sims[np.isfinite(sims)]
        held_out = o.name in result.targets.held_out
        records.append(
            {
                "statistic": o.name,
                "set": "held out" if held_out else "fitted",
                "verdict": verdict(float(o.value), sims, held_out),
                "observed": float(o.value),
                "predictive_mean": float(sims.mean()) if len(sims) else np.nan,
                "q05": float(np.quantile(sims, 0.05)) if len(sims) else np.nan,
                "q95": float(np.quantile(sims, 0.95)) if len(sims) else np.nan,
                "share_at_or_below": float(np.mean(sims <= o.value)) if len(sims) else np.nan,
                "runs": len(sims),
            }
        )
    return pd.DataFrame(records)


def summary(result: Calibration) -> str:
    """summary.md: settings, posterior per parameter, generations, predictive check."""
    t = result.targets
    gens = result.generations
    lines = [
        f"# {t.name}: calibration",
        "",
        t.description,
        "",
        f"- Scenario `{t.scenario}` under `{Path(t.policy).stem}`, scale {run_scale(t):g}, "
        + (f"{t.days} days" if t.days else "the scenario's days")
        + f" per run, {t.replications} run(s) per particle, seed {t.seed}.",
        f"- ABC-SMC (pyabc {version('pyabc')}): {len(gens)} generations of "
        f"{t.abc.population} particles, {int(gens['simulations'].sum())} simulated particles "
        f"in all; distance: sum of |simulated - observed| / scale; tolerance: the median "
        "distance of the previous generation.",
        f"- Fitted to {len(t.fitted)} statistics with {len(t.params)} parameters; "
        + (
            f"held out (predicted, not fitted): {', '.join(t.held_out)}."
            if t.held_out
            else "nothing held out: the predictive check re-reads what was fitted."
        ),
        "",
        "## Posterior",
        "",
        f"{len(result.posterior)} particles, effective sample size "
        f"{effective_sample_size(result.posterior):.0f} (Kish): the intervals below rest on "
        "that many independent draws.",
        "",
        "| parameter | prior | mean | median | 90% credible interval | interval / prior range "
        "(log scale for log-uniform) |",
        "|---|---|--:|--:|---|--:|",
    ]
    lines += [
        f"| `{r.parameter}` | {r.prior} [{_fmt(r.prior_low)}, {_fmt(r.prior_high)}] | "
        f"{_fmt(r.mean)} | {_fmt(r.median)} | [{_fmt(r.q05)}, {_fmt(r.q95)}] | "
        f"{r.ci_share_of_prior:.0%} |"
        for r in result.summary.itertuples(index=False)
    ]
    lines += [
        "",
        "An interval covering most of its prior range means the observations do not identify "
        "that parameter: a finding, not a failure.",
        "",
        "## Observed statistics",
        "",
        "| statistic | set | observed | model quantity | scale | source |",
        "|---|---|--:|---|--:|---|",
    ]
    lines += [
        f"| {o.name} | {'held out' if o.name in t.held_out else 'fitted'} | {o.value:g} | "
        f"`{o.metric}` ({o.statistic}"
        + (f", {Path(o.policy).stem} vs {Path(o.versus).stem}" if o.versus else "")
        + f") | {o.scale:g} | {o.source} |"
        for o in t.observed
    ]
    check = predictive_table(result)
    lines += [
        "",
        f"## Posterior predictive check ({len(result.check)} fresh runs at posterior draws)",
        "",
        "Each run is one run at one posterior draw, so the 5-95% range is a prediction "
        "interval for one observation like the case's. A held-out statistic is inside or "
        f"outside it (inconclusive below {MIN_CHECK_RUNS} finite runs); a fitted one is no "
        "test, since the fit read it.",
        "",
        "| statistic | set | observed | predictive mean | 5-95% of runs "
        "| runs at or below observed | verdict |",
        "|---|---|--:|--:|---|--:|---|",
    ]
    lines += [
        f"| {r.statistic} | {r.set} | {r.observed:g} | {_fmt(r.predictive_mean)} | "
        f"[{_fmt(r.q05)}, {_fmt(r.q95)}] | {r.share_at_or_below:.0%} | {r.verdict} |"
        for r in check.itertuples(index=False)
    ]
    lines += [
        "",
        "## Generations",
        "",
        "| generation | tolerance | particles | simulations | acceptance rate | wall time (s) |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    lines += [
        f"| {int(g.generation)} | {_fmt(g.epsilon)} | {int(g.particles)} | "
        f"{int(g.simulations)} | {g.acceptance_rate:.2f} | {g.wall_s:.0f} |"
        for g in gens.itertuples(index=False)
    ]
    lines += [
        "",
        "Figures: `posterior_marginals.png`, "
        + ("`posterior_pairs.png`, " if len(result.targets.params) > 1 else "")
        + "`predictive_check.png`. "
        "Tables: `posterior.parquet` (particles and weights), `summary.csv`, "
        "`generations.csv`, `predictive.parquet`; pyabc's database: `abc.db`.",
    ]
    return "\n".join(lines) + "\n"
