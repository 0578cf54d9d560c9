"""Summaries of many runs: means with 95% CIs, and paired effects against a baseline.

Paired effects difference each replication with the baseline's run of the same seed
(common random numbers), which removes most of the between-seed noise; their intervals are
Student-t intervals from scipy (`ttest_1samp(...).confidence_interval`), as a difference
may have either sign. The mean of a metric that cannot be negative (a count, a rate, a
time) gets the t-interval on the log scale, and a share the t-interval on the logit scale
(delta method), so no interval leaves the metric's range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import BY_NAME

CONFIDENCE = 0.95


def mean_ci(
    values: np.ndarray | pd.Series, confidence: float = CONFIDENCE
) -> tuple[float, float, float, int]:
    """Mean and t-interval (95% unless asked) of the finite values (NaN with fewer than two)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan, len(x)
    if np.ptp(x) == 0:  # no spread at all: the interval is the point
        return mean, mean, mean, len(x)
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence)
    return mean, float(ci.low), float(ci.high), len(x)


def bounded_ci(
    values: np.ndarray | pd.Series, *, share: bool = False
) -> tuple[float, float, float, int]:
    """Mean and 95% interval of a non-negative metric (a share: within [0, 1]).

    The t-interval is taken on the log scale of the mean (logit for a share), with the
    standard error carried over by the delta method, and mapped back: the bounds stay
    inside the metric's range and the interval is wider on the open side.
    """
    mean, low, high, n = mean_ci(values)
    if n < 2 or math.isnan(low) or low == high:
        return mean, low, high, n
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    if share and 0 < mean < 1:
        centre, spread = math.log(mean / (1 - mean)), half / (mean * (1 - mean))
        return mean, _expit(centre - spread), _expit(centre + spread), n
    if mean > 0:
        return mean, mean * math.exp(-half / mean), mean * math.exp(half / mean), n
    return mean, low, high, n


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def summarize(rows: pd.DataFrame, metrics: list[str], by: str = "label") -> pd.DataFrame:
    """Per group and metric: mean, interval within the metric's range, runs with a value."""
    records = []
    for group, frame in rows.groupby(by, sort=False):
        for metric in metrics:
            known = BY_NAME.get(metric)
            if known is None:
                mean, low, high, n = mean_ci(frame[metric])
            else:
                mean, low, high, n = bounded_ci(frame[metric], share=known.unit == "share")
            records.append(
                {by: group, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high, "n": n}
            )
    return pd.DataFrame(records)


def paired_effects(
    rows: pd.DataFrame,
    metrics: list[str],
    baseline: str,
    by: str = "label",
    pair_on: str = "replication",
    *,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per group and metric: mean paired difference to `baseline` with its CI (95% unless asked)."""
    records = []
    for group, treated, base in _pairs(rows, baseline, by, pair_on):
        for metric in metrics:
            diff = treated[metric] - base[metric]
            mean, low, high, n = mean_ci(diff, confidence)
            base_mean = mean_ci(base[metric])[0]
            records.append(
                {
                    by: group,
                    "metric": metric,
                    "difference": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "relative": mean / base_mean if base_mean else math.nan,
                }
            )
    return pd.DataFrame(records)


def _pairs(
    rows: pd.DataFrame, baseline: str, by: str, pair_on: str
) -> Iterator[tuple[Any, pd.DataFrame, pd.DataFrame]]:
    """Each group but the baseline, with the baseline's runs, paired.

    Both are cut to the `pair_on` values they share and indexed by them, so row i of one
    pairs with row i of the other.
    """
    base = rows[rows[by] == baseline].set_index(pair_on)
    if base.empty:
        raise ValueError(f"baseline {baseline!r} has no runs")
    for group, frame in rows.groupby(by, sort=False):
        if group == baseline:
            continue
        treated = frame.set_index(pair_on)
        common = treated.index.intersection(base.index)
        yield group, treated.loc[common], base.loc[common]


def separation(
    rows: pd.DataFrame, metric: str, by: str = "label", pair_on: str = "replication"
) -> tuple[str, list[dict]]:
    """The group with the lowest mean, and whether it is the best, the choice accounted for.

    Multiple comparisons with the best (Hsu 1996), in its Bonferroni form: the group with
    the lowest mean is compared with every other by a one-sided paired test of "the other
    is higher" over common replications, and each p-value is adjusted for the k - 1
    comparisons (`statsmodels` `multipletests`, Bonferroni). The lowest is the best only if
    every adjusted p is below 5%: picking the lowest from the same data is then accounted
    for, which Holm's step-down (whose largest p is not adjusted at all) would not do. A
    comparison with fewer than two pairs decides nothing (p = 1, counted among the k - 1).
    """
    from statsmodels.stats.multitest import multipletests  # noqa: PLC0415  (heavy import)

    means = rows.groupby(by, sort=False)[metric].mean().sort_values(kind="stable")
    best = str(means.index[0])
    base = rows[rows[by] == best].set_index(pair_on)[metric]
    tests = []
    for other in means.index[1:]:
        theirs = rows[rows[by] == other].set_index(pair_on)[metric]
        common = base.index.intersection(theirs.index)
        diff = (theirs.loc[common] - base.loc[common]).to_numpy(dtype=float)
        diff = diff[np.isfinite(diff)]
        tests.append(
            {
                by: str(other),
                "difference": float(diff.mean()) if len(diff) else math.nan,
                "p": one_sided_p(diff),
                "n": len(diff),
            }
        )
    if tests:
        p = [t["p"] if math.isfinite(t["p"]) else 1.0 for t in tests]
        adjusted = multipletests(p, alpha=1.0 - CONFIDENCE, method="bonferroni")[1]
        for test, p_adjusted in zip(tests, adjusted.tolist(), strict=True):
            test["p_adjusted"] = p_adjusted
            test["separated"] = bool(p_adjusted < 1.0 - CONFIDENCE)
    return best, tests


def one_sided_p(diff: np.ndarray) -> float:
    """p-value of "the mean difference is above 0" from paired differences.

    A paired t-test; where every difference is the same (no variance, so no t), the exact
    sign-flip test instead: n equal positive differences have p = 0.5 ** n, so two runs
    can never make a difference "certain". NaN with fewer than two differences.
    """
    if len(diff) < 2:
        return math.nan
    if np.ptp(diff) == 0:
        return 0.5 ** len(diff) if diff[0] > 0 else 1.0
    return float(stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue)


def replications_for(sd: float, half_width: float, max_runs: int = 10_000) -> int:
    """Replications whose 95% t-interval of a mean (sd `sd`) is at most +-`half_width`.

    The smallest n >= 2 with t(0.975, n - 1) x sd / sqrt(n) <= half_width, found by
    doubling then bisection; `max_runs` if even that many are not enough (a noisy metric).
    """
    if not math.isfinite(sd) or half_width <= 0:
        return max_runs
    if sd == 0:
        return 2

    def enough(n: int) -> bool:
        return stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / math.sqrt(n) <= half_width

    high = 2
    while not enough(high):
        if high >= max_runs:
            return max_runs
        high = min(2 * high, max_runs)
    low = high // 2
    while low + 1 < high:
        mid = (low + high) // 2
        low, high = (low, mid) if enough(mid) else (mid, high)
    return max(high, 2)


def bootstrap_interval(
    n: int, statistic: Callable[[np.ndarray], float], resamples: int = 999
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of `statistic(indices)` over `n` paired runs.

    `statistic` takes an array of run indices (a resample with replacement) and returns a
    number, NaN where it is undefined for that resample. scipy's bootstrap cannot skip
    undefined resamples; here they are dropped, and no interval is given (NaN, NaN) if they
    are more than a tenth or there are fewer than three runs. Seeded: reproducible.
    """
    if n < 3:
        return math.nan, math.nan
    rng = np.random.default_rng(0)
    picks = rng.integers(0, n, size=(resamples, n))
    values = np.array([statistic(p) for p in picks], dtype=float)
    finite = values[np.isfinite(values)]
    if len(finite) < 0.9 * resamples:
        return math.nan, math.nan
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def posterior_effects(
    rows: pd.DataFrame,
    metrics: list[str],
    baseline: str,
    *,
    draw: str = "f:draw",
    by: str = "label",
    pair_on: str = "replication",
) -> pd.DataFrame:
    """Paired effects under parameter uncertainty: runs nested in posterior draws.

    Each run is paired with the baseline's run of the same seed and draw. The interval is
    a 95% prediction interval for the paired difference of one run at a parameter set
    drawn from the posterior, so it holds both the parameter uncertainty and the run's
    noise, whatever the number of runs per draw: with R runs per draw it is t(k - 1) x
    sqrt(between + within + var(draw means) / k), from a one-way random-effects split of
    the differences' variance into between draws (parameters) and within draws (run to
    run); with one run per draw the draw means are single runs and it is t(k - 1) x sd x
    sqrt(1 + 1/k). The shares of the two variances are reported too.
    """
    records = []
    for group, treated, base in _pairs(rows, baseline, by, pair_on):
        for metric in metrics:
            diff = pd.DataFrame({"draw": treated[draw], "d": treated[metric] - base[metric]})
            diff = diff.dropna()
            records.append({by: group, "metric": metric, **_nested(diff)})
    return pd.DataFrame(records)


def _nested(diff: pd.DataFrame) -> dict[str, float]:
    """Mean, prediction interval and variance shares of differences grouped by draw."""
    per_draw = diff.groupby("draw")["d"]
    means = per_draw.mean().to_numpy(dtype=float)
    k = len(means)
    runs = per_draw.size().to_numpy()
    out = {
        "difference": float(diff["d"].mean()) if len(diff) else math.nan,
        "pi_low": math.nan,
        "pi_high": math.nan,
        "draws": k,
        "runs": len(diff),
        "parameter_share": math.nan,
        "run_to_run_share": math.nan,
    }
    if k < 2:
        return out
    centre, spread = float(means.mean()), float(means.std(ddof=1))
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, k - 1)
    if (runs == 1).all():  # each draw mean is one run
        half = t * spread * math.sqrt(1 + 1 / k)
    elif (runs >= 2).all():
        within = float(per_draw.var(ddof=1).mean())
        between = max(0.0, spread * spread - within / float(runs.mean()))
        total = between + within
        half = t * math.sqrt(total + spread * spread / k)
        if total > 0:
            out["parameter_share"] = between / total
            out["run_to_run_share"] = within / total
    else:  # some draws with one run, some with more: no one-run interval is defined here
        return out
    out["pi_low"], out["pi_high"] = centre - half, centre + half
    return out
