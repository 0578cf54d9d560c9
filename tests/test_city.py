"""City loaders (GraphML incl. osmnx-style, GeoJSON), generator, place rules, travel times."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import networkx as nx
import numpy as np
import pytest

import sim
from sim.city.assign import PlaceAssignment, assign_places
from sim.city.generate import GeneratedCitySpec, generate_city
from sim.city.io import load_city, read_graphml, write_geojson, write_graphml
from sim.city.transit import Transit
from sim.errors import ConfigError
from sim.scenario import load_scenario, scenario_names


def osmnx_style_graph(lonlat: bool = False) -> nx.MultiDiGraph:
    """A tiny graph shaped like osmnx output: MultiDiGraph, x/y, crs, street_count, length."""
    g = nx.MultiDiGraph(crs="epsg:4326" if lonlat else "EPSG:32632")
    coords = {101: (0, 0), 102: (100, 0), 103: (100, 100), 104: (0, 100)}
    for node, (east, north) in coords.items():
        if lonlat:  # ~1e-3 degrees ~ 100 m
            g.add_node(node, x=9.19 + east * 1e-5, y=45.46 + north * 1e-5, street_count=2)
        else:
            g.add_node(node, x=east, y=north, street_count=2)
    for u, v in [(101, 102), (102, 103), (103, 104), (104, 101)]:
        for a, b in ((u, v), (v, u)):
            g.add_edge(a, b, osmid=7, highway="footway", oneway=False, length=100.0)
    g.add_edge(101, 102, osmid=8, highway="service", oneway=True, length=130.0)  # parallel
    return g


def test_osmnx_style_graphml_loads_with_defaults(tmp_path):
    path = tmp_path / "osm.graphml"
    nx.write_graphml(osmnx_style_graph(), path)
    city = read_graphml(path)
    assert city.n_nodes == 4
    assert city.kind == ["street"] * 4  # documented default for missing place attributes
    assert city.camera == ["none"] * 4
    assert city.crs == "EPSG:32632"
    i, j = city.node_ids.index("101"), city.node_ids.index("102")
    assert city.distance(i, j) == pytest.approx(100.0)  # shortest of the parallel edges
    k = city.node_ids.index("103")
    assert city.distance(i, k) == pytest.approx(200.0)


def test_lonlat_graph_is_projected_to_metres(tmp_path):
    g = osmnx_style_graph(lonlat=True)
    for _, _, d in g.edges(data=True):
        del d["length"]  # force lengths from projected coordinates
    path = tmp_path / "lonlat.graphml"
    nx.write_graphml(g, path)
    city = read_graphml(path)
    i, j = city.node_ids.index("101"), city.node_ids.index("102")
    # 1e-3 degrees of longitude at 45.46 N
    expected = math.radians(1e-3) * 6_371_008.8 * math.cos(math.radians(45.4605))
    assert city.distance(i, j) == pytest.approx(expected, rel=1e-3)


def test_missing_node_coordinates_is_an_error(tmp_path):
    g = osmnx_style_graph()
    g.add_edge(101, 999, length=5.0)  # 999 is never defined with coordinates
    path = tmp_path / "broken.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match="node '999'.*no coordinates") as info:
        read_graphml(path)
    assert info.value.file == str(path)


def test_negative_length_is_an_error(tmp_path):
    g = osmnx_style_graph()
    g.add_edge(103, 101, length=-4.0)
    path = tmp_path / "neg.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match=r"edge \(103, 101\)\.length"):
        read_graphml(path)


def test_unknown_kind_is_an_error(tmp_path):
    g = osmnx_style_graph()
    g.nodes[101]["kind"] = "casino"
    path = tmp_path / "kind.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match="allowed: street, scenic"):
        read_graphml(path)


@pytest.mark.parametrize(
    ("node_attr", "value", "field"),
    [
        ("x", float("nan"), "node '101'.x"),
        ("y", float("inf"), "node '101'.y"),
        ("capacity", "lots", "node '101'.capacity"),
        ("capacity", -5.0, "node '101'.capacity"),
        ("cell", "1.5", "node '101'.cell"),
        ("patrol_point", "maybe", "node '101'.patrol_point"),
    ],
)
def test_city_values_pass_the_config_checks(tmp_path, node_attr, value, field):
    """A city file's values meet the same checks as every config field: no bare float()."""
    g = osmnx_style_graph()
    g.nodes[101][node_attr] = value
    path = tmp_path / "bad.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError) as info:
        read_graphml(path)
    assert info.value.field == field


def test_bus_lines_are_checked_like_config(tmp_path):
    g = osmnx_style_graph()
    g.graph["bus_lines"] = json.dumps([{"name": "a", "stops": ["101", "103"], "headway_min": -2}])
    path = tmp_path / "bus.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError) as info:
        read_graphml(path)
    assert info.value.field == "bus_lines[0].headway_min"
    g.graph["bus_lines"] = json.dumps([{"name": "a", "stops": ["101", "777"]}])
    nx.write_graphml(g, path)
    with pytest.raises(ConfigError, match="unknown: 777"):
        read_graphml(path)


def test_unknown_file_type_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="allowed: .graphml, .geojson"):
        load_city(tmp_path / "city.shp")
    with pytest.raises(ConfigError, match="file not found"):
        load_city(tmp_path / "absent.graphml")


@pytest.mark.parametrize("writer", [write_graphml, write_geojson])
def test_round_trip_keeps_everything(tmp_path, writer):
    city = generate_city(GeneratedCitySpec(seed=3))
    path = tmp_path / ("c.graphml" if writer is write_graphml else "c.geojson")
    writer(city, path)
    back = load_city(path)
    assert back.node_ids == city.node_ids
    assert back.kind == city.kind
    assert back.label == city.label
    assert back.camera == city.camera
    np.testing.assert_allclose(back.x, city.x)
    np.testing.assert_allclose(back.attractiveness, city.attractiveness)
    np.testing.assert_array_equal(back.cell, city.cell)
    np.testing.assert_array_equal(back.patrol_point, city.patrol_point)
    np.testing.assert_array_equal(back.checkpoint, city.checkpoint)
    assert back.bus_lines == city.bus_lines
    a, b = int(city.entries[0]), int(city.attractions[-1])
    assert back.distance(a, b) == pytest.approx(city.distance(a, b))


def test_generator_is_seeded_and_connected():
    spec = GeneratedCitySpec(
        seed=11, rows=10, cols=12, n_cells=5, n_patrol_points=50, n_checkpoints=6
    )
    one, two = generate_city(spec), generate_city(spec)
    np.testing.assert_array_equal(one.x, two.x)
    assert one.kind == two.kind
    other = generate_city(GeneratedCitySpec(seed=12, rows=10, cols=12))
    assert not np.allclose(one.x, other.x)
    assert np.isfinite(one.distances_from(0)).all()  # dropped streets never disconnect
    assert set(one.cell.tolist()) == set(range(5))
    assert one.patrol_point.sum() == 50
    assert one.checkpoint.sum() == 6


def test_travel_times_are_metric():
    city = generate_city(GeneratedCitySpec(seed=5))
    nodes = np.arange(city.n_nodes)
    d = city.distance_matrix(nodes, nodes)
    np.testing.assert_allclose(d, d.T)
    assert (np.diag(d) == 0).all()
    # triangle inequality and never shorter than the straight line
    assert (d[:, :, None] <= d[:, None, :] + d.T[None, :, :] + 1e-6).all()
    straight = np.hypot(city.x[:, None] - city.x[None, :], city.y[:, None] - city.y[None, :])
    assert (d >= straight - 1e-6).all()
    path = city.path(0, city.n_nodes - 1)
    assert path[0] == 0
    assert path[-1] == city.n_nodes - 1
    legs = sum(city.distance(a, b) for a, b in itertools.pairwise(path))
    assert legs == pytest.approx(d[0, -1])


def test_many_sources_searched_at_once_give_each_ones_own_paths():
    one, many = (generate_city(GeneratedCitySpec(seed=5)) for _ in range(2))
    sources = [7, 3, 7, 0, many.n_nodes - 1]
    kept = many.distances_from(3)
    many.search_from(sources)
    assert many.distances_from(3) is kept  # a source already searched is not searched again
    for s in sources:
        np.testing.assert_array_equal(many.distances_from(s), one.distances_from(s))
        assert many.path(s, 1) == one.path(s, 1)


def test_real_osm_network_loads_and_takes_places(milan_graphml):
    city = read_graphml(milan_graphml)
    assert city.n_nodes == 341
    assert city.crs == "EPSG:32632"
    assert city.kind.count("street") == 341
    placed = assign_places(city, PlaceAssignment(attractions=15, entries=4, n_cells=3))
    assert len(placed.attractions) == 15
    assert len(placed.entries) == 4
    assert set(placed.cell.tolist()) == {0, 1, 2}
    transit = Transit(placed, 72.0, 15.0, (6.0, 23.0))
    minutes = [
        transit.plan(int(a), int(b)).walk_min for a in placed.entries for b in placed.attractions
    ]
    # a 2.1 x 1.8 km centre: every walk from the edge to a central sight is 2-45 minutes
    assert 2 < min(minutes) < max(minutes) < 45


def test_milan_duomo_is_a_built_in_scenario_on_the_real_network(milan_graphml):
    """The second built-in scenario: real streets, real landmarks at their intersections."""
    assert "milan-duomo" in scenario_names()
    scenario = load_scenario("milan-duomo")
    city = scenario.city_model()
    bare = read_graphml(milan_graphml)
    assert city.n_nodes == bare.n_nodes == 341
    assert np.allclose(city.x, bare.x)
    assert np.allclose(city.y, bare.y)
    labels = set(city.label)
    assert {"Piazza del Duomo and Cathedral", "Galleria Vittorio Emanuele II"} <= labels
    assert len(city.entries) == 5
    assert len(city.attractions) == 11
    duomo = city.label.index("Piazza del Duomo and Cathedral")
    galleria = city.label.index("Galleria Vittorio Emanuele II")
    assert 100 < np.hypot(city.x[duomo] - city.x[galleria], city.y[duomo] - city.y[galleria]) < 400
    result = sim.run(scenario, "integrated", seed=1, days=1, scale=0.2)
    busiest = result.places.sort_values("visits", ascending=False)["label"].iloc[0]
    assert busiest == "Piazza del Duomo and Cathedral"
    assert result.metrics["thefts_attempted"] > 0


def test_one_rider_boards_the_bus_the_many_riders_path_gives_to_the_bit():
    """`Transit.board` (one officer or offender) is `next_buses` in Python floats."""
    scenario = load_scenario("leshan-mayday")
    v = scenario.visitors
    transit = Transit(
        scenario.city_model(), v.walk_speed_m_per_min, v.bus_walk_threshold_min, v.bus_service_hours
    )
    rng = np.random.default_rng(3)
    ran = none = 0
    for _ in range(3000):
        di = int(rng.integers(len(transit.directions)))
        stops = len(transit.directions[di].stops)
        board = int(rng.integers(stops - 1))
        trip = sim.city.transit.Trip(0.0, di, board, int(rng.integers(board + 1, stops)))
        at = float(rng.uniform(-60.0, 3 * 1440.0))  # before the first bus too
        many = transit.next_buses(
            np.array([di]), np.array([trip.board]), np.array([trip.alight]), np.array([at])
        )
        one = transit.board(trip, at)
        if many[2][0] < 0:
            assert one is None
            none += 1
        else:
            assert one == (float(many[0][0]), float(many[1][0]), int(many[2][0]))
            ran += 1
    assert ran > 1000  # in the service hours
    assert none > 100  # and outside them


def test_the_trip_table_holds_each_pairs_plan_and_buses_only_where_quicker():
    """The parties' table (every place to every place) is the per-pair plans, row for row."""
    scenario = load_scenario("leshan-mayday")
    v = scenario.visitors
    transit = Transit(
        scenario.city_model(), v.walk_speed_m_per_min, v.bus_walk_threshold_min, v.bus_service_hours
    )
    table = transit._trip_table()
    places = transit.city.visited.tolist()
    rides = 0
    for row, (a, b) in enumerate(itertools.product(places, places)):
        trip = transit.plan(a, b)
        assert tuple(
            table[name][row] for name in sim.city.transit.TRIP_FIELDS
        ) == dataclasses.astuple(trip)
        if trip.direction >= 0:
            rides += 1
            d = transit.directions[trip.direction]
            ride = d.offset_min[trip.alight] - d.offset_min[trip.board]
            by_bus = trip.to_stop_min + d.headway_min / 2 + ride + trip.from_stop_min
            assert trip.alight > trip.board
            assert by_bus < trip.walk_min + 1e-9
    assert rides > 100
