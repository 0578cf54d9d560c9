"""`crowdsim regress` passes on main, catches a real change, and ignores a mere reshuffle."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.regress import compare, report

REDUCED = ["regress", "--replications", "10"]


def regress(*args: str):
    return CliRunner().invoke(main, [*REDUCED, *args])


def test_main_matches_the_committed_reference():
    result = regress()
    assert result.exit_code == 0, result.output
    assert "no drift" in result.output


def test_injected_parameter_change_is_flagged_by_both_tiers():
    # offenders at work vary by day and seed, so the reduced Tier 2 (10 runs a policy, an
    # unpaired test at alpha 0.001) needs a change this clear: 0.35 -> 0.9
    result = regress("--set", "scenario.police.deter_visible=0.9")
    assert result.exit_code == 1
    assert "Tier 1 (exact, replication 0)" in result.output
    assert "thefts_deterred" in result.output
    tier2 = regress("--tier", "2", "--set", "scenario.police.deter_visible=0.9")
    assert tier2.exit_code == 1
    assert "Mann-Whitney" in tier2.output


def test_other_seeds_change_samples_not_distributions():
    """New draws from the same model: Tier 1 sees different numbers, Tier 2 no shift."""
    assert regress("--tier", "1", "--seed", "424242").exit_code == 1
    tier2 = regress("--tier", "2", "--seed", "424242")
    assert tier2.exit_code == 0, tier2.output


def test_ranking_reversal_is_drift():
    ref = pd.DataFrame(
        {
            "label": ["a"] * 3 + ["b"] * 3,
            "replication": [0, 1, 2] * 2,
            "seed": [1, 2, 3] * 2,
            "rate": [1.0, 1.1, 0.9, 2.0, 2.1, 1.9],
        }
    )
    swapped = ref.assign(rate=[2.0, 2.1, 1.9, 1.0, 1.1, 0.9])
    drift = compare(ref, swapped, alpha=1e-9, threshold=0.1, response="rate", tiers=(2,))
    assert drift.ranking
    assert not drift.tier2  # too few runs for the test: only the ranking catches it
    close = ref.assign(rate=[1.0, 1.1, 0.9, 1.02, 1.12, 0.92])
    near = compare(
        close,
        close.assign(rate=close["rate"][::-1].to_numpy()),
        alpha=1e-9,
        threshold=0.1,
        response="rate",
        tiers=(2,),
    )
    assert not near.ranking  # a near-tie is no ranking to reverse


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--experiment", "nowhere.toml"), "file not found"),
        (("--set", "police.deter_visible=0.6"), "starts with 'scenario.' or 'policy.'"),
        (("--reference", "/nonexistent-ref"), "no reference here"),
    ],
)
def test_bad_input_exits_2(args, message):
    result = regress(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_update_writes_a_reference_that_then_passes(tmp_path):
    runner = CliRunner()
    args = ["regress", "--replications", "3", "--reference", str(tmp_path)]
    assert runner.invoke(main, [*args, "--update"]).exit_code == 0
    assert (tmp_path / "regression.parquet").exists()
    assert runner.invoke(main, args).exit_code == 0
    moved = runner.invoke(
        main, [*args, "--update", "--set", "scenario.offenders.success_probability=0.2"]
    )
    assert "moved since the last reference" in moved.output
    assert "thefts_occurred" in moved.output


def test_the_exact_tier_waits_for_the_same_platform():
    """A reference made with another numpy (or C library) is compared by distribution only."""
    from sim.machine import fingerprint  # noqa: PLC0415

    ref = pd.DataFrame(
        {"label": ["a", "a"], "replication": [0, 1], "seed": [1, 2], "rate": [1.0, 2.0]}
    )
    moved = ref.assign(rate=[1.5, 2.0])
    here = compare(ref, moved, alpha=0.5, threshold=0.1, response="rate", platform=fingerprint())
    assert here.tier1, "same platform: the exact tier runs and sees the change"
    other = {**fingerprint(), "numpy": "1.0.0"}
    there = compare(ref, moved, alpha=0.5, threshold=0.1, response="rate", platform=other)
    assert not there.tier1
    assert there.tiers_run == (2,)
    assert "numpy 1.0.0 there" in report(there)
    unknown = compare(ref, moved, alpha=0.5, threshold=0.1, response="rate", platform={})
    assert "does not record its platform" in report(unknown)


def test_the_report_says_the_statistical_tier_ran():
    assert "Tier 2 (statistical): ran on" in regress().output


def test_the_simd_level_does_not_decide_the_exact_tier():
    from sim.machine import exact_differences, fingerprint  # noqa: PLC0415

    assert not exact_differences({**fingerprint(), "simd_dispatched": []})
