"""`crowdsim discover`: the input conditions under which an outcome holds (PRIM).

Scenario discovery (Bryant & Lempert 2010) over a sweep's space-filling block: each point
is a case when its outcome (a contrast of the experiment, or a policy's metric) lies above
or below a threshold; the Patient Rule Induction Method of the EMA Workbench (an optional
extra) peels the input space down to a box that holds mostly cases. The box reported is the
one with the largest coverage among those at or above the density asked for (else the
densest), with quasi-p values saying whether each restriction could be chance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.files import atomic_write
from sim.folder import claim
from sim.sweep.design import describe
from sim.sweep.report import load_sweep
from sim.sweep.sensitivity import SAMPLE, contrast_values, input_names, point_inputs
from sim.viz.sensitivity import prim_box, prim_tradeoff

MIN_CASES = 5
"""Fewer cases (or non-cases) than this leave PRIM nothing to separate."""


@dataclass
class Discovery:
    """The chosen box, PRIM's peeling trajectory and the files written."""

    limits: pd.DataFrame
    trajectory: pd.DataFrame
    chosen: int
    cases: int
    points: int
    files: list[Path] = field(default_factory=list)


def _prim() -> Any:
    try:
        from ema_workbench.analysis import prim  # noqa: PLC0415 - optional [discover] extra
    except ImportError:
        raise ConfigError(
            "discover", "extra", "needs the [discover] extra: pip install 'crowdsim[discover]'"
        ) from None
    return prim


def outcome_values(folder: Path, outcome: str, policy: str) -> tuple[pd.DataFrame, pd.Series]:
    """The inputs and the outcome at every point of the sweep's space-filling block."""
    experiment, rows = load_sweep(folder)
    names = input_names(experiment)
    if not names:
        raise ConfigError(str(folder), "space", "the sweep has no space-filling block to search")
    contrasts = {c.name for c in experiment.contrasts}
    if outcome in contrasts:
        values = contrast_values(experiment, rows).set_index("sample")
        return values[names], values[outcome]
    if outcome not in rows.columns:
        known = ", ".join(sorted(contrasts)) or "none"
        raise ConfigError(
            "--outcome", outcome, f"neither a contrast of the experiment ({known}) nor a metric"
        )
    policies = sorted(rows["label"].unique())
    if policy not in policies:
        raise ConfigError(
            "--policy", policy, f"a metric needs one of the sweep's policies: {', '.join(policies)}"
        )
    points = rows[(rows["label"] == policy) & rows[SAMPLE].notna()]
    return point_inputs(experiment, points), points.groupby(SAMPLE)[outcome].mean().astype(float)


def discover(
    folder: Path,
    outcome: str,
    out: Path,
    *,
    above: float | None = None,
    below: float | None = None,
    policy: str = "",
    threshold: float = 0.8,
    force: bool = False,
) -> Discovery:
    """Find the box of inputs where `outcome` lies above `above` (or below `below`)."""
    if (above is None) == (below is None):
        raise ConfigError("--above/--below", "", "give exactly one of --above and --below")
    x, y = outcome_values(Path(folder), outcome, policy)
    finite = y.notna().to_numpy()
    x, y = x[finite].reset_index(drop=True), y[finite].reset_index(drop=True)
    cases = (y > above) if above is not None else (y < below)
    n_cases = int(cases.sum())
    if min(n_cases, len(cases) - n_cases) < MIN_CASES:
        raise ConfigError(
            "--above/--below",
            "",
            f"{n_cases} of {len(cases)} points are cases: PRIM needs at least {MIN_CASES} "
            "cases and as many non-cases to separate",
        )
    condition = (
        f"{outcome} {'>' if above is not None else '<'} {above if above is not None else below:g}"
    )
    settings = {
        "sweep": str(Path(folder).resolve()),
        "outcome": outcome,
        "policy": policy,
        "condition": condition,
        "threshold": threshold,
    }
    with claim(Path(out), command="discover", settings=settings, force=force) as record:
        # EMA's threshold marks the cases (y >= it: 0.5 on 0/1 outcomes) and keeps a box only
        # if its density reaches it (else the whole space); the box reported is chosen below
        box = _prim().Prim(x.astype(float), cases.to_numpy(int), threshold=0.5).find_box()
        trajectory = box.peeling_trajectory.reset_index(drop=True)
        chosen = _choose(trajectory, threshold)
        limits = _limits(box, chosen, x)
        result = Discovery(limits, trajectory, chosen, n_cases, len(cases))
        result.files = _write(result, Path(out), condition, threshold)
        record.update(condition=condition, cases=n_cases, points=len(cases), box=chosen)
    return result


def _choose(trajectory: pd.DataFrame, threshold: float) -> int:
    """The widest box at the density asked for; the densest if none reaches it."""
    dense = trajectory[trajectory["density"] >= threshold]
    if dense.empty:
        return int(trajectory["density"].idxmax())
    return int(dense["coverage"].idxmax())


def _limits(box: Any, chosen: int, x: pd.DataFrame) -> pd.DataFrame:
    """The chosen box's limits on each input it restricts, with quasi-p values."""
    limits, first = box.box_lims[chosen], box.box_lims[0]
    qp = box.qp[chosen]
    records = [
        {
            "parameter": name,
            "lower": float(limits[name].iloc[0]),
            "upper": float(limits[name].iloc[1]),
            "minimum": float(first[name].iloc[0]),
            "maximum": float(first[name].iloc[1]),
            "qp_lower": _qp(qp[name][0]),
            "qp_upper": _qp(qp[name][1]),
        }
        for name in x.columns
        if name in qp
    ]
    return pd.DataFrame(
        records,
        columns=["parameter", "lower", "upper", "minimum", "maximum", "qp_lower", "qp_upper"],
    )


def _qp(value: float) -> float:
    """EMA marks an unrestricted side with -1: no test, so no p value."""
    return math.nan if value < 0 else float(value)


def _write(result: Discovery, out: Path, condition: str, threshold: float) -> list[Path]:
    box, trajectory = out / "box.csv", out / "trajectory.csv"
    atomic_write(box, lambda tmp: result.limits.to_csv(tmp, index=False))
    atomic_write(trajectory, lambda tmp: result.trajectory.to_csv(tmp, index=False))
    labels = {n: describe(n) for n in result.limits["parameter"]}
    stats = result.trajectory.iloc[result.chosen]
    title = f"{condition}: {result.cases} of {result.points} points"
    files = [box, trajectory]
    files += prim_tradeoff(result.trajectory, result.chosen, out / "tradeoff", title=title)
    if not result.limits.empty:
        files += prim_box(
            result.limits,
            labels,
            out / "box",
            title=f"box {result.chosen}: coverage {stats['coverage']:.0%}, "
            f"density {stats['density']:.0%}",
        )
    summary = out / "summary.md"
    atomic_write(summary, lambda tmp: tmp.write_text(_summary(result, condition, threshold)))
    return [*files, summary]


def _summary(result: Discovery, condition: str, threshold: float) -> str:
    stats = result.trajectory.iloc[result.chosen]
    base = result.cases / result.points
    lines = [
        f"# Scenario discovery: where {condition}",
        "",
        f"{result.cases} of {result.points} points of the design are cases ({base:.0%}). "
        f"PRIM (EMA Workbench) peeled the inputs to box {result.chosen} of its trajectory: "
        f"the widest box whose density reaches {threshold:.0%}"
        + ("" if stats["density"] >= threshold else " (none does: the densest box)")
        + ".",
        "",
        f"- coverage {stats['coverage']:.0%} (share of all cases inside the box)",
        f"- density {stats['density']:.0%} (share of the box's points that are cases; "
        f"{base:.0%} over the whole design)",
        f"- mass {stats['mass']:.0%} (share of all points inside the box)",
        "",
        "| input | box | input's range | quasi-p (lower, upper) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {describe(r.parameter)} (`{r.parameter}`) | {r.lower:.3g} to {r.upper:.3g} | "
        f"{r.minimum:.3g} to {r.maximum:.3g} | {_p(r.qp_lower)}, {_p(r.qp_upper)} |"
        for r in result.limits.itertuples(index=False)
    ]
    lines += [
        "",
        "A restriction with a quasi-p value above 0.05 could be chance (Bryant & Lempert "
        "2010). Figures: `tradeoff.png` (the peeling trajectory), `box.png`; tables: "
        "`box.csv`, `trajectory.csv`.",
    ]
    return "\n".join(lines) + "\n"


def _p(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.2g}"
