"""The `crowdsim` command's contract: JSON output, exit codes, nothing written on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

import sim
from sim.cli import main


def crowdsim(*args: str) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess (exit codes, stdout purity)."""
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, check=False
    )


def test_run_json_is_one_object_and_reproducible():
    args = (
        "run",
        "--scenario",
        "leshan-mayday",
        "--scale",
        "0.05",
        "--days",
        "1",
        "--seed",
        "1",
        "--json",
    )
    first, second = crowdsim(*args), crowdsim(*args)
    assert first.returncode == 0, first.stderr
    metrics = json.loads(first.stdout)
    assert metrics["visitors"] > 5000
    assert metrics["visitor_hours"] > metrics["visitors"]
    assert first.stdout == second.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--scenario", "atlantis"), "unknown scenario"),
        (("run", "--scenario", "small-town", "--set", "visitors.nope=1"), "unknown field 'nope'"),
        (("run", "--scenario", "small-town", "--set", "visitors.per_day=-5"), "out of range"),
        (("run", "--scenario", "small-town", "--scale", "-1"), "scale: -1.0 is out of range"),
        (("run", "--scenario", "small-town", "--set", "visitors"), "key.path=value"),
        (("validate", "nowhere.toml"), "file not found"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args, message):
    out = tmp_path / "out"
    result = crowdsim(*args, *(("--out", str(out)) if args[0] == "run" else ()))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_bad_city_file_exits_2(tmp_path):
    (tmp_path / "city.graphml").write_text("<graphml><graph><node id='a'/></graph></graphml>")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[city]\nfile = "city.graphml"\n')
    result = crowdsim("run", "--scenario", str(scenario))
    assert result.returncode == 2
    assert "city.graphml" in result.stderr
    assert "no coordinates" in result.stderr


def test_run_writes_outputs(tmp_path):
    result = CliRunner().invoke(main, ["run", "--scenario", "small-town", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "visitors" in result.output
    places = pd.read_parquet(tmp_path / "places.parquet")
    hourly = pd.read_parquet(tmp_path / "hourly.parquet")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert places["visits"].sum() > metrics["visitors"]  # each party visits several places
    assert hourly["visitors_arrived"].iloc[-1] == metrics["visitors"]


def test_list_and_validate():
    runner = CliRunner()
    listed = runner.invoke(main, ["list"])
    assert "leshan-mayday" in listed.output
    assert "small-town" in listed.output
    checked = runner.invoke(main, ["validate", "sim/scenarios/leshan-mayday.toml"])
    assert checked.exit_code == 0
    assert "576 nodes" in checked.output
    assert "10 bus lines" in checked.output


def test_an_unusable_out_is_bad_input_before_anything_runs(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        main, ["run", "--scenario", "small-town", "--out", str(blocker / "sub")]
    )
    assert result.exit_code == 2
    assert "--out" in result.output
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # as for a read-only folder
    result = CliRunner().invoke(
        main, ["run", "--scenario", "small-town", "--out", str(tmp_path / "new")]
    )
    assert result.exit_code == 2
    assert "cannot be written" in result.output
    assert not (tmp_path / "new").exists()


def test_a_bad_shard_writes_nothing(tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        main, ["sweep", "experiments/regression.toml", "--shard", "3/2", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert not out.exists()


def test_a_damaged_regression_reference_is_bad_input(tmp_path):
    (tmp_path / "regression.parquet").write_bytes(b"not parquet")
    result = CliRunner().invoke(
        main, ["regress", "--reference", str(tmp_path), "--replications", "2", "--tier", "1"]
    )
    assert result.exit_code == 2
    assert "regression.parquet" in result.output


@pytest.mark.parametrize(
    "command",
    [["run", "--scenario", "small-town"], ["compare", "--scenario", "small-town"], ["regress"]],
)
def test_a_negative_seed_is_bad_input(command):
    result = CliRunner().invoke(main, [*command, "--seed", "-1"])
    assert result.exit_code == 2
    assert "--seed" in result.output
    assert "Traceback" not in result.output


def test_quiet_keeps_progress_off_stderr_and_the_results_on_stdout():
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    args = ["compare", "--scenario", "small-town", "--policies", "none,fixed-posts"]
    args += ["--replications", "2", "--workers", "1"]
    loud = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, check=True
    )
    quiet = subprocess.run(
        [sys.executable, "-m", "sim.cli", "-q", *args], capture_output=True, text=True, check=True
    )
    assert "= 4 runs" in loud.stderr  # says how many runs before starting
    assert quiet.stderr == ""
    assert quiet.stdout == loud.stdout


def test_a_run_prints_the_same_numbers_on_the_command_line_and_in_python():
    from sim.output import metrics_text  # noqa: PLC0415

    shown = CliRunner().invoke(main, ["run", "--scenario", "small-town", "--days", "1"])
    assert shown.exit_code == 0, shown.output
    in_python = metrics_text(sim.run("small-town", None, seed=0, days=1).metrics)
    assert in_python in shown.output
    undefined = metrics_text({"response_all_mean_min": float("nan"), "visitors": 1234})
    assert undefined.split() == ["response_all_mean_min", "-", "visitors", "1,234"]
