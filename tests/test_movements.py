"""Patrol movements, the police stops table and cars on the road (mechanisms issue)."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import sim
from sim.agents.officer import Responder
from sim.city.legs import Leg, metres_to_many
from sim.cli import main
from sim.errors import ConfigError
from sim.policing.deploy import covering_tour
from sim.policing.policy import Deployment, DispatchSpec, Policy, load_policy
from sim.scenario import load_scenario, with_overrides

SHIFT = (8.0, 20.0)


@pytest.fixture(scope="module")
def town():
    return load_scenario("small-town")


def one_car(movement: str, where: str = "cells", **fields) -> Policy:
    """A single car that does not answer calls, so its stops show its movement alone."""
    return Policy(
        name=movement,
        deploy=(
            Deployment(
                unit="patrol_car",
                count=1,
                officers=2,
                where=where,
                movement=movement,
                dwell_min=10.0,
                hours=SHIFT,
                responds=False,
                **fields,
            ),
        ),
    )


def stop_nodes(result) -> list[str]:
    stops = result.police_stops.sort_values("arrive")
    return stops["node"].tolist()


def cell_points(town, cell: int = 0) -> list[str]:
    city = town.city_model()
    points = np.flatnonzero(city.patrol_point & (city.cell == cell))
    points = points[np.argsort(-city.attractiveness[points], kind="stable")]
    return [city.node_ids[p] for p in points]


def test_static_stays_at_its_post_for_the_shift(town):
    stops = sim.run(town, one_car("static"), seed=1).police_stops
    assert len(stops) == 1
    assert stops["node"].iloc[0] == cell_points(town)[0]
    assert stops["leave"].iloc[0] - stops["arrive"].iloc[0] == pytest.approx(
        60.0 * (SHIFT[1] - SHIFT[0])
    )


def test_circuit_tours_its_assigned_places_in_order(town):
    nodes = stop_nodes(sim.run(town, one_car("circuit", circuit_places=3), seed=1))
    assigned = cell_points(town)[:3]
    assert len(nodes) > 10
    assert nodes == [assigned[i % 3] for i in range(len(nodes))]


def test_patrol_points_tours_every_point_of_its_cell_in_a_covering_order(town):
    points = cell_points(town)
    assert len(points) > 3  # the town's cell 0 has several mandatory points
    nodes = stop_nodes(sim.run(town, one_car("patrol_points"), seed=1))
    assert set(nodes) == set(points)  # all of them within one shift
    city = town.city_model()
    index = {nid: i for i, nid in enumerate(city.node_ids)}
    tour = [city.node_ids[n] for n in covering_tour(city, [index[p] for p in points])]
    assert nodes == [tour[i % len(tour)] for i in range(len(nodes))]
    assert tour != points  # the order covers the cell, not the attractiveness ranking


def test_random_walk_draws_each_next_stop_from_what_its_rule_allows(town):
    city = town.city_model()
    visited = {city.node_ids[n] for n in city.visited}
    nodes = stop_nodes(sim.run(town, one_car("random_walk", where="random"), seed=1))
    assert set(nodes) <= visited
    assert len(set(nodes)) >= 10  # many distinct places in a day, not a fixed circuit
    assert all(a != b for a, b in itertools.pairwise(nodes))
    cells = stop_nodes(sim.run(town, one_car("random_walk"), seed=1))
    assert set(cells) <= set(cell_points(town))
    assert len(set(cells)) == len(cell_points(town))


def test_random_patrol_preset_covers_many_places_per_car():
    result = sim.run("leshan-mayday", "random-patrol", seed=3, days=1, scale=0.05)
    per_car = result.police_stops.groupby("unit")["node"].nunique()
    assert len(per_car) == 17
    assert per_car.min() >= 20


def test_patrol_points_needs_cells(write_toml):
    path = write_toml(
        '[[deploy]]\nunit = "patrol_car"\nwhere = "top_crowded"\nmovement = "patrol_points"\n',
        "policy.toml",
    )
    with pytest.raises(ConfigError) as info:
        load_policy(str(path))
    assert info.value.field == "deploy[0].movement"


def test_police_stops_are_written_and_returned(town, tmp_path):
    result = sim.run(town, "integrated", seed=2)
    stops = result.police_stops
    assert list(stops.columns) == ["unit", "kind", "group", "node", "bus_line", "arrive", "leave"]
    assert set(stops["kind"]) == {"uniformed", "plainclothes", "patrol_car", "drone"}
    assert (stops["leave"] >= stops["arrive"]).all()
    assert (stops.loc[stops["bus_line"] != "", "kind"] == "plainclothes").all()
    out = tmp_path / "run"
    cli = CliRunner().invoke(
        main,
        [
            "run",
            "--scenario",
            "small-town",
            "--policy",
            "integrated",
            "--seed",
            "2",
            "--out",
            str(out),
        ],
    )
    assert cli.exit_code == 0, cli.output
    written = pd.read_parquet(out / "police_stops.parquet")
    pd.testing.assert_frame_equal(written, stops)
    assert (out / "daily.parquet").exists()


def test_no_police_no_stops(town):
    assert sim.run(town, "none", seed=1).police_stops.empty


def position_metres(leg, t: float, scene_row: np.ndarray, speed: float) -> float:
    """Shortest street metres from a car's true position to the scene (independent check)."""
    times = list(leg.times)
    if t >= times[-1] or len(times) == 1:
        return float(scene_row[leg.nodes[-1]] if t >= times[-1] else scene_row[leg.nodes[0]])
    i = bisect.bisect_right(times, t) - 1
    back, ahead = (t - times[i]) * speed, (times[i + 1] - t) * speed
    return float(min(back + scene_row[leg.nodes[i]], ahead + scene_row[leg.nodes[i + 1]]))


def test_response_time_is_at_least_the_drive_from_the_cars_true_position(town, monkeypatch):
    """Cars dispatched mid-drive start from where they are, never from the node they left;
    after a job they go on with their tour at the stop they were heading for."""
    starts = []
    respond = Responder.respond

    def recording(self, job):
        if job.incident is not None:  # thefts (other calls come and go too)
            starts.append(
                (
                    job.incident.id,
                    self.model.env.now,
                    self.leg,
                    job.node,
                    self.speed,
                    self.model.city,
                )
            )
        yield from respond(self, job)

    monkeypatch.setattr(Responder, "respond", recording)
    busy = with_overrides(
        town,
        {
            "victims.report_probability": 1.0,
            "victims.notice_median_min": 2.0,
            "police.car_speed_m_per_min": 150.0,
        },
    )
    delay = 1.0
    policy = Policy(
        name="cars",
        dispatch=DispatchSpec(delay_min=delay),
        deploy=(
            Deployment(
                unit="patrol_car",
                count=4,
                officers=2,
                where="cells",
                movement="patrol_points",
                dwell_min=2.0,
                hours=(0.0, 24.0),
            ),
        ),
    )
    moving = checked = 0
    for seed in range(1, 7):
        starts.clear()
        result = sim.run(busy, policy, seed=seed)
        inc = result.incidents.set_index("id")
        for incident_id, t, leg, node, speed, city in starts:
            row = inc.loc[incident_id]
            drive = position_metres(leg, t, city.distances_from(node), speed) / speed
            moving += len(leg.nodes) > 1 and leg.times[0] < t < leg.times[-1]
            assert t >= row["t_requested"] + delay - 1e-9
            assert row["t_responded"] - row["t_requested"] >= delay + drive - 1e-6
            checked += 1
        # the tour goes on: each car's next patrol stop follows the last one in tour order
        city = busy.city_model()
        for _, car in result.police_stops.groupby("unit"):
            cell = int(city.cell[city.node_ids.index(car["node"].iloc[0])])
            tour = covering_tour(city, [city.node_ids.index(p) for p in cell_points(busy, cell)])
            position = [tour.index(city.node_ids.index(n)) for n in car["node"]]
            steps = np.diff(position) % len(tour)
            assert set(steps.tolist()) <= {1}, "a tour restarted or skipped a stop"
    assert checked >= 20
    assert moving >= 5  # the invariant was exercised by cars caught on the road


def test_an_overnight_shift_works_across_midnight(town):
    """A shift from 22 h to 6 h: on duty from the run's start (the night that began before
    it), again from 22 h, and paid for 8 hours a day."""
    policy = one_car("static")
    night = Policy(name="night", deploy=(replace(policy.deploy[0], hours=(22.0, 6.0)),))
    result = sim.run(with_overrides(town, {"days": 2}), night, seed=1)
    stops = result.police_stops.sort_values("arrive")
    assert stops["arrive"].round().tolist() == [0.0, 22 * 60.0, (24 + 22) * 60.0]
    assert stops["leave"].round().tolist() == [6 * 60.0, (24 + 6) * 60.0, 48 * 60.0]
    assert result.metrics["car_hours"] == pytest.approx(2 * 8.0)


def test_the_dispatchers_measure_of_many_units_is_each_ones_true_position(town):
    """`metres_to_many` (every free unit at once) equals each leg's own measure."""
    city = town.city_model()
    rng = np.random.default_rng(2)
    legs = [Leg.still(int(rng.integers(city.n_nodes)), 0.0) for _ in range(20)]
    legs += [
        Leg.along(city, int(a), int(b), 0.0, 150.0)
        for a, b in rng.integers(city.n_nodes, size=(20, 2))
    ]
    scene = city.distances_from(int(rng.integers(city.n_nodes)))
    for t in (0.0, 3.3, 7.9, 1e4):
        want = [position_metres(leg, t, scene, leg.speed) for leg in legs]
        assert metres_to_many(legs, t, scene) == pytest.approx(want, abs=1e-9)
    moving = [leg for leg in legs if len(leg.nodes) > 2]
    assert len(moving) >= 10  # the road case, not only cars at a stop
