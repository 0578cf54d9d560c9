"""Getting between places: walk, or take a bus when it is clearly faster.

Plans are computed once per origin-destination pair and cached; buses run a fixed
timetable, so boarding is arithmetic on the clock rather than a process per vehicle.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from sim.city.graph import City

MIN_PER_DAY = 1440.0


@dataclass(frozen=True)
class Trip:
    """How to get from one place to another.

    `walk_min` is the whole walk. A bus trip (`direction >= 0`) instead walks `to_stop_min`
    to a stop, rides direction `direction` from stop index `board` to `alight`, and walks
    `from_stop_min` on; when no bus runs, the party walks after all.
    """

    walk_min: float
    direction: int = -1
    board: int = 0
    alight: int = 0
    to_stop_min: float = 0.0
    from_stop_min: float = 0.0

    @property
    def by_bus(self) -> bool:
        """True if the plan uses a bus."""
        return self.direction >= 0


@dataclass(frozen=True)
class Direction:
    """One direction of a bus line: its stops, the minutes from the first stop, vehicles."""

    line: int
    stops: tuple[int, ...]
    offset_min: tuple[float, ...]
    headway_min: float
    first_vehicle: int
    n_vehicles: int


@functools.lru_cache(maxsize=32)
def transit_for(
    city: City,
    walk_speed_m_per_min: float,
    bus_threshold_min: float,
    service_hours: tuple[float, float],
) -> Transit:
    """One Transit per city and parameters per process: its plans are the same every run."""
    return Transit(city, walk_speed_m_per_min, bus_threshold_min, service_hours)


class Transit:
    """Walking and bus plans between nodes for one city and one set of visitor parameters."""

    def __init__(
        self,
        city: City,
        walk_speed_m_per_min: float,
        bus_threshold_min: float,
        service_hours: tuple[float, float],
    ) -> None:
        self.city = city
        self.walk_speed = walk_speed_m_per_min
        self.bus_threshold = bus_threshold_min
        self.service = (service_hours[0] * 60.0, service_hours[1] * 60.0)
        self.directions: list[Direction] = []
        vehicle = 0
        for li, line in enumerate(city.bus_lines):
            for stops in (line.stops, line.stops[::-1]):
                legs = [city.distance(a, b) for a, b in itertools.pairwise(stops)]
                offset = np.concatenate([[0.0], np.cumsum(legs)]) / line.speed_m_per_min
                # enough vehicle slots that trips on the road at once never share one
                n_vehicles = math.ceil(offset[-1] / line.headway_min) + 1
                self.directions.append(
                    Direction(
                        li,
                        tuple(stops),
                        tuple(offset.tolist()),
                        line.headway_min,
                        vehicle,
                        n_vehicles,
                    )
                )
                vehicle += n_vehicles
        self.n_vehicles = vehicle
        self._plans: dict[tuple[int, int], Trip] = {}
        self._walk_rows: dict[int, list[float]] = {}
        self._places = city.visited
        # per direction and node: index of the nearest stop and the distance to it
        every_node = np.arange(city.n_nodes)
        near = [city.distance_matrix(np.asarray(d.stops), every_node) for d in self.directions]
        self._near_stop = np.array([m.argmin(axis=0) for m in near], dtype=np.int64)
        self._near_m = np.array([m.min(axis=0) for m in near])
        longest = max((len(d.stops) for d in self.directions), default=0)
        self._offsets = np.zeros((len(self.directions), longest))
        for i, d in enumerate(self.directions):
            self._offsets[i, : len(d.offset_min)] = d.offset_min
        self._half_headway = np.array([d.headway_min / 2 for d in self.directions])

    @property
    def n_locations(self) -> int:
        """Locations of the crowd: the city's nodes, then one per bus vehicle slot."""
        return self.city.n_nodes + self.n_vehicles

    def vehicle_location(self, vehicle: int) -> int:
        """The location index of a bus vehicle slot."""
        return self.city.n_nodes + vehicle

    def is_vehicle(self, loc: int) -> bool:
        """Whether a location index is a bus (not a node)."""
        return loc >= self.city.n_nodes

    def direction_of(self, loc: int) -> int:
        """The direction a bus location serves."""
        vehicle = loc - self.city.n_nodes
        return next(
            i
            for i, d in enumerate(self.directions)
            if d.first_vehicle <= vehicle < d.first_vehicle + d.n_vehicles
        )

    def walk_minutes(self, a: int, b: int) -> float:
        """Walking time along streets (rows of plain floats: this is on the hot path)."""
        row = self._walk_rows.get(a)
        if row is None:
            row = self._walk_rows[a] = (self.city.distances_from(a) / self.walk_speed).tolist()
        return row[b]

    def plan(self, a: int, b: int) -> Trip:
        """The quicker of walking and the best bus (by expected time), cached per pair."""
        trip = self._plans.get((a, b))
        if trip is None:
            self._plan_from(a, np.union1d(self._places, [b]))
            trip = self._plans[(a, b)]
        return trip

    def _plan_from(self, a: int, targets: np.ndarray) -> None:
        """Plans from `a` to every target at once, over every bus direction (vectorised).

        A bus plan boards at the direction's stop nearest `a`, alights at the stop nearest
        the target (further along), and expects half a headway of waiting.
        """
        walk = self.city.distances_from(a)[targets] / self.walk_speed
        if not self.directions:
            for t, w in zip(targets.tolist(), walk.tolist(), strict=True):
                self._plans[(a, t)] = Trip(w)
            return
        board = self._near_stop[:, a]  # per direction
        alight = self._near_stop[:, targets]  # directions x targets
        rows = np.arange(len(self.directions))[:, None]
        offsets = self._offsets[rows, alight] - self._offsets[rows, board[:, None]]
        total = (self._near_m[:, a][:, None] + self._near_m[:, targets]) / self.walk_speed
        total += self._half_headway[:, None] + offsets
        total[alight <= board[:, None]] = np.inf
        best = total.argmin(axis=0)
        best_time = total[best, np.arange(len(targets))]
        use_bus = (walk > self.bus_threshold) & (best_time < walk)
        to_stop = self._near_m[:, a] / self.walk_speed
        for i, t in enumerate(targets.tolist()):
            if use_bus[i]:
                d = int(best[i])
                self._plans[(a, t)] = Trip(
                    float(walk[i]),
                    d,
                    int(board[d]),
                    int(alight[d, i]),
                    float(to_stop[d]),
                    float(self._near_m[d, t] / self.walk_speed),
                )
            else:
                self._plans[(a, t)] = Trip(float(walk[i]))

    def board(self, trip: Trip, at_stop: float) -> tuple[float, float, int] | None:
        """Next bus for `trip` reaching its stop at or after `at_stop`.

        Returns (boarding time, alighting time, vehicle index), or None outside service hours.
        """
        d = self.directions[trip.direction]
        j = math.ceil((at_stop - d.offset_min[trip.board]) / d.headway_min - 1e-9)
        departs = j * d.headway_min
        if not self.service[0] <= departs % MIN_PER_DAY <= self.service[1]:
            return None
        boards = max(departs + d.offset_min[trip.board], at_stop)  # no rounding back in time
        alights = max(departs + d.offset_min[trip.alight], boards)
        return boards, alights, d.first_vehicle + j % d.n_vehicles
