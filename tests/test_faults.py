"""Faults a user meets: a full disk, output paths that lead nowhere, an unreadable manifest, a
city cache that must not grow, an app served beyond this machine, junk websocket frames."""

from __future__ import annotations

import asyncio
import errno
import json

import pytest
from click.testing import CliRunner

import sim.output
from sim import scenario as scenario_module
from sim.cli import EXIT_CANNOT_WRITE, main
from sim.folder import MANIFEST
from sim.scenario import CITY_CACHE_SIZE, load_scenario

RUN = ["run", "--scenario", "small-town", "--days", "1", "--scale", "0.2"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_full_disk_exits_3_in_one_line_and_the_folder_says_it_is_unfinished(
    tmp_path, monkeypatch
):
    def disk_full(table, where, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(where))

    monkeypatch.setattr(sim.output.pq, "write_table", disk_full)
    out = tmp_path / "run"
    outcome = invoke(*RUN, "--out", str(out))
    assert outcome.exit_code == EXIT_CANNOT_WRITE, outcome.output
    assert "Traceback" not in outcome.output
    assert "No space left on device" in outcome.output
    assert len(outcome.output.strip().splitlines()) == 1
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["finished"] is None  # it does not look complete
    assert "No space left" in manifest["failed"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # no temporary files left


def test_another_os_error_is_not_reported_as_a_full_disk(tmp_path, monkeypatch):
    def broken(table, where, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(where))

    monkeypatch.setattr(sim.output.pq, "write_table", broken)
    outcome = invoke(*RUN, "--out", str(tmp_path / "run"))
    assert outcome.exit_code not in (0, 2, EXIT_CANNOT_WRITE)  # a real fault stays visible


@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_an_out_symlink_that_leads_nowhere_is_refused_before_running(kind, tmp_path):
    link = tmp_path / "out"
    if kind == "dangling":
        link.symlink_to(tmp_path / "gone")
    else:
        (tmp_path / "other").symlink_to(link)
        link.symlink_to(tmp_path / "other")
    before = set(tmp_path.iterdir())
    outcome = invoke(*RUN, "--out", str(link))
    assert outcome.exit_code == 2
    assert "--out" in outcome.output
    assert "symbolic link" in outcome.output
    assert set(tmp_path.iterdir()) == before
    assert not (tmp_path / "gone").exists()


def test_an_unreadable_manifest_is_not_called_another_model_version(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / MANIFEST).write_text("{ not json")
    outcome = invoke(*RUN, "--out", str(out))
    assert outcome.exit_code == 2
    assert "cannot be read" in outcome.output
    assert "another model version" not in outcome.output
    assert (out / MANIFEST).read_text() == "{ not json"  # left as it was
    assert invoke(*RUN, "--out", str(out), "--force").exit_code == 0


def test_the_city_cache_keeps_a_bounded_number_of_cities(monkeypatch):
    monkeypatch.setattr(scenario_module, "_CITY_CACHE", type(scenario_module._CITY_CACHE)())
    for seed in range(3 * CITY_CACHE_SIZE):
        load_scenario("small-town", {"city.generate.seed": seed}).city_model()
    assert len(scenario_module._CITY_CACHE) == CITY_CACHE_SIZE
    last = load_scenario("small-town", {"city.generate.seed": seed})
    assert last.city_model() is last.city_model()  # a city in use is built once


def test_serving_the_app_beyond_this_machine_needs_public(monkeypatch):
    pytest.importorskip("solara", reason="the app needs the [viz] extra")
    refused = invoke("viz", "--host", "0.0.0.0")
    assert refused.exit_code == 2
    assert "--host" in refused.output
    assert "--public" in refused.output
    calls = []
    monkeypatch.setattr("sim.cli.subprocess.call", lambda cmd, env: calls.append(cmd) or 0)
    served = CliRunner().invoke(main, ["viz", "--host", "0.0.0.0", "--public"])
    assert served.exit_code == 0, served.output
    assert "warning" in served.output
    assert "anyone" in served.output
    assert calls
    assert calls[0][calls[0].index("--host") + 1] == "0.0.0.0"
    assert calls[0][1:3] == ["-m", "sim.viz.serve"]  # through the frame filter


GOOD_FRAME = json.dumps({"header": {"msg_type": "comm_msg"}, "channel": "shell", "content": {}})


@pytest.mark.parametrize(
    ("frame", "passes"),
    [
        ({"text": GOOD_FRAME}, True),
        ({"text": "not json"}, False),
        ({"text": "[1, 2]"}, False),
        ({"text": json.dumps({"header": "x", "channel": "shell"})}, False),
        ({"text": json.dumps({"header": {"msg_type": 1}, "channel": "shell"})}, False),
        ({"bytes": b"\x00\x01junk"}, False),
        ({}, False),
    ],
)
def test_only_jupyter_messages_reach_the_kernel(frame, passes):
    pytest.importorskip("solara", reason="the app needs the [viz] extra")
    from sim.viz.serve import well_formed  # noqa: PLC0415 - needs the extra

    assert well_formed(frame) is passes


def test_junk_websocket_frames_are_dropped_and_noted(capsys):
    pytest.importorskip("solara", reason="the app needs the [viz] extra")
    from sim.viz.serve import DropMalformedFrames  # noqa: PLC0415 - needs the extra

    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "junk"},
        {"type": "websocket.receive", "bytes": b"\xff"},
        {"type": "websocket.receive", "text": GOOD_FRAME},
        {"type": "websocket.disconnect"},
    ]
    seen = []

    async def receive():
        return incoming.pop(0)

    async def app(scope, receive, send):
        while (message := await receive())["type"] != "websocket.disconnect":
            seen.append(message)

    scope = {"type": "websocket", "client": ("10.0.0.9", 5000)}
    asyncio.run(DropMalformedFrames(app)(scope, receive, None))
    assert [m.get("text") for m in seen] == [None, GOOD_FRAME]  # connect, then the good one
    assert capsys.readouterr().err.count("dropped a malformed websocket frame from 10.0.0.9") == 2


def test_the_server_wraps_the_app_uvicorn_loads(monkeypatch):
    uvicorn = pytest.importorskip("uvicorn", reason="the app needs the [viz] extra")
    import solara.__main__  # noqa: PLC0415 - needs the extra

    from sim.viz import serve  # noqa: PLC0415 - needs the extra

    loaded = []

    async def asgi(scope, receive, send):
        pass

    def fake_cli(argv):
        config = uvicorn.Config(asgi)
        config.load()
        loaded.append(config.loaded_app)

    monkeypatch.setattr(solara.__main__, "cli", fake_cli)
    monkeypatch.setattr(uvicorn.Config, "load", uvicorn.Config.load)  # undone after the test
    serve.main(["run", "app.py"])
    assert isinstance(loaded[0], serve.DropMalformedFrames)
