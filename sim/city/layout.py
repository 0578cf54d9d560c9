"""Rules that lay out a city's police geography: cells, patrol points, checkpoints, buses.

Shared by the synthetic generator and by the place assignment for loaded street networks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2

from sim import portable
from sim.city.graph import BusLine, City
from sim.errors import ConfigError
from sim.params import param

MAX_BUS_LINES = 1000


@dataclass(frozen=True)
class CityLayout:
    """How a city's police geography and place capacities are laid out by rule.

    Shared by the synthetic generator and the place assignment for loaded street networks.
    """

    n_cells: int = param(4, low=1, doc="patrol cells (k-means clusters of intersections)")
    n_patrol_points: int = param(40, low=0, doc="mandatory patrol points")
    n_checkpoints: int = param(4, low=0, doc="checkpoints on the outer ring")
    n_bus_lines: int = param(2, low=0, high=MAX_BUS_LINES, doc="bus lines between far-apart places")
    bus_headway_min: float = param(10.0, unit="min", low=1, doc="bus headway")
    bus_stop_every: int = param(
        3,
        unit="nodes",
        low=1,
        source="assumption",
        doc="a bus stops at every place on its route and at every n-th intersection",
    )
    capacity_per_attractiveness: float = param(
        2000.0,
        unit="persons",
        low=0,
        source="assumption",
        doc="a place's capacity is this times its attractiveness",
    )

    def check_fits(self, nodes: int, places: int, source: str, where: str) -> None:
        """Refuse more places or patrol cells than the city has nodes.

        Patrol points and checkpoints are taken up to their count, whatever the city's size.
        """
        for name, count in (("places", places), ("n_cells", self.n_cells)):
            if count > nodes:
                field_name = where if name == "places" else f"{where}.{name}"
                raise ConfigError(
                    source,
                    field_name,
                    f"{count:,} {name.removeprefix('n_').replace('_', ' ')} do not fit on a city "
                    f"of {nodes:,} nodes",
                )


def cells_by_kmeans(x: np.ndarray, y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Patrol cells as k-means clusters of intersections (compact, contiguous-ish areas)."""
    if k <= 1:
        return np.zeros(len(x), dtype=np.int64)
    points = np.column_stack([x, y])
    _, labels = kmeans2(points, k, minit="++", seed=rng)
    # renumber cells by first appearance so ids are dense 0..k-1
    _, dense = np.unique(labels, return_inverse=True)
    return dense.astype(np.int64)


def patrol_points(is_place: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """All places first, then random intersections, up to `count` points."""
    points = np.zeros(len(is_place), dtype=bool)
    places = np.flatnonzero(is_place)
    streets = np.flatnonzero(~is_place)
    points[places[:count]] = True
    extra = count - min(count, len(places))
    if extra:
        points[rng.choice(streets, size=min(extra, len(streets)), replace=False)] = True
    return points


def ring_nodes(x: np.ndarray, y: np.ndarray, count: int) -> np.ndarray:
    """`count` outermost nodes spread evenly by angle: checkpoints on the ring roads."""
    flags = np.zeros(len(x), dtype=bool)
    if count == 0:
        return flags
    cx, cy = x.mean(), y.mean()
    # the C library's atan2, element by element: numpy's SIMD arctan2 varies with the CPU
    angle = np.array([math.atan2(dy, dx) for dy, dx in zip(y - cy, x - cx, strict=True)])
    radius = portable.hypot(x - cx, y - cy)
    for sector in range(count):
        lo = -np.pi + 2 * np.pi * sector / count
        inside = np.flatnonzero((angle >= lo) & (angle < lo + 2 * np.pi / count) & ~flags)
        if len(inside):
            flags[inside[np.argmax(radius[inside])]] = True
    return flags


def bus_lines_between_places(
    city: City, count: int, headway: float, stop_every: int
) -> tuple[BusLine, ...]:
    """Lines on shortest paths between far-apart places; stops at places and every n-th node."""
    places = np.concatenate([city.entries, city.attractions])
    if count == 0 or len(places) < 2:
        return ()
    ranked = places[np.argsort(-city.attractiveness[places], kind="stable")]
    lines = []
    for i in range(count):
        start = int(ranked[i % len(ranked)])
        # far ends first, a different one for each round over the start places
        by_distance = places[np.argsort(-city.distances_from(start)[places], kind="stable")]
        end = int(by_distance[(i // len(ranked)) % len(by_distance)])
        route = city.path(start, end)
        stops = tuple(
            n
            for j, n in enumerate(route)
            if j % stop_every == 0 or city.kind[n] != "street" or j == len(route) - 1
        )
        if len(stops) >= 2:
            lines.append(BusLine(f"line {i + 1}", stops, headway))
    return tuple(lines)
