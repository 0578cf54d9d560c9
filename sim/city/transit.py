"""Getting between places: walk, or take a bus when it is clearly faster.

Plans are computed once per origin-destination pair and cached; buses run a fixed
timetable, so boarding is arithmetic on the clock rather than a process per vehicle.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, fields

import numpy as np

from sim.city.graph import City
from sim.clock import MIN_PER_DAY


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


TRIP_FIELDS = tuple(f.name for f in fields(Trip))
"""A trip's fields in order: the columns of the trip table."""


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
        city.search_from(stop for line in city.bus_lines for stop in line.stops)
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
        self._places = city.visited
        self._place_row = np.full(city.n_nodes, -1, dtype=np.int64)
        """Each visited place's row in the trip table (a lookup, not a search per rider)."""
        self._place_row[self._places] = np.arange(len(self._places))
        self._table: dict[str, np.ndarray] | None = None
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
        self._first = np.array([d.first_vehicle for d in self.directions], dtype=np.int64)
        self._fleet = np.array([d.n_vehicles for d in self.directions], dtype=np.int64)

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

    def plan(self, a: int, b: int) -> Trip:
        """The quicker of walking and the best bus (by expected time), cached per pair."""
        trip = self._plans.get((a, b))
        if trip is None:
            self._plan_from(a, np.union1d(self._places, [b]))
            trip = self._plans[(a, b)]
        return trip

    def _plan_from(self, a: int, targets: np.ndarray) -> None:
        """Plans from `a` to every target at once, kept per pair."""
        columns = zip(*(part.tolist() for part in self._trips_from(a, targets)), strict=True)
        for t, trip in zip(targets.tolist(), columns, strict=True):
            self._plans[(a, t)] = Trip(*trip)

    def _trips_from(self, a: int, targets: np.ndarray) -> tuple[np.ndarray, ...]:
        """The `Trip` fields from `a` to every target, as arrays (vectorised over directions).

        A bus plan boards at the direction's stop nearest `a`, alights at the stop nearest
        the target (further along), and expects half a headway of waiting.
        """
        walk = self.city.distances_from(a)[targets] / self.walk_speed
        if not self.directions:
            n = len(targets)
            stop, minutes = np.zeros(n, dtype=np.int64), np.zeros(n)
            return walk, np.full(n, -1), stop, stop, minutes, minutes
        board = self._near_stop[:, a]  # per direction
        alight = self._near_stop[:, targets]  # directions x targets
        rows = np.arange(len(self.directions))[:, None]
        offsets = self._offsets[rows, alight] - self._offsets[rows, board[:, None]]
        total = (self._near_m[:, a][:, None] + self._near_m[:, targets]) / self.walk_speed
        total += self._half_headway[:, None] + offsets
        total[alight <= board[:, None]] = np.inf
        best = total.argmin(axis=0)
        column = np.arange(len(targets))
        use_bus = (walk > self.bus_threshold) & (total[best, column] < walk)
        return (
            walk,
            np.where(use_bus, best, -1),
            np.where(use_bus, board[best], 0),
            np.where(use_bus, alight[best, column], 0),
            np.where(use_bus, self._near_m[best, a] / self.walk_speed, 0.0),
            np.where(use_bus, self._near_m[best, targets] / self.walk_speed, 0.0),
        )

    def board(self, trip: Trip, at_stop: float) -> tuple[float, float, int] | None:
        """Next bus for `trip` reaching its stop at or after `at_stop`.

        Returns (boarding time, alighting time, vehicle index), or None outside service hours.
        One rider (an officer or offender riding a line): `next_buses` in Python floats, the
        same operations (a test holds the two to the same bits), without a dozen array calls.
        """
        d, d_row = self.directions[trip.direction], trip.direction
        headway = 2.0 * float(self._half_headway[d_row])
        off_board = float(self._offsets[d_row, trip.board])
        j = math.ceil((at_stop - off_board) / headway - 1e-9)
        departs = j * headway
        if not self.service[0] <= departs % MIN_PER_DAY <= self.service[1]:
            return None
        boards = max(departs + off_board, at_stop)
        alights = max(departs + float(self._offsets[d_row, trip.alight]), boards)
        return boards, alights, d.first_vehicle + j % d.n_vehicles

    def _trip_table(self) -> dict[str, np.ndarray]:
        """Every plan between visited places as arrays (row: from x places + to), made once."""
        if self._table is None:
            rows = [self._trips_from(a, self._places) for a in self._places.tolist()]
            self._table = {
                name: np.concatenate(column)
                for name, column in zip(TRIP_FIELDS, zip(*rows, strict=True), strict=True)
            }
        return self._table

    def next_buses(
        self, direction: np.ndarray, board: np.ndarray, alight: np.ndarray, at_stop: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For many riders at once: boarding and alighting times and vehicle of the next bus.

        Buses leave the first stop every headway from midnight; one that leaves outside
        the service hours does not run (vehicle -1: the rider walks).
        """
        headway = 2.0 * self._half_headway[direction]
        off_board = self._offsets[direction, board]
        j = np.ceil((at_stop - off_board) / headway - 1e-9).astype(np.int64)
        departs = j * headway
        clock = np.mod(departs, MIN_PER_DAY)
        runs = (self.service[0] <= clock) & (clock <= self.service[1])
        boards = np.maximum(departs + off_board, at_stop)  # no rounding back in time
        alights = np.maximum(departs + self._offsets[direction, alight], boards)
        vehicle = np.where(runs, self._first[direction] + np.mod(j, self._fleet[direction]), -1)
        return boards, alights, vehicle

    def legs(
        self, a: np.ndarray, b: np.ndarray, leave: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Trips from nodes `a` to nodes `b` starting at `leave`, for many parties at once.

        Both ends are visited places. Each party follows its plan: walk, or walk to the
        stop and take the next bus (walking all the way if none runs). Returns the arrival
        times and, for riders, the bus's location (-1 for walkers), boarding and alighting
        times.
        """
        table = self._trip_table()
        pair = self._place_row[a] * len(self._places) + self._place_row[b]
        walk = table["walk_min"][pair]
        direction = table["direction"][pair]
        arrive = leave + walk
        bus = np.full(len(leave), -1, dtype=np.int64)
        boards, alights = np.zeros(len(leave)), np.zeros(len(leave))
        riders = np.flatnonzero(direction >= 0)
        if len(riders):
            trip_of = pair[riders]
            from_stop = table["from_stop_min"][trip_of]
            b_on, b_off, vehicle = self.next_buses(
                direction[riders],
                table["board"][trip_of],
                table["alight"][trip_of],
                leave[riders] + table["to_stop_min"][trip_of],
            )
            runs = vehicle >= 0
            rode = riders[runs]
            boards[rode], alights[rode] = b_on[runs], b_off[runs]
            bus[rode] = self.city.n_nodes + vehicle[runs]
            arrive[rode] = b_off[runs] + from_stop[runs]
        return arrive, bus, boards, alights
