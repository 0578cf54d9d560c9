"""Seeded synthetic cities: a jittered street grid with places, cells, patrol points and buses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import portable
from sim.city.graph import ATTRACTION_KINDS, PLACE_KINDS, City
from sim.city.layout import (
    CityLayout,
    bus_lines_between_places,
    cells_by_kmeans,
    patrol_points,
    ring_nodes,
)
from sim.params import param

KIND_KEYS = tuple(k for k in PLACE_KINDS if k != "street")


@dataclass(frozen=True)
class GeneratedCitySpec(CityLayout):
    """How to draw a synthetic city; the same spec and seed always give the same city."""

    seed: int = param(0, doc="seed of the city generator (independent of run seeds)", low=0)
    rows: int = param(8, unit="nodes", doc="street grid rows", low=2, high=200)
    cols: int = param(8, unit="nodes", doc="street grid columns", low=2, high=200)
    spacing_m: float = param(
        200.0, unit="m", doc="distance between grid intersections", low=10, high=5000
    )
    jitter: float = param(
        0.15, doc="random shift of intersections, share of spacing", low=0, high=0.45
    )
    drop_street_share: float = param(
        0.1, doc="share of grid streets removed (kept connected)", low=0, high=0.5
    )
    places: dict[str, int] | None = param(
        None, doc="number of places of each kind", keys=KIND_KEYS, low=0
    )
    centre_pull: float = param(
        0.35,
        doc="how tightly attractions cluster near the centre (std. dev. as share of city size)",
        low=0.05,
        high=5,
    )
    attractiveness_sigma: float = param(
        1.0,
        doc="log-normal spread of attractiveness (a few sites draw most visitors)",
        low=0,
        high=3,
    )
    camera_share: float = param(0.3, doc="share of places with (passive) CCTV", low=0, high=1)

    def place_counts(self) -> dict[str, int]:
        """Places per kind, with a small default mix when none is given."""
        if self.places is not None:
            return dict(self.places)
        return {
            "scenic": 4,
            "food_street": 2,
            "plaza": 2,
            "station": 1,
            "pier": 1,
            "hotel": 2,
            "police_station": 1,
        }


def generate_city(spec: GeneratedCitySpec, name: str = "synthetic") -> City:
    """Draw a connected city from `spec` (deterministic in `spec.seed`)."""
    rng = np.random.default_rng(spec.seed)
    rows, cols, h = spec.rows, spec.cols, spec.spacing_m
    gy, gx = np.divmod(np.arange(rows * cols), cols)
    x = gx * h + rng.uniform(-spec.jitter, spec.jitter, rows * cols) * h
    y = gy * h + rng.uniform(-spec.jitter, spec.jitter, rows * cols) * h
    eu, ev = _grid_streets(rows, cols, spec.drop_street_share, rng)
    length = portable.hypot(x[eu] - x[ev], y[eu] - y[ev])
    n = rows * cols

    kind = ["street"] * n
    attractiveness = np.zeros(n)
    capacity = np.zeros(n)
    centre = np.array([x.mean(), y.mean()])
    size = max(np.ptp(x), np.ptp(y))
    dist_c = portable.hypot(x - centre[0], y - centre[1])
    pull = dist_c / (spec.centre_pull * size)
    central_w = portable.exp(-0.5 * pull * pull)
    free = np.ones(n, dtype=bool)
    counts = spec.place_counts()
    if sum(counts.values()) > n:
        raise ValueError(f"{sum(counts.values())} places do not fit on {n} nodes")
    for k in KIND_KEYS:
        count = counts.get(k, 0)
        if not count:
            continue
        # attractions and hotels cluster centrally; stations and terminals sit on the edge
        weight = central_w if k in (*ATTRACTION_KINDS, "hotel") else dist_c / dist_c.max()
        weight = np.where(free, weight + 1e-9, 0.0)
        chosen = rng.choice(n, size=count, replace=False, p=weight / weight.sum())
        free[chosen] = False
        # the same draws as rng.lognormal, whose exp is the C library's
        draw = portable.exp(spec.attractiveness_sigma * rng.standard_normal(count))
        for node, a in zip(chosen, draw, strict=True):
            kind[node] = k
            attractiveness[node] = 0.0 if k == "police_station" else a
            capacity[node] = (
                round(spec.capacity_per_attractiveness * a) if k != "police_station" else 0
            )
    cell = cells_by_kmeans(x, y, spec.n_cells, rng)
    is_place = np.array([k != "street" for k in kind])
    patrol = patrol_points(is_place, spec.n_patrol_points, rng)
    checkpoint = ring_nodes(x, y, spec.n_checkpoints)
    camera = np.where(is_place & (rng.random(n) < spec.camera_share), "passive", "none")
    city = City(
        name=name,
        node_ids=[str(i) for i in range(n)],
        x=x,
        y=y,
        kind=kind,
        label=[
            f"{k.replace('_', ' ')} {i}" if k != "street" else str(i) for i, k in enumerate(kind)
        ],
        capacity=capacity,
        attractiveness=attractiveness,
        cell=cell,
        camera=camera.tolist(),
        patrol_point=patrol,
        checkpoint=checkpoint,
        edge_u=eu,
        edge_v=ev,
        edge_length=length,
    )
    city.bus_lines = bus_lines_between_places(
        city, spec.n_bus_lines, spec.bus_headway_min, spec.bus_stop_every
    )
    return city


def _grid_streets(rows: int, cols: int, drop: float, rng: np.random.Generator):
    """Grid edges minus a random share, never disconnecting the graph (spanning tree kept)."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    horizontal = np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    vertical = np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    edges = np.vstack([horizontal, vertical])
    order = rng.permutation(len(edges))
    parent = np.arange(rows * cols)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    tree = np.zeros(len(edges), dtype=bool)
    for e in order:
        ra, rb = find(edges[e, 0]), find(edges[e, 1])
        if ra != rb:
            parent[ra] = rb
            tree[e] = True
    keep = tree | (rng.random(len(edges)) >= drop)
    return edges[keep, 0].astype(np.int64), edges[keep, 1].astype(np.int64)
