"""Build the `milan-duomo` city: Milan's real streets with its landmarks as places.

The landmarks, metro stations and the city police command go to their nearest intersections.
Run `python -m sim.scenarios.build_milan` to regenerate `milan-duomo.graphml` from the bare
OpenStreetMap network `milan-duomo-streets.graphml` (341 intersections, EPSG:32632).
The places are real; how strongly each pulls visitors (attractiveness) and their
capacities are assumptions, written out in `PLACES` below and in docs/model.md. Patrol
cells, patrol points, checkpoints and bus (tram) lines are laid out by the same rules as
for any loaded network (`sim.city.layout`).

Street data (c) OpenStreetMap contributors, ODbL (https://www.openstreetmap.org/copyright).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from sim.city.graph import City
from sim.city.io import read_graphml, write_graphml
from sim.city.layout import (
    bus_lines_between_places,
    cells_by_kmeans,
    patrol_points,
    ring_nodes,
)

HERE = Path(__file__).resolve().parent
STREETS = HERE / "milan-duomo-streets.graphml"
OUT = HERE / "milan-duomo.graphml"

PLACES = [
    # label, kind, latitude, longitude, attractiveness (assumption), camera
    ("Piazza del Duomo and Cathedral", "scenic", 45.4641, 9.1919, 10.0, "passive"),
    ("Galleria Vittorio Emanuele II", "plaza", 45.4656, 9.1900, 8.0, "passive"),
    ("Teatro alla Scala", "scenic", 45.4674, 9.1895, 4.0, "passive"),
    ("Palazzo Reale", "scenic", 45.4633, 9.1915, 3.0, "none"),
    ("Piazza dei Mercanti", "plaza", 45.4649, 9.1868, 3.0, "none"),
    ("Biblioteca Ambrosiana", "scenic", 45.4634, 9.1857, 1.5, "none"),
    ("Corso Vittorio Emanuele II", "food_street", 45.4649, 9.1945, 6.0, "passive"),
    ("Via Dante", "food_street", 45.4672, 9.1836, 4.0, "none"),
    ("Via Montenapoleone", "food_street", 45.4685, 9.1955, 3.0, "passive"),
    ("Piazza San Babila", "plaza", 45.4663, 9.1980, 2.0, "none"),
    ("Piazza Fontana", "plaza", 45.4637, 9.1943, 1.0, "none"),
    ("Duomo metro station", "station", 45.4641, 9.1895, 1.0, "passive"),
    ("Cordusio metro station", "station", 45.4655, 9.1862, 1.0, "none"),
    ("San Babila metro station", "station", 45.4668, 9.1985, 1.0, "none"),
    ("Missori metro station", "station", 45.4602, 9.1893, 1.0, "none"),
    ("Montenapoleone metro station", "station", 45.4693, 9.1932, 1.0, "none"),
    ("Polizia Locale, Piazza Beccaria", "police_station", 45.4627, 9.1949, 0.0, "none"),
]
CAPACITY_PER_ATTRACTIVENESS = 1500.0  # persons at once per unit of pull (assumption)
MIN_CAPACITY = 300.0
N_CELLS, N_PATROL_POINTS, N_CHECKPOINTS = 4, 40, 6
N_BUS_LINES, BUS_HEADWAY_MIN, BUS_STOP_EVERY = 4, 6.0, 4  # trams, as bus lines
SEED = 2024


def utm32n(lat: float, lon: float) -> tuple[float, float]:
    """WGS84 latitude/longitude to UTM zone 32N metres (Snyder's series; mm accuracy)."""
    a, f, k0 = 6_378_137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    phi, lam = math.radians(lat), math.radians(lon - 9.0)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    t, c = math.tan(phi) ** 2, ep2 * math.cos(phi) ** 2
    big_a = math.cos(phi) * lam
    m = a * (
        (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
        - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * math.sin(2 * phi)
        + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * math.sin(4 * phi)
        - (35 * e2**3 / 3072) * math.sin(6 * phi)
    )
    east = 500_000.0 + k0 * n * (
        big_a
        + (1 - t + c) * big_a**3 / 6
        + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * big_a**5 / 120
    )
    north = k0 * (
        m
        + n
        * math.tan(phi)
        * (
            big_a**2 / 2
            + (5 - t + 9 * c + 4 * c**2) * big_a**4 / 24
            + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * big_a**6 / 720
        )
    )
    return east, north


def build(streets: City) -> City:
    """The street network with the named places, cells, patrol points, checkpoints, lines."""
    n = streets.n_nodes
    kind, label = ["street"] * n, list(streets.label)
    attractiveness, camera = np.zeros(n), ["none"] * n
    for name, place_kind, lat, lon, pull, cctv in PLACES:
        east, north = utm32n(lat, lon)
        free = np.array([k == "street" for k in kind])
        gap = np.where(free, np.hypot(streets.x - east, streets.y - north), np.inf)
        node = int(np.argmin(gap))
        if gap[node] > 150.0:
            raise ValueError(f"{name} is {gap[node]:.0f} m from the nearest free intersection")
        kind[node], label[node], attractiveness[node], camera[node] = place_kind, name, pull, cctv
    is_place = np.array([k != "street" for k in kind])
    rng = np.random.default_rng(SEED)
    city = replace(
        streets,
        name="milan-duomo",
        kind=kind,
        label=label,
        attractiveness=attractiveness,
        capacity=np.where(
            is_place, np.maximum(CAPACITY_PER_ATTRACTIVENESS * attractiveness, MIN_CAPACITY), 0.0
        ),
        camera=camera,
        cell=cells_by_kmeans(streets.x, streets.y, N_CELLS, rng),
        patrol_point=patrol_points(is_place, N_PATROL_POINTS, rng),
        checkpoint=ring_nodes(streets.x, streets.y, N_CHECKPOINTS) & ~is_place,
        _dist={},
        _pred={},
    )
    city.bus_lines = bus_lines_between_places(city, N_BUS_LINES, BUS_HEADWAY_MIN, BUS_STOP_EVERY)
    return city


if __name__ == "__main__":
    write_graphml(build(read_graphml(STREETS)), OUT)
    print(f"wrote {OUT}")
