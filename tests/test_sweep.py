"""Sweeps: experiment files, executors, shards, a killed sweep that resumes, analysis."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import tracemalloc
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import eventually
from scipy import stats

from sim.batch import runs as runs_module
from sim.batch.progress import Progress
from sim.batch.runs import execute
from sim.cli import main
from sim.errors import ConfigError
from sim.sweep.analysis import replications_for
from sim.sweep.design import design, load_experiment, points, shard
from sim.sweep.report import analyze, wdq, wdq_interval
from sim.sweep.sweep import RESULTS, run_sweep

EXPERIMENT = """
name = "posts"
scenario = "small-town"
policies = ["fixed-posts"]
baseline = "none"
replications = 3
seed = 7
[factors]
"policy.deploy.0.count" = [1, 3, 6]
"""


@pytest.fixture
def experiment_file(tmp_path: Path) -> Path:
    path = tmp_path / "posts.toml"
    path.write_text(EXPERIMENT)
    return path


def metrics_table(folder: Path) -> pd.DataFrame:
    table = pd.read_parquet(folder / RESULTS)
    return table.drop(columns=["place_thefts", "place_visits"]).reset_index(drop=True)


def test_design_is_factorial_with_common_seeds(experiment_file):
    experiment = load_experiment(experiment_file)
    specs = design(experiment)
    assert len(specs) == (1 + 3) * 3  # baseline + 3 levels, 3 replications each
    seeds_by_point = {}
    for s in specs:
        seeds_by_point.setdefault(s.point, []).append(s.seed)
    assert len({tuple(v) for v in seeds_by_point.values()}) == 1  # CRN across points
    assert len({s.key() for s in specs}) == len(specs)
    assert specs[0].policy == "none"
    assert specs[0].policy_set == ()  # the baseline runs without the policy factor


def test_content_key_tracks_inputs_and_model_version(experiment_file, monkeypatch):
    spec = design(load_experiment(experiment_file))[5]
    key = spec.key()
    assert spec.key() == key
    assert replace(spec, seed=spec.seed + 1).key() != key
    monkeypatch.setattr(runs_module, "model_version", lambda: "other-version")
    newer = design(load_experiment(experiment_file))[5]
    assert newer.key() != key
    with pytest.raises(RuntimeError, match="designed for model"):
        execute(spec)  # a worker on other code refuses a spec from this version


def test_space_filling_block(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        EXPERIMENT.split("[factors]", maxsplit=1)[0]
        + """
[space]
method = "sobol"
samples = 8
seed = 1
integers = ["policy.deploy.0.count"]
[space.ranges]
"policy.deploy.0.count" = [1, 8]
"scenario.police.deter_visible" = [0.1, 0.6]
"""
    )
    experiment = load_experiment(path)
    settings = points(experiment)
    assert len(settings) == 8
    counts = [s["policy.deploy.0.count"] for s in settings]
    deter = [s["scenario.police.deter_visible"] for s in settings]
    assert all(isinstance(c, int) and 1 <= c <= 8 for c in counts)
    assert all(0.1 <= d <= 0.6 for d in deter)
    assert len(set(deter)) == 8
    lhs = load_experiment(path, scale=0.5)
    assert lhs.scale == 0.5


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (EXPERIMENT + "colour = 1\n", "factors.colour"),
        (
            EXPERIMENT.replace('"policy.deploy.0.count"', '"deploy.0.count"'),
            "factors.deploy.0.count",
        ),
        (EXPERIMENT.replace("[1, 3, 6]", "[1, -3]"), "factors.policy.deploy.0.count"),
        (EXPERIMENT.replace("replications = 3", "replications = 0"), "replications"),
        (
            EXPERIMENT.replace('"policy.deploy.0.count"', '"policy.deploy.0.cuont"'),
            "factors.policy.deploy.0.cuont",
        ),
    ],
)
def test_bad_experiment_names_the_field(tmp_path, text, field):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert field in result.output
    assert not (tmp_path / "o").exists()


def test_shards_together_equal_the_whole(experiment_file, tmp_path):
    experiment = load_experiment(experiment_file)
    whole = tmp_path / "whole"
    run_sweep(experiment, whole)
    sharded = tmp_path / "sharded"
    slices = [shard(design(experiment), f"{i}/3") for i in (1, 2, 3)]
    assert sorted(s.key() for part in slices for s in part) == sorted(
        s.key() for s in design(experiment)
    )
    for i in (1, 2, 3):
        report = run_sweep(experiment, sharded, shard_text=f"{i}/3")
        assert (report.consolidated is not None) == (i == 3)
    pd.testing.assert_frame_equal(metrics_table(sharded), metrics_table(whole))


def test_executors_give_identical_results(experiment_file, tmp_path):
    experiment = load_experiment(experiment_file)
    tables = {}
    for executor, workers in (("serial", 1), ("process", 2), ("dask", 2)):
        out = tmp_path / executor
        run_sweep(experiment, out, executor=executor, workers=workers, batch_size=2)
        tables[executor] = metrics_table(out)
    pd.testing.assert_frame_equal(tables["process"], tables["serial"])
    pd.testing.assert_frame_equal(tables["dask"], tables["serial"])
    flat = pd.read_csv(tmp_path / "serial" / "results.csv")  # one row per run
    assert len(flat) == len(tables["serial"])
    assert "f:policy.deploy.0.count" in flat.columns


def test_killed_sweep_loses_nothing_and_resumes_to_the_same_result(experiment_file, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(experiment_file), "--out", str(out)]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    eventually(lambda: len(list((out / "runs").glob("*.parquet"))) >= 4, poll=0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = list((out / "runs").glob("*.parquet"))
    assert 4 <= len(finished) < 12, "kill the sweep mid-way"
    for path in finished:  # every file on disk is a whole, readable run
        assert len(pd.read_parquet(path)) == 1
    assert not (out / RESULTS).exists()
    resumed = CliRunner().invoke(main, ["sweep", str(experiment_file), "--out", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert f"{12 - len(finished)} run now" in resumed.output
    clean = tmp_path / "clean"
    run_sweep(load_experiment(experiment_file), clean)
    pd.testing.assert_frame_equal(metrics_table(out), metrics_table(clean))


def test_worker_memory_stays_flat_over_many_runs(experiment_file):
    specs = design(load_experiment(experiment_file))
    for spec in specs[:3]:
        execute(spec)
    tracemalloc.start()
    for spec in specs[:6]:
        execute(spec)
    gc.collect()  # runs collect rarely by design; measure live memory, not pending garbage
    after_few = tracemalloc.get_traced_memory()[0]
    for _ in range(4):
        for spec in specs[:6]:
            execute(spec)
    gc.collect()
    after_many = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after_many - after_few < 500_000


def test_wdq_reads_diffusion_and_displacement():
    # treated area halves; the buffer falls by 10% more than control: diffusion
    assert wdq(np.array([50, 90, 100, 100, 100, 100])) == pytest.approx(0.2)
    # buffer rises while the treated area falls: displacement
    assert wdq(np.array([50, 120, 100, 100, 100, 100])) == pytest.approx(-0.4)
    assert np.isnan(wdq(np.array([100, 90, 100, 100, 100, 100])))  # no success to share


def test_analyze_writes_tables_and_figures(experiment_file, tmp_path):
    out = tmp_path / "analysed"
    run_sweep(load_experiment(experiment_file), out)
    result = analyze(out)
    rows = pd.read_parquet(out / RESULTS)
    main_effects = result.main_effects
    for level in (1, 3, 6):
        expected = rows.loc[
            rows["f:policy.deploy.0.count"] == level, "theft_rate_per_1000_visitors"
        ].mean()
        got = main_effects[
            (main_effects["policy"] == "fixed-posts") & (main_effects["level"] == level)
        ]["mean"].iloc[0]
        assert got == pytest.approx(expected)
    assert set(result.effects["policy"]) == {"fixed-posts"}
    assert len(result.effects[result.effects["metric"] == "theft_rate_per_1000_visitors"]) == 3
    assert len(result.displacement) == 3
    names = {p.name for p in result.files}
    assert "dose_response_policy_deploy_0_count.png" in names
    assert "effects.png" in names
    assert all(p.stat().st_size > 0 for p in result.files)
    printed = CliRunner().invoke(main, ["analyze", str(out)])
    assert printed.exit_code == 0, printed.output
    assert "displacement" in printed.output


def test_wdq_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    before = rng.poisson([40, 30, 100], size=(10, 3))
    after = rng.poisson([20, 27, 100], size=(10, 3))
    counts = np.hstack([after, before])
    low, high = wdq_interval(counts)
    estimate = wdq(counts.sum(axis=0))
    assert low < estimate < high
    assert wdq_interval(counts) == (low, high)
    no_effect = np.hstack([before, before])
    assert np.isnan(wdq_interval(no_effect)[0])


def test_sobol_indices_rank_an_influential_parameter_first(tmp_path):
    pytest.importorskip("SALib")
    path = tmp_path / "sa.toml"
    path.write_text("""
name = "sa"
scenario = "small-town"
policies = ["none"]
replications = 2
seed = 3
[space]
method = "saltelli"
samples = 8
seed = 2
[space.ranges]
"scenario.offenders.success_probability" = [0.1, 0.9]
"scenario.police.deter_drone" = [0.0, 0.1]
""")
    experiment = load_experiment(path)
    assert len(points(experiment)) == 8 * (2 + 2)
    out = tmp_path / "out"
    run_sweep(experiment, out)
    analyze(out)
    table = pd.read_csv(out / "analysis" / "sobol.csv").set_index("parameter")
    assert table.loc["scenario.offenders.success_probability", "ST"] > 0.5
    assert (
        table.loc["scenario.offenders.success_probability", "ST"]
        > table.loc["scenario.police.deter_drone", "ST"]
    )


def test_replications_for_a_given_precision():
    for sd, half in ((1.0, 0.5), (2.0, 0.3), (0.4, 0.01)):
        n = replications_for(sd, half)
        assert stats.t.ppf(0.975, n - 1) * sd / n**0.5 <= half
        assert stats.t.ppf(0.975, n - 2) * sd / (n - 1) ** 0.5 > half or n == 2
    assert replications_for(0.0, 0.1) == 2
    assert replications_for(1.0, 1e-6, max_runs=500) == 500


def test_model_version_covers_what_a_run_imports_and_nothing_else():
    files = {p.relative_to(runs_module.PACKAGE_DIR).as_posix() for p in runs_module.model_files()}
    for decides in (
        "model.py",
        "offenders.py",
        "city/legs.py",
        "policing/stops.py",
        "batch/runs.py",
        "policies/none.toml",
        "scenarios/leshan-mayday.graphml",
    ):
        assert decides in files
    for presentation in (
        "cli.py",
        "paramdoc.py",
        "regress.py",
        "viz/figures.py",
        "validation/facts.py",
        "sweep/compare.py",
        "sweep/report.py",
    ):
        assert presentation not in files


def test_batch_jobs_get_progress_lines_not_a_bar(capsys):
    with Progress(20, label="sweep x", show_bar=False) as bar:
        for _ in range(20):
            bar.update()
    lines = capsys.readouterr().err.strip().splitlines()
    assert 2 <= len(lines) <= 11  # about every tenth of the work
    assert lines[-1].startswith("sweep x: 20/20 runs done")
    assert "runs/s, about" in lines[0]  # the rate and the time left


def test_a_resumed_job_says_so_and_quiet_silences_progress(capsys):
    import logging  # noqa: PLC0415

    with Progress(10, label="sweep y", initial=4, show_bar=False) as bar:
        bar.update(6)
    err = capsys.readouterr().err
    assert "sweep y: resumed, 4 of 10 runs already done" in err
    log = logging.getLogger("crowdsim")
    level = log.level
    try:
        log.setLevel(logging.WARNING)  # what `crowdsim -q` does
        with Progress(10, label="sweep z", show_bar=False) as bar:
            bar.update(10)
        assert capsys.readouterr().err == ""
    finally:
        log.setLevel(level)


def test_the_dask_executor_opens_no_dashboard():
    pytest.importorskip("dask.distributed")
    from sim.batch.executors import dask_client  # noqa: PLC0415

    with dask_client(1, None) as client:
        # the scheduler's HTTP server answers health checks; the dashboard pages are off
        port = client.scheduler_info()["services"]["dashboard"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10)
        assert refused.value.code == 404
    assert client.status == "closed"  # the cluster it started is torn down with it


def test_factor_paths_read_as_words_with_units():
    from sim.sweep.design import describe  # noqa: PLC0415

    assert describe("policy.deploy.0.dwell_min") == (
        "stop length at each point or place when moving (min), deployment 0"
    )
    assert describe("scenario.police.car_speed_m_per_min").endswith("(m/min)")
    assert describe("scenario.visitors.dwell_median_min.scenic").endswith("(min)")
    assert describe("policy.no_such_field") == "no such field"


def test_sim_sweep_runs_an_experiment_and_stays_the_sweep_package(experiment_file, tmp_path):
    import sim  # noqa: PLC0415

    rows = sim.sweep(experiment_file, tmp_path / "out")
    assert isinstance(rows, pd.DataFrame)
    assert len(rows) == len(design(load_experiment(experiment_file)))
    assert rows["thefts_occurred"].notna().all()
    assert sim.sweep.design.design is design  # the package is still there, attributes and all
    again = sim.sweep(experiment_file, tmp_path / "out")  # resumes: nothing new to run
    pd.testing.assert_frame_equal(rows, again)
