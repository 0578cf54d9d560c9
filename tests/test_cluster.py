"""Golden Week scale and the cluster example: police in proportion, the SLURM job, a local
dask cluster giving the laptop's results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.policing.cost import officer_hours_per_day
from sim.policing.policy import load_policy
from sim.scenario import load_scenario
from sim.sweep.design import design, load_experiment
from sim.sweep.sweep import RESULTS, run_sweep

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "experiments" / "cluster" / "slurm_sweep.py"
GOLDEN_SWEEP = ROOT / "experiments" / "cluster" / "golden-week.toml"

TINY = """
name = "tiny"
scenario = "small-town"
policies = ["none", "integrated"]
replications = 2
seed = 3
days = 1
budget = 400
"""


def test_golden_week_is_a_million_a_day_for_a_week_with_police_in_proportion() -> None:
    golden, may_day = load_scenario("golden-week"), load_scenario("leshan-mayday")
    assert golden.visitors.per_day == 1_000_000
    assert golden.days == 7
    assert golden.city == may_day.city  # the same places and streets
    checkpoints = int(may_day.city_model().checkpoint.sum())
    in_proportion = (
        officer_hours_per_day(load_policy("integrated"), checkpoints)
        * golden.visitors.per_day
        / may_day.visitors.per_day
    )
    experiment = load_experiment(GOLDEN_SWEEP)
    assert experiment.scenario == "golden-week"
    assert experiment.budget == pytest.approx(in_proportion, rel=0.001)
    assert len(design(experiment)) == 10_000  # the worked estimate's size


def test_an_experiment_budget_scales_every_staffed_policy(tmp_path: Path) -> None:
    (tmp_path / "tiny.toml").write_text(TINY)
    experiment = load_experiment(tmp_path / "tiny.toml")
    sets = {s.policy: dict(s.policy_set) for s in design(experiment)}
    assert sets["none"] == {}
    checkpoints = int(load_scenario("small-town").city_model().checkpoint.sum())
    scaled = load_policy("integrated", sets["integrated"])
    assert officer_hours_per_day(scaled, checkpoints) < officer_hours_per_day(
        load_policy("integrated"), checkpoints
    )


def test_run_budget_scales_the_police_of_one_run() -> None:
    def hours(*extra: str) -> float:
        args = ["run", "--scenario", "small-town", "--policy", "integrated", "--days", "1"]
        result = CliRunner().invoke(main, [*args, *extra, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["officer_hours"]

    assert hours("--budget", "3200") > 1.5 * hours()


def test_slurm_job_asks_for_one_single_threaded_worker_per_core() -> None:
    pytest.importorskip("dask_jobqueue")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(GOLDEN_SWEEP), "--print-job-script", "--cores", "8"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "#SBATCH --cpus-per-task=8" in out
    assert "--nthreads 1" in out
    assert "--nworkers 8" in out


def test_local_dask_cluster_gives_the_serial_results(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    (tmp_path / "tiny.toml").write_text(TINY)
    run_sweep(load_experiment(tmp_path / "tiny.toml"), tmp_path / "serial")
    out = str(tmp_path / "cluster")
    subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "tiny.toml"), "--local", "2", "--out", out],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )
    serial = pd.read_parquet(tmp_path / "serial" / RESULTS).sort_values("key")
    on_cluster = pd.read_parquet(tmp_path / "cluster" / RESULTS).sort_values("key")
    metrics = ["thefts_occurred", "officer_hours", "visitors"]
    pd.testing.assert_frame_equal(
        serial[metrics].reset_index(drop=True), on_cluster[metrics].reset_index(drop=True)
    )
