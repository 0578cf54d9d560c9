"""Sobol indices of policy contrasts and PRIM scenario discovery over a sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.sweep.design import load_experiment
from sim.sweep.discover import discover
from sim.sweep.report import analyze
from sim.sweep.sweep import run_sweep

pytest.importorskip("SALib")

EXPERIMENT = """name = "toy-sensitivity"
scenario = "small-town"
policies = ["none", "fixed-posts", "plainclothes"]
baseline = "none"
replications = 1
seed = 5
days = 1

[space]
method = "saltelli"
samples = 32
seed = 2
logs = ["scenario.police.deter_visible"]

[space.ranges]
"scenario.police.deter_visible" = [0.02, 0.95]
"scenario.police.detect_drone" = [0.0, 1.0]

[[contrasts]]
name = "posts_vs_none"
policy = "fixed-posts"
doc = "posts minus none"

[[contrasts]]
name = "posts_minus_plainclothes"
policy = "fixed-posts"
minus = "plainclothes"
metric = "thefts_occurred"
kind = "prevented_per_100_officer_hours"
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sensitivity")
    path = folder / "toy.toml"
    path.write_text(EXPERIMENT)
    out = folder / "out"
    run_sweep(load_experiment(path), out, workers=2, progress=False)
    return out, analyze(out)


def test_an_input_nothing_reads_has_no_index_and_the_one_that_acts_has_most(swept):
    """No drone flies, so detect_drone changes no run: its indices are zero; deterrence acts."""
    out, _ = swept
    sobol = pd.read_csv(out / "analysis" / "sobol_contrasts.csv").set_index(
        ["contrast", "parameter"]
    )
    inert = sobol.loc[("posts_vs_none", "scenario.police.detect_drone")]
    acting = sobol.loc[("posts_vs_none", "scenario.police.deter_visible")]
    assert abs(inert["S1"]) < 1e-9
    assert abs(inert["ST"]) < 1e-9
    assert acting["ST"] > 0.3
    assert acting["ST_conf"] > 0  # an interval, not a point
    assert (out / "analysis" / "sobol_contrasts.png").exists()


def test_contrasts_are_paired_differences_at_each_point(swept):
    out, _ = swept
    values = pd.read_csv(out / "analysis" / "contrasts.csv")
    assert len(values) == 32 * (2 + 2)  # Saltelli: samples x (inputs + 2)
    low, high = values["scenario.police.deter_visible"].agg(["min", "max"])
    assert 0.02 <= low < 0.05  # sampled on a log scale: many points near the low end
    assert high <= 0.95
    assert (values["scenario.police.deter_visible"] < 0.14).mean() > 0.35
    # stronger deterrence, larger reduction: the contrast falls with the input
    rho = values[["scenario.police.deter_visible", "posts_vs_none"]].corr("spearman").iloc[0, 1]
    assert rho < -0.3


def test_prim_finds_the_box_where_posts_prevent_most(swept, tmp_path):
    pytest.importorskip("ema_workbench")
    out, _ = swept
    values = pd.read_csv(out / "analysis" / "contrasts.csv")
    cut = float(np.median(values["posts_vs_none"]))
    found = discover(out, "posts_vs_none", tmp_path / "d", below=cut, threshold=0.8)
    limits = found.limits.set_index("parameter")
    assert "scenario.police.deter_visible" in limits.index  # the input that acts
    assert limits.loc["scenario.police.deter_visible", "lower"] > 0.02  # strong deterrence
    assert "scenario.police.detect_drone" not in limits.index  # chance restrictions aside
    stats = found.trajectory.iloc[found.chosen]
    assert stats["density"] > 0.5  # better than the design's 50%
    assert (tmp_path / "d" / "summary.md").exists()
    assert (tmp_path / "d" / "tradeoff.png").exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--outcome", "nothing", "--above", "0"], "nothing"),
        (["--outcome", "posts_vs_none"], "--above/--below"),
        (["--outcome", "posts_vs_none", "--above", "1e9"], "0 of 128 points are cases"),
        (["--outcome", "thefts_occurred", "--above", "0"], "--policy"),
    ],
)
def test_bad_discovery_exits_2_and_writes_nothing(swept, tmp_path, args, named):
    out, _ = swept
    target = tmp_path / "d"
    outcome = CliRunner().invoke(main, ["discover", str(out), *args, "--out", str(target)])
    assert outcome.exit_code == 2, outcome.output
    assert named in outcome.output
    assert not target.exists()


def test_a_contrast_naming_a_policy_the_sweep_does_not_run_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(EXPERIMENT.replace('minus = "plainclothes"', 'minus = "grid"'))
    outcome = CliRunner().invoke(main, ["validate", str(path)])
    assert outcome.exit_code == 2
    assert "contrasts[1].minus" in outcome.output


def test_the_indices_intervals_are_the_same_on_every_analysis(swept, tmp_path):
    """SALib seeds its bootstrap only for a truthy seed: the intervals must still repeat."""
    out, _ = swept
    first = pd.read_csv(out / "analysis" / "sobol_contrasts.csv")
    analyze(out, tmp_path / "again")
    again = pd.read_csv(tmp_path / "again" / "sobol_contrasts.csv")
    pd.testing.assert_frame_equal(first, again)
