"""Output folders: one writer at a time, damaged run files found and re-run, the usual file
permissions, no silent mixing of settings (--force), and a manifest that says what made them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import made_by_an_older_model

from sim.batch.store import ResultStore
from sim.cli import main
from sim.folder import LOCK, MANIFEST, claim

EXPERIMENT = """
name = "tiny"
scenario = "small-town"
policies = ["fixed-posts"]
baseline = "none"
replications = 2
seed = 5
days = 1
scale = 0.3
"""
RUN = ["run", "--scenario", "small-town", "--days", "1", "--scale", "0.3"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(EXPERIMENT)
    return path


def write_lock(folder: Path, pid: int, host: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK
    lock.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "since": "x"}))
    return lock


def test_files_get_the_usual_permissions(tmp_path):
    out = tmp_path / "run"
    old = os.umask(0o022)
    try:
        # a fresh process reads the umask at import, as a user's shell would set it
        subprocess.run(
            [sys.executable, "-m", "sim.cli", *RUN, "--out", str(out)],
            check=True,
            capture_output=True,
        )
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir() if p.is_file()}
    assert modes
    assert set(modes.values()) == {0o644}, modes


def test_a_second_writer_is_refused_while_the_first_lives(experiment, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(out, holder.pid)
        refused = invoke("sweep", str(experiment), "--out", str(out))
        assert refused.exit_code == 2
        assert "--out" in refused.output
        assert str(holder.pid) in refused.output
        assert not (out / "runs").exists()
        forced = invoke("sweep", str(experiment), "--out", str(out), "--force")
        assert forced.exit_code == 2  # --force never joins a live writer
        assert "does not take over a live writer" in forced.output
        assert not (out / "runs").exists()
        assert json.loads((out / LOCK).read_text())["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
    outcome = invoke("sweep", str(experiment), "--out", str(out))
    assert outcome.exit_code == 0, outcome.output  # the dead writer's lock is taken over
    assert not (out / LOCK).exists()  # released when the writer finished


def test_a_writer_never_removes_a_lock_that_is_not_its_own(tmp_path):
    """A writer whose lock was replaced (by hand, or on another host) leaves the new one."""
    out = tmp_path / "out"
    with claim(out, command="test", settings={}):
        other = {"pid": 999999, "host": "node-3", "since": "now"}
        (out / LOCK).write_text(json.dumps(other))
    assert json.loads((out / LOCK).read_text()) == other


def test_force_takes_over_another_hosts_lock(experiment, tmp_path):
    out = tmp_path / "out"
    write_lock(out, 1, host="node-17.cluster")
    forced = invoke("sweep", str(experiment), "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output


def test_a_crashed_writers_lock_does_not_block(experiment, tmp_path):
    out = tmp_path / "out"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_lock(out, gone.pid)
    outcome = invoke("sweep", str(experiment), "--out", str(out))
    assert outcome.exit_code == 0, outcome.output
    assert "4/4 runs done" in outcome.output


def test_a_lock_held_on_another_host_is_explained(experiment, tmp_path):
    out = tmp_path / "out"
    lock = write_lock(out, 1, host="node-17.cluster")
    outcome = invoke("sweep", str(experiment), "--out", str(out))
    assert outcome.exit_code == 2
    assert "node-17.cluster" in outcome.output
    assert str(lock) in outcome.output


def test_a_damaged_run_file_is_found_and_run_again(experiment, tmp_path):
    out = tmp_path / "out"
    assert invoke("sweep", str(experiment), "--out", str(out)).exit_code == 0
    before = pd.read_parquet(out / "results.parquet").drop(columns="police_layout")
    victim = sorted((out / "runs").glob("*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:100])  # truncated, as by a full disk
    assert len(ResultStore(out).damaged()) == 1
    status = invoke("sweep", str(experiment), "--out", str(out), "--status")
    assert "3/4 runs done, 1 missing (1 of them damaged files" in status.output
    resumed = invoke("sweep", str(experiment), "--out", str(out))
    assert "1 run now" in resumed.output
    after = pd.read_parquet(out / "results.parquet").drop(columns="police_layout")
    pd.testing.assert_frame_equal(before, after)


def test_other_settings_in_a_folder_are_refused_without_force(tmp_path):
    out = tmp_path / "cmp"
    first = ["compare", "--scenario", "small-town", "--policies", "fixed-posts"]
    first += ["--replications", "2", "--days", "1", "--scale", "0.3", "--out", str(out)]
    assert invoke(*first).exit_code == 0
    summary = (out / "summary.md").read_text()
    other = [*first[:-2], "--seed", "9", "--out", str(out)]
    refused = invoke(*other)
    assert refused.exit_code == 2
    assert "other settings" in refused.output
    assert "--force" in refused.output
    assert (out / "summary.md").read_text() == summary  # nothing overwritten
    assert invoke(*other, "--force").exit_code == 0
    assert json.loads((out / MANIFEST).read_text())["settings"]["seed"] == 9


def test_results_of_another_model_version_are_refused(tmp_path):
    out = tmp_path / "run"
    assert invoke(*RUN, "--out", str(out)).exit_code == 0
    made_by_an_older_model(out)
    refused = invoke(*RUN, "--out", str(out))
    assert refused.exit_code == 2
    assert "another model version" in refused.output


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_every_output_folder_has_a_manifest(command, experiment, tmp_path):
    out = tmp_path / command
    args = {
        "run": [*RUN, "--seed", "3"],
        "compare": [
            "compare",
            "--scenario",
            "small-town",
            "--policies",
            "fixed-posts",
            "--replications",
            "2",
            "--days",
            "1",
            "--scale",
            "0.3",
        ],
        "sweep": ["sweep", str(experiment)],
    }[command]
    assert invoke(*args, "--out", str(out)).exit_code == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["command"] == command
    for key in ("command_line", "settings", "model_version", "versions", "started", "finished"):
        assert manifest[key], key
    assert manifest["versions"]["crowdsim"]
    if command == "run":
        assert manifest["settings"]["seed"] == 3
        assert manifest["settings"]["scenario"]["scale"] == 0.3  # resolved, not the name
    if command == "compare":
        assert set(manifest["resolved_policies"]) == {"none", "fixed-posts"}
        assert manifest["resolved_scenario"]["days"] == 1


def test_a_run_file_with_a_flipped_bit_is_damaged_and_run_again(experiment, tmp_path):
    """A corrupt data page under an intact footer: found by the checksum, never merged."""
    out = tmp_path / "out"
    assert invoke("sweep", str(experiment), "--out", str(out)).exit_code == 0
    before = pd.read_parquet(out / "results.parquet").drop(columns="police_layout")
    victim = sorted((out / "runs").glob("*.parquet"))[0]
    good, original = victim.read_bytes(), pd.read_parquet(victim)
    found = 0
    for at in range(8, len(good) - 8, 97):  # bits all over the file: data, schema, footer
        bad = bytearray(good)
        bad[at] ^= 0x10
        victim.write_bytes(bytes(bad))
        try:
            table = pd.read_parquet(victim)
        except Exception:
            table = None
        if table is not None and table.equals(original):
            continue  # a flip that changes nothing that is read (e.g. in the statistics)
        assert not ResultStore(out).done() >= {victim.stem}, f"flip at byte {at} not found"
        found += 1
    assert found
    victim.write_bytes(bytes(bytearray(good[:-200]) + bytes(200)))
    status = invoke("sweep", str(experiment), "--out", str(out), "--status")
    assert "3/4 runs done" in status.output
    resumed = invoke("sweep", str(experiment), "--out", str(out))
    assert resumed.exit_code == 0, resumed.output
    after = pd.read_parquet(out / "results.parquet").drop(columns="police_layout")
    pd.testing.assert_frame_equal(before, after)


def test_a_damaged_results_table_is_named_by_analyze(experiment, tmp_path):
    out = tmp_path / "out"
    assert invoke("sweep", str(experiment), "--out", str(out)).exit_code == 0
    results = out / "results.parquet"
    good, original = results.read_bytes(), pd.read_parquet(results)
    for at in range(4, len(good)):  # the first flip that changes what is read
        data = bytearray(good)
        data[at] ^= 0x01
        results.write_bytes(bytes(data))
        try:
            if not pd.read_parquet(results).equals(original):
                break
        except Exception:
            break
    outcome = invoke("analyze", str(out))
    assert outcome.exit_code == 2, outcome.output
    assert str(results) in outcome.output
    assert "Traceback" not in outcome.output


def test_the_manifest_records_the_platform(tmp_path):
    with claim(tmp_path / "out", command="test", settings={}) as manifest:
        pass
    platform = manifest["platform"]
    assert {"machine", "simd_dispatched", "libc", "numpy", "scipy", "mesa"} <= set(platform)
    written = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert written["platform"] == platform


def test_shipped_results_are_replaced_only_with_force(experiment, tmp_path, monkeypatch):
    """Following an example never rewrites the shipped results/; make results passes --force."""
    import sim.folder  # noqa: PLC0415

    shipped = tmp_path / "results"
    monkeypatch.setattr(sim.folder, "SHIPPED", shipped)
    out = shipped / "tiny"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("the record")
    refused = invoke("sweep", str(experiment), "--out", str(out))
    assert refused.exit_code == 2
    assert "shipped results/" in refused.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert invoke("sweep", str(experiment), "--out", str(out), "--force").exit_code == 0
    assert invoke("analyze", str(out)).exit_code == 2  # its analysis would be replaced
    elsewhere = invoke("analyze", str(out), "--out", str(tmp_path / "mine"))
    assert elsewhere.exit_code == 0, elsewhere.output
    assert (tmp_path / "mine" / "summary.csv").exists()
    assert invoke("analyze", str(out), "--force").exit_code == 0


def test_a_run_file_must_hold_one_row(tmp_path):
    """A sound table that is not one run's row (two rows, none) is not a finished run."""
    from sim.output import write_table  # noqa: PLC0415

    store = ResultStore(tmp_path)
    write_table(pd.DataFrame({"key": ["a"], "x": [1.0]}), store.path("a"))
    write_table(pd.DataFrame({"key": ["b", "b"], "x": [1.0, 2.0]}), store.path("b"))
    write_table(pd.DataFrame({"key": pd.Series([], dtype=str)}), store.path("c"))
    assert store.done() == {"a"}
    assert sorted(p.stem for p in store.damaged()) == ["b", "c"]
