"""Figures, the interactive app (rendered headless, and served offline)."""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest
from app_server import served
from conftest import eventually

import sim
from sim.city.assign import PlaceAssignment, assign_places
from sim.city.io import read_graphml
from sim.policing.policy import POLICY_DIR, load_policy
from sim.scenario import load_scenario
from sim.viz import figures

solara = pytest.importorskip("solara", reason="the app needs the [viz] extra")
app = pytest.importorskip("sim.viz.app")
v = pytest.importorskip("ipyvuetify")  # solara's widgets

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


def test_a_session_steps_both_models_on_the_same_visitors():
    session = app.Session(app.Controls.of_policy("small-town", "integrated"))
    session.advance(14 * 60.0)  # to 14:00: a crowd, police on duty
    ours, none = session.model, session.without_police
    assert ours.now == none.now == 14 * 60.0
    assert none.policy.deploy == ()  # the counterfactual has no police
    assert ours.visitor_flow.arrived_people == none.visitor_flow.arrived_people > 0
    assert app.clock_text(ours) == "Day 1 of 1, 14:00"
    board = app.running_metrics(ours)
    assert int(board["visible officers now"].replace(",", "")) > 0
    assert app.running_metrics(none)["visible officers now"] == "0"
    view, _ = solara.render(app.Board(session), handle_error=False)
    assert view is not None
    session.advance(session.to_midnight())
    assert app.clock_text(ours) == "Day 1 of 1, 24:00 (the run is over)"
    session.release()


def test_units_are_drawn_by_kind_where_they_are():
    session = app.Session(app.Controls.of_policy("small-town", "integrated"))
    session.advance(10 * 60.0)
    positions = app.unit_positions(session.model)
    assert set(positions) == set(app.KINDS)  # a new kind of unit gets a marker of its own
    assert len(positions["uniformed"]) == sum(
        d.count for d in session.model.policy.deploy if d.unit == "uniformed"
    )
    city = session.model.city
    for xy in positions.values():  # on the map: within the city's extent
        assert np.all((xy[:, 0] >= city.x.min()) & (xy[:, 0] <= city.x.max()))
    session.release()


def test_theft_heat_is_thefts_per_day_per_km2():
    city = load_scenario("small-town").city_model()
    thefts = np.zeros(city.n_nodes)
    thefts[city.places[0]] = 10.0
    grid, (x0, x1, y0, y1) = app.theft_heat(city, thefts, days=2.0)
    cell_km2 = (x1 - x0) / grid.shape[1] * (y1 - y0) / grid.shape[0] / 1e6
    assert grid.sum() * cell_km2 == pytest.approx(5.0, rel=0.02)  # 10 thefts over 2 days


def test_each_browser_session_gets_its_own_models(monkeypatch):
    built = []

    class Counted(app.Session):
        def __init__(self, controls):
            super().__init__(controls)
            built.append(self)

    monkeypatch.setattr(app, "Session", Counted)
    page = app.make_page("small-town", "integrated")
    for _ in range(2):  # two sessions: two renders of the page component
        solara.render(page(), handle_error=False)
    assert eventually(lambda: len(built) == 2)  # built in the background
    assert built[0].model is not built[1].model


@pytest.mark.parametrize("policy", ["integrated", "grid", "fixed-posts", "none"])
def test_the_sliders_start_at_the_chosen_policys_own_values(policy):
    controls = app.Controls.of_policy("leshan-mayday", policy)
    spec = load_policy(policy)
    assert controls.scale <= 0.1
    assert controls.dispatch_delay == spec.dispatch.delay_min
    model = app.LiveModel(**{**controls.model_arguments(), "scenario": "small-town"})
    for slider, unit in app.SLIDER_UNITS.items():
        assert getattr(controls, slider) == sum(d.count for d in spec.deploy if d.unit == unit)
        assert sum(d.count for d in model.policy.deploy if d.unit == unit) == getattr(
            controls, slider
        )
    model.release()


def test_a_policy_file_is_loaded_and_a_bad_one_is_refused(tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text((POLICY_DIR / "fixed-posts.toml").read_text())
    assert app.Controls.of_policy("small-town", str(good)).posts == 20
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 3\n[[deploy]]\nunit = 'tank'\n")
    with pytest.raises(sim.ConfigError):
        app.Controls.of_policy("small-town", str(bad))


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


def test_a_chosen_preset_never_shows_the_last_models_board_under_its_title(monkeypatch):
    held = threading.Event()

    class Held(app.Session):
        def __init__(self, controls):
            if controls.policy == "grid":  # the rebuild waits while the page is inspected
                assert held.wait(60)
            super().__init__(controls)

    def texts(root) -> str:  # solara's Markdown is a Vue template holding its HTML
        return " ".join(str(w.template) for w in root.find(v.VuetifyTemplate).widgets)

    boards = []  # the policy of the model behind every board rendered
    board = app.Board

    @solara.component
    def Recorded(session):  # noqa: N802 - a component
        boards.append(session.controls.policy)
        return board(session)

    monkeypatch.setattr(app, "Session", Held)
    monkeypatch.setattr(app, "Board", Recorded)
    _, rc = solara.render(app.make_page("small-town", "integrated")(), handle_error=False)
    assert eventually(lambda: "Running: integrated," in texts(rc))
    boards.clear()
    rc.find(v.Select).widget.v_model = "grid"  # the user picks a preset
    assert "under grid" in texts(rc)
    assert "Running: integrated," not in texts(rc)  # the old board is gone while it builds
    held.set()
    assert eventually(lambda: "Running: grid," in texts(rc))
    assert set(boards) == {"grid"}  # no render in between showed the last model's board
