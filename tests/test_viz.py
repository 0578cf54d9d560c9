"""Figures, the interactive app (rendered headless, and served offline)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

import sim
from sim.city.assign import PlaceAssignment, assign_places
from sim.city.io import read_graphml
from sim.policing.policy import load_policy
from sim.viz import figures

solara = pytest.importorskip("solara", reason="the app needs the [viz] extra")
app = pytest.importorskip("sim.viz.app")

PNG = b"\x89PNG\r\n\x1a\n"


def test_run_figures_are_written(tmp_path):
    result = sim.run("small-town", "integrated", seed=2)
    paths = figures.run_figures(result, tmp_path, "integrated", "small-town")
    assert {p.name for p in paths} == {"map.png", "map.svg", "time_series.png", "time_series.svg"}
    for path in paths:
        assert path.stat().st_size > 5_000
    assert (tmp_path / "map.png").read_bytes()[:8] == PNG
    svg = (tmp_path / "map.svg").read_text()
    assert "<svg" in svg
    assert "dc:date" not in svg  # byte-stable when regenerated


def test_city_map_works_for_a_loaded_osm_city(milan_graphml, tmp_path):
    city = assign_places(read_graphml(milan_graphml), PlaceAssignment())
    places = np.flatnonzero(np.array(city.kind) != "street")
    frame = pd.DataFrame(
        {
            "x": city.x[places],
            "y": city.y[places],
            "visits": np.arange(len(places)),
            "thefts": np.ones(len(places)),
        }
    )
    png, _ = figures.city_map(city, frame, tmp_path / "milan")
    assert png.stat().st_size > 10_000


def test_sliders_set_unit_counts_and_dispatch_delay():
    model = app.LiveModel(
        scenario="small-town",
        policy="integrated",
        posts=3,
        plainclothes_teams=5,
        patrol_cars=2,
        dispatch_delay=7.0,
    )
    policy = model.policy
    counts = {}
    for d in policy.deploy:
        counts[d.unit] = counts.get(d.unit, 0) + d.count
    assert counts["uniformed"] == 3
    assert counts["plainclothes"] == 5
    assert counts["patrol_car"] == 2
    assert policy.dispatch.delay_min == 7.0
    model.release()


def test_app_renders_headless_and_steps():
    box, _ = solara.render(app.Page(), handle_error=False)
    assert box is not None
    model = app.LiveModel(scenario="small-town", policy="integrated")
    for _ in range(14):  # to 14:00: a crowd, police on duty
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["visitors_present"].iloc[-1] > 0
    assert {"thefts_total", "arrests_total"} <= set(frame.columns)
    for component in (app.CityView, app.HourlyView):
        view, _ = solara.render(component(model), handle_error=False)
        assert view is not None
    model.release()


def test_each_browser_session_gets_its_own_model(monkeypatch):
    built = []

    class Counted(app.LiveModel):
        def __init__(self, **kwargs):
            built.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(app, "LiveModel", Counted)
    page = app.make_page("small-town", "integrated")
    for _ in range(2):  # two sessions: two renders of the page component
        solara.render(page(), handle_error=False)
    assert len(built) == 2


@pytest.mark.parametrize("policy", ["integrated", "grid", "fixed-posts", "none"])
def test_the_sliders_start_at_the_chosen_policys_own_values(policy):
    params = app.model_params("leshan-mayday", policy)
    spec = load_policy(policy)
    start = app.initial_values(params)
    assert start["scale"] <= 0.1
    assert start["dispatch_delay"] == spec.dispatch.delay_min
    model = app.LiveModel(**{**start, "scenario": "small-town"})
    for slider, unit in app.SLIDER_UNITS.items():
        assert start[slider] == sum(d.count for d in spec.deploy if d.unit == unit), slider
        assert sum(d.count for d in model.policy.deploy if d.unit == unit) == start[slider]
    assert model.controls["patrol cars"] == start["patrol_cars"]  # shown beside the sliders
    view, _ = solara.render(app.RunningNow(model), handle_error=False)
    assert view is not None
    model.release()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(env: dict[str, str]) -> Iterator[tuple[int, str]]:
    """`crowdsim viz` running in its own session: (port, the page it serves)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "viz", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        page = ""
        deadline = time.time() + 90
        while time.time() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.5)
        assert "solara" in page.lower()
        yield port, page
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_app_is_served_offline(tmp_path):
    """`crowdsim viz` serves the page and every script and style sheet itself."""
    with served({**os.environ, "HOME": str(tmp_path)}) as (port, page):
        assets = re.findall(r'(?:src|href)="(/_solara/cdn/[^"]+)"', page)
        assert assets, "the page loads its libraries through solara's local asset route"
        for asset in assets:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{asset}", timeout=10) as r:
                assert r.status == 200
                assert len(r.read()) > 1000


SPY = """
import os, socket
LOG = os.environ["CROWDSIM_NET_LOG"]
LOCAL = ("127.", "::1", "localhost", "0.0.0.0")


def _note(target):
    with open(LOG, "a") as fh:
        fh.write(repr(target) + "\\n")


_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if not str(host).startswith(LOCAL):
        _note(host)
        raise socket.gaierror("outside connections are blocked in this test")
    return _getaddrinfo(host, *args, **kwargs)


_connect = socket.socket.connect


def connect(self, address):
    if isinstance(address, tuple) and not str(address[0]).startswith(LOCAL):
        _note(address)
        raise OSError("outside connections are blocked in this test")
    return _connect(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
"""


def test_the_app_makes_no_outside_connection(tmp_path):
    """Serving the page and its assets looks up and connects to nothing beyond this machine."""
    (tmp_path / "sitecustomize.py").write_text(SPY)
    log = tmp_path / "outside.log"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "CROWDSIM_NET_LOG": str(log),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "True",  # a user's environment cannot turn it on
    }
    with served(env):
        time.sleep(3)  # telemetry and version checks run in background threads
    assert not log.exists(), f"outside connections attempted: {log.read_text()}"
