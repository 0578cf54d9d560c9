"""Give a bare street network (e.g. from osmnx) its places and police geography by rule.

A real network carries no points of interest, so a scenario says how many attractions and
entry points it wants: the most central intersections become attractions (attractiveness
falling with distance from the centre), the outermost ones become entry stations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim import portable
from sim.city.graph import City
from sim.city.layout import (
    CityLayout,
    bus_lines_between_places,
    cells_by_kmeans,
    patrol_points,
    ring_nodes,
)
from sim.params import param


@dataclass(frozen=True)
class PlaceAssignment(CityLayout):
    """How many places of each role to assign to a loaded street network."""

    attractions: int = param(20, doc="central intersections that become attractions", low=1)
    attraction_kinds: tuple[str, ...] = param(
        ("scenic", "food_street", "plaza"),
        doc="kinds given to attractions in turn",
        choices=("scenic", "food_street", "plaza", "pier"),
    )
    entries: int = param(4, doc="outermost intersections that become stations", low=1)
    min_spacing_m: float = param(100.0, unit="m", doc="minimum distance between attractions", low=0)
    decay_m: float = param(
        500.0, unit="m", doc="attractiveness e-folding distance from centre", low=1
    )
    min_capacity: float = param(
        100.0,
        unit="persons",
        low=0,
        doc="capacity of a place however low its attractiveness",
        source="assumption",
    )
    seed: int = param(0, doc="seed for the random parts (cells, extra patrol points)", low=0)


def assign_places(city: City, rule: PlaceAssignment) -> City:
    """Return a copy of `city` whose nodes have kinds, attractiveness, cells and buses."""
    rng = np.random.default_rng(rule.seed)
    n = city.n_nodes
    centre = int(np.argmin(portable.hypot(city.x - city.x.mean(), city.y - city.y.mean())))
    from_centre = city.distances_from(centre)
    if rule.attractions + rule.entries > n:
        raise ValueError(f"{rule.attractions + rule.entries} places do not fit on {n} nodes")
    kind = ["street"] * n
    attractiveness = np.zeros(n)
    chosen: list[int] = []
    for node in np.argsort(from_centre, kind="stable"):
        if len(chosen) == rule.attractions:
            break
        if all(
            portable.hypot(city.x[node] - city.x[c], city.y[node] - city.y[c]) >= rule.min_spacing_m
            for c in chosen
        ):
            chosen.append(int(node))
    for rank, node in enumerate(chosen):
        kind[node] = rule.attraction_kinds[rank % len(rule.attraction_kinds)]
        attractiveness[node] = portable.exp(float(-from_centre[node] / rule.decay_m))
    ring = ring_nodes(city.x, city.y, rule.entries) & (attractiveness == 0)
    for node in np.flatnonzero(ring):
        kind[node] = "station"
        attractiveness[node] = 1.0
    is_place = np.array([k != "street" for k in kind])
    assigned = replace(
        city,
        kind=kind,
        label=[
            f"{k.replace('_', ' ')} {city.node_ids[i]}" if k != "street" else city.label[i]
            for i, k in enumerate(kind)
        ],
        attractiveness=attractiveness,
        capacity=np.where(
            is_place,
            np.maximum(
                np.round(rule.capacity_per_attractiveness * attractiveness), rule.min_capacity
            ),
            0.0,
        ),
        cell=cells_by_kmeans(city.x, city.y, rule.n_cells, rng),
        patrol_point=patrol_points(is_place, rule.n_patrol_points, rng),
        checkpoint=ring_nodes(city.x, city.y, rule.n_checkpoints),
        _dist={},
        _pred={},
    )
    assigned.bus_lines = bus_lines_between_places(
        assigned, rule.n_bus_lines, rule.bus_headway_min, rule.bus_stop_every
    )
    return assigned
