"""How each stylised fact is measured on a sweep's runs: estimates, sample and figure.

Every measure reads outcomes (thefts, arrests by place, hour and arm), never a mechanism's
own probability, and pairs arms by replication (the same seed: common random numbers).
Intervals are 95% percentile-bootstrap intervals over replications (`bootstrap_interval`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim import portable
from sim.city.graph import City
from sim.clock import HOURS_PER_DAY
from sim.scenario import load_scenario
from sim.sweep.analysis import bootstrap_interval, mean_ci
from sim.sweep.design import Experiment
from sim.sweep.report import wdq, wdq_interval
from sim.validation.plan import FactSpec
from sim.validation.verdict import Estimate, Measurement
from sim.viz.figures import estimates, hourly_profile, lorenz

Measure = Callable[[FactSpec, Experiment, pd.DataFrame, Path], Measurement]
BUFFERS_M = (100.0, 250.0, 400.0, 800.0)
NULL_DRAWS = 200


def estimate(n: int, statistic: Callable[[np.ndarray], float]) -> Estimate:
    """The statistic on all runs, with its bootstrap interval over runs."""
    low, high = bootstrap_interval(n, statistic)
    return Estimate(statistic(np.arange(n)), low, high)


def arm(
    rows: pd.DataFrame, policy: str, factor: str | None = None, level: float | None = None
) -> pd.DataFrame:
    """One arm's runs in replication order (`policy` by file stem: `none`, `hotspot-trial`)."""
    stems = rows["policy"].map(lambda p: Path(p).stem)
    mine = rows[stems == policy]
    if factor is not None:
        mine = mine[mine[f"f:{factor}"].astype(float) == float(level)]
    return mine.sort_values("replication").reset_index(drop=True)


def stacked(runs: pd.DataFrame, column: str) -> np.ndarray:
    """A per-place (or per-hour) list column as a runs x items array."""
    return np.stack(runs[column].to_numpy()).astype(float)


def city_of(experiment: Experiment) -> City:
    """The fact's city (loaded once per process)."""
    return load_scenario(experiment.scenario).city_model()


def top_places(city: City, n: int) -> np.ndarray:
    """Mask over the place table (city.places) of the n places with the largest crowds."""
    return np.isin(city.places, city.crowd_rank[:n])


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (0: even, towards 1: all in one)."""
    x = np.sort(np.asarray(counts, dtype=float))
    total = x.sum()
    if total <= 0 or len(x) < 2:
        return float("nan")
    ranks = np.arange(1, len(x) + 1)
    return portable.weighted_sum(2 * ranks - len(x) - 1, x) / (len(x) * total)


def _n(runs: pd.DataFrame, *others: pd.DataFrame) -> int:
    """Runs per arm: the smallest arm decides."""
    return min(len(r) for r in (runs, *others))


# --- concentration beyond exposure ----------------------------------------------------


def concentration(
    fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path
) -> Measurement:
    """Excess Gini of thefts over a null placing them in proportion to person-hours."""
    runs = arm(rows, "none")
    thefts, hours = stacked(runs, "place_thefts"), stacked(runs, "place_person_hours")
    visited = hours.sum(axis=0) > 0
    thefts, hours = thefts[:, visited], hours[:, visited]
    rng = np.random.default_rng(1)

    def excess(idx: np.ndarray) -> float:
        t, h = thefts[idx].sum(axis=0), hours[idx].sum(axis=0)
        if t.sum() == 0:
            return float("nan")
        null = rng.multinomial(int(t.sum()), h / h.sum())
        return gini(t) - gini(null)

    total = thefts.sum(axis=0)
    exposure = hours.sum(axis=0)
    nulls = rng.multinomial(int(total.sum()), exposure / exposure.sum(), size=NULL_DRAWS)
    point = gini(total) - float(np.mean([gini(n) for n in nulls]))
    low, high = bootstrap_interval(len(runs), excess)
    half = int(np.searchsorted(np.sort(total)[::-1].cumsum(), total.sum() / 2) + 1)
    city = city_of(experiment)
    details = [
        f"Gini of thefts across the {int(visited.sum())} visited places: {gini(total):.3f}; "
        f"of the exposure null: {np.mean([gini(n) for n in nulls]):.3f}.",
        f"Half of the {int(total.sum())} thefts happen at {half} of {int(visited.sum())} "
        f"visited places ({100 * half / visited.sum():.1f}%), or {100 * half / city.n_nodes:.2f}% "
        f"of the city's {city.n_nodes} nodes (places and intersections; Weisburd's unit is "
        "the street segment, so the published 2.1-6% is a reference, not the rule).",
    ]
    figure = lorenz(
        total,
        exposure / exposure.sum() * total.sum(),
        figures / "concentration",
        unit="visited places",
        title=f"Concentration of theft, no police ({len(runs)} runs, {int(total.sum())} thefts)",
    )[0]
    return Measurement(
        {"excess_gini": Estimate(point, low, high)}, len(runs), int(total.sum()), details, figure
    )


# --- a randomised hot-spot trial ------------------------------------------------------


def hotspot_trial(
    fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path
) -> Measurement:
    """Relative reduction at treated against control hot spots (difference in differences)."""
    trial, none = arm(rows, "hotspot-trial"), arm(rows, "none")
    n = _n(trial, none)
    hot = top_places(city_of(experiment), 20)
    treated = (stacked(trial, "place_police_minutes") > 0) & hot
    control = hot & ~treated
    tp, tn = stacked(trial, "place_thefts")[:n], stacked(none, "place_thefts")[:n]

    def sums(idx: np.ndarray) -> tuple[float, float, float, float]:
        t, c = treated[idx], control[idx]
        return ((tp[idx] * t).sum(), (tn[idx] * t).sum(), (tp[idx] * c).sum(), (tn[idx] * c).sum())

    def reduction(idx: np.ndarray) -> float:
        a1, a0, c1, c0 = sums(idx)
        if min(a0, c1, c0) == 0:
            return float("nan")
        return 1.0 - (a1 / a0) / (c1 / c0)

    def change(which: int) -> Callable[[np.ndarray], float]:
        def ratio(idx: np.ndarray) -> float:  # patrolled against no police, minus 1
            after, before = sums(idx)[which : which + 2]
            return after / before - 1.0 if before else float("nan")

        return ratio

    a1, a0, c1, c0 = sums(np.arange(n))
    places = treated[:n].sum() / n
    did = estimate(n, reduction)
    shown = [
        ("change at treated hot spots", estimate(n, change(0))),
        ("change at control hot spots", estimate(n, change(2))),
        # the trial's effect as a change: minus the reduction the rule reads
        (
            "treated against control\n(difference in differences)",
            Estimate(-did.value, -did.high, -did.low),
        ),
    ]
    table = pd.DataFrame(
        {
            "x": [name for name, _ in shown],
            "value": [e.value for _, e in shown],
            "low": [e.low for _, e in shown],
            "high": [e.high for _, e in shown],
        }
    )
    figure = estimates(
        table,
        figures / "hotspot_trial",
        xlabel="",
        ylabel="relative change in thefts (95% bootstrap CI)",
        title=f"Hot-spot trial: {places:.0f} treated, {20 - places:.0f} control "
        f"places ({n} runs per arm)",
        reference=0.0,
    )[0]
    details = [
        f"Thefts at treated hot spots: {a0:.0f} without police, {a1:.0f} patrolled; at "
        f"control hot spots: {c0:.0f} and {c1:.0f} (sums over {n} runs per arm)."
    ]
    return Measurement({"relative_reduction": did}, n, int(a0 + c0), details, figure)


# --- the Koper curve on thefts --------------------------------------------------------


def koper(fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path) -> Measurement:
    """Reduction in thefts at the patrolled hot spots by stop length; interior optimum."""
    factor = "policy.deploy.0.dwell_min"
    none = arm(rows, "none")
    levels = sorted(float(v) for v in rows[f"f:{factor}"].dropna().unique())
    arms = {d: arm(rows, "koper-trial", factor, d) for d in levels}
    n = _n(none, *arms.values())
    patrolled = top_places(city_of(experiment), 30)
    base = stacked(none, "place_thefts")[:n, patrolled].sum(axis=1)
    at = {d: stacked(a, "place_thefts")[:n, patrolled].sum(axis=1) for d, a in arms.items()}

    def reduction(d: float, idx: np.ndarray) -> float:
        b = base[idx].sum()
        return float("nan") if b == 0 else 1.0 - at[d][idx].sum() / b

    def gain(a: float, b: float) -> Callable[[np.ndarray], float]:
        return lambda idx: reduction(a, idx) - reduction(b, idx)

    curve = pd.DataFrame(
        [
            {
                "x": d,
                "value": reduction(d, np.arange(n)),
                **dict(
                    zip(
                        ("low", "high"),
                        bootstrap_interval(n, lambda i, d=d: reduction(d, i)),
                        strict=True,
                    )
                ),
            }
            for d in levels
        ]
    )
    figure = estimates(
        curve,
        figures / "koper",
        xlabel="stop length (min)",
        ylabel="reduction in thefts at the 30 hot spots",
        reference=0.0,
        title=f"Koper curve on thefts ({n} runs per stop length)",
    )[0]
    details = [
        "Reduction at the patrolled hot spots by stop length: "
        + "; ".join(
            f"{d:g} min: {Estimate(r.value, r.low, r.high)}"
            for d, r in zip(levels, curve.itertuples(), strict=True)
        )
        + "."
    ]
    stats = {
        "gain_15_over_2": estimate(n, gain(15.0, 2.0)),
        "gain_15_over_60": estimate(n, gain(15.0, 60.0)),
    }
    return Measurement(stats, n, int(base.sum()), details, figure)


# --- displacement and diffusion -------------------------------------------------------


def displacement(
    fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path
) -> Measurement:
    """Net city-wide change, and the WDQ around the posts at several buffer sizes."""
    posts, none = arm(rows, "fixed-posts"), arm(rows, "none")
    n = _n(posts, none)
    city = city_of(experiment)
    after, before = stacked(posts, "place_thefts")[:n], stacked(none, "place_thefts")[:n]
    treated = (stacked(posts, "place_police_minutes")[:n] > 0).any(axis=0)
    places = city.places
    nearest = city.distance_matrix(places[treated], places).min(axis=0)
    stats: dict[str, Estimate] = {}
    records = []
    for buffer_m in BUFFERS_M:
        ring = (nearest <= buffer_m) & ~treated
        control = ~treated & ~ring
        counts = np.column_stack(
            [x[:, area].sum(axis=1) for x in (after, before) for area in (treated, ring, control)]
        )
        value = wdq(counts.sum(axis=0))
        low, high = wdq_interval(counts)
        stats[f"wdq_{buffer_m:g}m"] = Estimate(value, low, high)
        records.append({"x": buffer_m, "value": value, "low": low, "high": high})
    change = posts["thefts_occurred"].to_numpy()[:n] - none["thefts_occurred"].to_numpy()[:n]
    stats["net_change"] = estimate(n, lambda idx: float(change[idx].mean()))
    figure = estimates(
        pd.DataFrame(records),
        figures / "displacement",
        xlabel="buffer around the posts (m)",
        ylabel="weighted displacement quotient",
        reference=0.0,
        title=f"Displacement (<0) or diffusion (>0), {n} runs per arm",
    )[0]
    details = [
        f"Net change in thefts per run: {stats['net_change']} (posts minus no police).",
        "WDQ by buffer: " + "; ".join(f"{b:g} m: {stats[f'wdq_{b:g}m']}" for b in BUFFERS_M) + ".",
    ]
    return Measurement(stats, n, int(before.sum()), details, figure)


# --- time of day ----------------------------------------------------------------------


def time_of_day(
    fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path
) -> Measurement:
    """Correlation across hours of the day between thefts and visitors present."""
    runs = arm(rows, "none")
    thefts = stacked(runs, "hourly_thefts")[:, 1:]  # entry i+1: thefts in hour i
    present = stacked(runs, "hourly_visitors_present")
    crowd = (present[:, :-1] + present[:, 1:]) / 2.0  # mean of the hour's two ends
    hours = thefts.shape[1] // HOURS_PER_DAY * HOURS_PER_DAY
    by_hour_t = thefts[:, :hours].reshape(len(runs), -1, HOURS_PER_DAY).sum(axis=1)
    by_hour_v = crowd[:, :hours].reshape(len(runs), -1, HOURS_PER_DAY).sum(axis=1)

    def correlation(idx: np.ndarray) -> float:
        t, v = by_hour_t[idx].sum(axis=0), by_hour_v[idx].sum(axis=0)
        if np.ptp(t) == 0 or np.ptp(v) == 0:
            return float("nan")
        return float(np.corrcoef(t, v)[0, 1])

    t_all, v_all = by_hour_t.sum(axis=0), by_hour_v.sum(axis=0)
    risk = np.where(v_all > 0, 1000.0 * t_all / np.maximum(v_all, 1e-12), np.nan)
    scale = experiment.scale or 1.0
    profile = pd.DataFrame(
        {
            "hour": np.arange(HOURS_PER_DAY),
            "thefts": t_all,
            "visitors": v_all / len(runs) / scale,
            "risk": risk,
        }
    )
    figure = hourly_profile(
        profile,
        figures / "time_of_day",
        title=f"Thefts and crowds by hour, no police ({len(runs)} runs, {int(t_all.sum())} thefts)",
    )[0]
    peak_t, peak_v = int(np.argmax(t_all)), int(np.argmax(v_all))
    details = [
        f"Thefts peak at {peak_t:02d}:00, the crowd at {peak_v:02d}:00; risk per "
        f"visitor-hour is highest at {int(np.nanargmax(risk)):02d}:00."
    ]
    return Measurement(
        {"hourly_correlation": estimate(len(runs), correlation)},
        len(runs),
        int(t_all.sum()),
        details,
        figure,
    )


# --- response and on-scene arrests ----------------------------------------------------


def response(
    fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path
) -> Measurement:
    """Car arrests per 100 reported thefts by reporting delay and by car speed."""
    delay_f, speed_f = "scenario.victims.report_median_min", "scenario.police.car_speed_m_per_min"
    cells = {
        (d, s): arm(rows[rows[f"f:{delay_f}"].astype(float) == d], "response-trial", speed_f, s)
        for d in (1.0, 30.0)
        for s in (200.0, 800.0)
    }
    n = _n(*cells.values())
    arrests = {k: v["arrests_after_report"].to_numpy(dtype=float)[:n] for k, v in cells.items()}
    reported = {k: v["thefts_reported"].to_numpy(dtype=float)[:n] for k, v in cells.items()}

    def rate(keys: list[tuple[float, float]], idx: np.ndarray) -> float:
        a = sum(arrests[k][idx].sum() for k in keys)
        r = sum(reported[k][idx].sum() for k in keys)
        return float("nan") if r == 0 else 100.0 * a / r

    def delay_effect(idx: np.ndarray) -> float:
        return rate([(1.0, 200.0), (1.0, 800.0)], idx) - rate([(30.0, 200.0), (30.0, 800.0)], idx)

    def travel_effect(idx: np.ndarray) -> float:
        return rate([(1.0, 800.0), (30.0, 800.0)], idx) - rate([(1.0, 200.0), (30.0, 200.0)], idx)

    table = pd.DataFrame(
        [
            {
                "x": f"delay {d:g} min",
                "group": f"{s:g} m/min",
                "value": rate([(d, s)], np.arange(n)),
                **dict(
                    zip(
                        ("low", "high"),
                        bootstrap_interval(n, lambda i, k=(d, s): rate([k], i)),
                        strict=True,
                    )
                ),
            }
            for s in (200.0, 800.0)
            for d in (1.0, 30.0)
        ]
    )
    figure = estimates(
        table,
        figures / "response",
        xlabel="median reporting delay",
        ylabel="car arrests per 100 reported thefts",
        title=f"On-scene arrests by reporting delay and car speed ({n} runs per cell)",
    )[0]
    stats = {
        "delay_effect": estimate(n, delay_effect),
        "travel_effect": estimate(n, travel_effect),
        "delay_minus_travel_effect": estimate(n, lambda i: delay_effect(i) - travel_effect(i)),
    }
    total = int(sum(a.sum() for a in arrests.values()))
    details = [
        f"{total} car arrests after {int(sum(r.sum() for r in reported.values()))} "
        f"reported thefts in all. Effect of a 1- rather than 30-minute reporting delay: "
        f"{stats['delay_effect']}; of 800 rather than 200 m/min: {stats['travel_effect']} "
        "(arrests per 100 reported thefts)."
    ]
    return Measurement(stats, n, total, details, figure)


# --- diminishing returns, placement held fixed ----------------------------------------


def diminishing(
    fact: FactSpec, experiment: Experiment, rows: pd.DataFrame, figures: Path
) -> Measurement:
    """Thefts prevented per post: the first 5 posts against the last 20 (of 40)."""
    factor = "policy.deploy.0.count"
    none = arm(rows, "none")
    counts = sorted(int(float(v)) for v in rows[f"f:{factor}"].dropna().unique())
    arms = {c: arm(rows, "posts-trial", factor, c) for c in counts}
    n = _n(none, *arms.values())
    base = none["thefts_occurred"].to_numpy(dtype=float)[:n]
    prevented = {
        0: np.zeros(n),
        **{c: base - a["thefts_occurred"].to_numpy(dtype=float)[:n] for c, a in arms.items()},
    }
    first, last_from, last = counts[0], counts[-2], counts[-1]

    def first_minus_last(idx: np.ndarray) -> float:
        p = {c: v[idx].mean() for c, v in prevented.items()}
        return p[first] / first - (p[last] - p[last_from]) / (last - last_from)

    table = pd.DataFrame(
        [
            {"x": c, "value": v.mean(), "low": mean_ci(v)[1], "high": mean_ci(v)[2]}
            for c, v in sorted(prevented.items())
        ]
    )
    figure = estimates(
        table,
        figures / "diminishing",
        xlabel="two-officer posts",
        ylabel="thefts prevented per run (vs no police)",
        reference=0.0,
        title=f"Returns of visible posts, placement held fixed ({n} runs per level)",
    )[0]
    details = [
        "Thefts prevented per run: "
        + "; ".join(
            f"{c} posts: {Estimate(*mean_ci(v)[:3])}" for c, v in sorted(prevented.items()) if c
        )
        + "."
    ]
    return Measurement(
        {"first_minus_last_per_post": estimate(n, first_minus_last)},
        n,
        int(base.sum()),
        details,
        figure,
    )


MEASURES: dict[str, Measure] = {
    "concentration": concentration,
    "hotspot-trial": hotspot_trial,
    "koper": koper,
    "displacement": displacement,
    "time-of-day": time_of_day,
    "response": response,
    "diminishing": diminishing,
}
"""The measure of each fact key of the plan."""
