"""`crowdsim compare`: statistics checked against scipy, outputs written, runs resumed."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from sim.cli import main
from sim.sweep import compare as compare_module
from sim.sweep.analysis import (
    bounded_ci,
    mean_ci,
    paired_effects,
    separation,
    summarize,
)


def test_mean_ci_is_the_student_t_interval():
    x = np.array([3.1, 2.4, 5.0, 4.2, 3.3, 2.9])
    mean, low, high, n = mean_ci(x)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    assert (mean, n) == (pytest.approx(x.mean()), 6)
    assert low == pytest.approx(x.mean() - half)
    assert high == pytest.approx(x.mean() + half)
    assert np.isnan(mean_ci([1.0])[1])
    assert mean_ci([2.0, 2.0, np.nan]) == (2.0, 2.0, 2.0, 2)


def test_paired_effect_matches_scipy_paired_t():
    rng = np.random.default_rng(0)
    base = rng.normal(10, 3, 12)
    treated = base - 1.5 + rng.normal(0, 0.5, 12)  # strongly paired
    rows = pd.DataFrame(
        {
            "label": ["none"] * 12 + ["posts"] * 12,
            "replication": list(range(12)) * 2,
            "rate": np.concatenate([base, treated]),
        }
    )
    effect = paired_effects(rows, ["rate"], "none").iloc[0]
    expected = stats.ttest_rel(treated, base).confidence_interval(0.95)
    assert effect["difference"] == pytest.approx((treated - base).mean())
    assert effect["ci_low"] == pytest.approx(expected.low)
    assert effect["ci_high"] == pytest.approx(expected.high)
    # pairing matters: the unpaired interval is far wider
    unpaired = stats.ttest_ind(treated, base).confidence_interval(0.95)
    assert (expected.high - expected.low) < 0.5 * (unpaired.high - unpaired.low)
    summary = summarize(rows, ["rate"]).set_index("label")
    assert summary.loc["posts", "mean"] == pytest.approx(treated.mean())


def test_paired_effects_pair_by_replication_not_order():
    rows = pd.DataFrame(
        {"label": ["b", "b", "t", "t"], "replication": [0, 1, 1, 0], "m": [1.0, 5.0, 6.0, 2.0]}
    )
    effect = paired_effects(rows, ["m"], "b").iloc[0]
    assert effect["difference"] == pytest.approx(1.0)
    assert effect["ci_low"] == pytest.approx(1.0)  # the same +1 in both pairs


def test_compare_writes_tables_and_figures_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    args = [
        "compare",
        "--scenario",
        "small-town",
        "--policies",
        "fixed-posts,plainclothes",
        "--replications",
        "3",
        "--out",
        str(out),
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    for name in ("fixed-posts", "plainclothes", "none"):
        assert name in first.output
    assert "it/s" not in first.output  # no progress bar when stdout is not a terminal
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 9
    assert set(runs.groupby("label")["seed"].apply(frozenset)) == {
        frozenset(runs.loc[runs["label"] == "none", "seed"])
    }  # same seeds everywhere
    flat = pd.read_csv(out / "runs.csv")  # one row per run: parameters and metrics
    assert len(flat) == 9
    assert {"label", "seed", "replication", "theft_rate_per_1000_visitors"} <= set(flat.columns)
    assert not any(c.startswith(("place_", "hourly_")) for c in flat.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert {"label", "metric", "mean", "ci_low", "ci_high"} <= set(summary.columns)
    assert "| fixed-posts" in (out / "summary.md").read_text()
    for figure in ("effects_theft_rate.png", "map_best_policy.png"):
        data = (out / figure).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 10_000
        assert (out / figure).with_suffix(".svg").stat().st_size > 1000

    calls = []
    monkeypatch.setattr(
        compare_module, "run_all", lambda specs, **kw: calls.append(len(specs)) or iter(())
    )
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert calls == [0]  # every run was already on disk
    assert pd.read_parquet(out / "runs.parquet").equals(runs)


def test_compare_rejects_bad_policy_before_running(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "compare",
            "--scenario",
            "small-town",
            "--policies",
            "grid,warp-drive",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2
    assert not (tmp_path / "x").exists()


def policies(diffs: dict[str, list[float]]) -> pd.DataFrame:
    """Rows of a baseline "a" (0 in every replication) and others at the given differences."""
    n = len(next(iter(diffs.values())))
    frames = [pd.DataFrame({"label": "a", "replication": range(n), "rate": 0.0})]
    frames += [
        pd.DataFrame({"label": name, "replication": range(n), "rate": d})
        for name, d in diffs.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_two_runs_with_equal_differences_never_make_a_policy_the_best():
    best, tests = separation(policies({"b": [1.0, 1.0]}), "rate")
    assert best == "a"
    assert tests[0]["p"] == 0.25  # the exact sign-flip test, not p = 0
    assert not tests[0]["separated"]


def test_choosing_the_best_from_the_same_data_is_accounted_for():
    """Four rivals; the closest is one-sided p of about 0.02: enough for one comparison, not
    for the claim that "a" beats all four (Holm's step-down let its largest p through)."""
    close = np.array([0.1, 1.8, -0.5, 1.0, 0.8, -0.3, 1.5, 0.4, -0.05, 1.1])
    far = close + 5.0
    _, tests = separation(policies({"b": close, "c": far, "d": far, "e": far}), "rate")
    by = {t["label"]: t for t in tests}
    assert 0.0125 < by["b"]["p"] < 0.025  # two-sided below 5%: "separated" before
    assert by["b"]["p_adjusted"] == pytest.approx(4 * by["b"]["p"])
    assert not by["b"]["separated"]
    assert by["c"]["separated"]


def test_a_comparison_that_decides_nothing_still_counts():
    rows = policies({"b": [3.0, 3.1, 2.9], "c": [4.0, 4.2, 3.9]})
    rows = rows[~((rows["label"] == "c") & (rows["replication"] > 0))]  # one pair only
    _, tests = separation(rows, "rate")
    by = {t["label"]: t for t in tests}
    assert math.isnan(by["c"]["p"])
    assert not by["c"]["separated"]
    assert by["b"]["p_adjusted"] == pytest.approx(2 * by["b"]["p"])  # two comparisons


def test_a_best_policy_is_named_only_when_it_separates():
    rng = np.random.default_rng(0)
    seeds = np.arange(12)
    common = rng.normal(5.0, 1.0, len(seeds))  # run-to-run noise shared by all policies

    def rows(gap_b: float, gap_c: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "label": ["a"] * 12 + ["b"] * 12 + ["c"] * 12,
                "replication": np.tile(seeds, 3),
                "rate": np.concatenate(
                    [
                        common,
                        common + gap_b + rng.normal(0, 0.05, 12),
                        common + gap_c + rng.normal(0, 0.05, 12),
                    ]
                ),
            }
        )

    best, tests = separation(rows(1.0, 2.0), "rate")
    assert best == "a"
    assert all(t["separated"] for t in tests)
    best, tests = separation(rows(0.0, 2.0), "rate")  # a and b tie
    assert not all(t["separated"] for t in tests)
    assert {t["label"]: t["separated"] for t in tests}["c"]


@pytest.mark.parametrize("seed", range(20))
def test_intervals_of_counts_and_shares_stay_in_range(seed):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.uniform(0.2, 3.0), size=int(rng.integers(2, 8)))
    mean, low, high, _ = bounded_ci(counts)
    assert 0 <= low <= mean <= high or (math.isnan(low) and math.isnan(high))
    shares = rng.beta(0.5, 3.0, size=int(rng.integers(2, 8)))
    mean, low, high, _ = bounded_ci(shares, share=True)
    assert 0 <= low <= mean <= high <= 1


def test_a_count_whose_t_interval_dips_below_zero_gets_a_positive_one():
    counts = np.array([0, 0, 1, 5, 0])
    assert mean_ci(counts)[1] < 0
    mean, low, high, n = bounded_ci(counts)
    assert 0 < low < mean < high
    assert n == 5
    # on the log scale the interval is the t-interval's half-width, mapped back
    half = stats.t.ppf(0.975, 4) * counts.std(ddof=1) / math.sqrt(5)
    assert math.isclose(math.log(high / mean), half / mean)


def test_summaries_bound_registry_metrics_and_comparisons_warn_when_thin():
    rows = pd.DataFrame(
        {
            "label": ["a"] * 3 + ["b"] * 3,
            "replication": [0, 1, 2] * 2,
            "thefts_occurred": [0, 4, 0, 2, 3, 1],
            "police_visibility": [0.01, 0.3, 0.02, 0.5, 0.6, 0.4],
        }
    )
    summary = summarize(rows, ["thefts_occurred", "police_visibility"])
    assert (summary["ci_low"] >= 0).all()
    assert (summary.loc[summary["metric"] == "police_visibility", "ci_high"] <= 1).all()
    cautions = compare_module._cautions(rows, rows)
    assert any("only 3 replications" in c for c in cautions)
    assert any("few thefts per run" in c for c in cautions)


def test_the_verdict_says_when_no_policy_separated():
    tests = [{"label": "b", "separated": False}, {"label": "c", "separated": True}]
    verdict = compare_module._verdict("a", tests, separated=False)
    assert verdict.startswith("no policy separated")
    assert "b" in verdict
    assert "Bonferroni" in verdict


def test_the_public_api_returns_dataframes_and_a_flat_csv(tmp_path):
    import sim  # noqa: PLC0415

    comparison = sim.compare(
        "small-town", ["fixed-posts"], baseline="none", replications=2, days=1, out=tmp_path
    )
    for frame in (comparison.summary, comparison.effects, comparison.rows, comparison.table()):
        assert isinstance(frame, pd.DataFrame)
        assert not frame.empty
    flat = pd.read_csv(tmp_path / "runs.csv")
    assert len(flat) == 4  # one row per run
    assert {"label", "seed", "replication", "thefts_occurred"} <= set(flat.columns)
    assert not any(c.startswith(("place_", "hourly_")) for c in flat.columns)
    assert callable(sim.analyze)
    assert callable(sim.calibrate)
    assert sim.__version__


def test_workers_in_a_plain_script_fail_at_once_saying_what_to_do(tmp_path):
    """Spawned workers import the script again: without a __main__ guard, a clear error."""
    script = tmp_path / "plain.py"
    script.write_text(
        "import sim\n"
        'sim.compare("small-town", ["fixed-posts"], baseline="none", replications=2,'
        " workers=2, days=1, scale=0.2)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr
    assert "workers=1" in done.stderr
