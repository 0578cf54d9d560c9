"""Who is where: visitors' planned stays as intervals, searched when someone looks.

Visitors plan their whole day on arrival, so every stay (a place or a bus, enter, leave,
persons) is known in advance. A day's stays are indexed by location and time; "how many
are here now" and "which parties could be robbed here" are binary searches made when an
offender acts, not counters kept up to date by two events per visit. The one change to a
plan is a party that goes home early (a victim): the rest of its day is cut, and the few
cut intervals are subtracted where the crowd is counted. Person-time, and person-time under
the eyes of visible police, are integrals over the same intervals, taken once a day's stays
are over. Visible police (`guards`) are the one live count: they come and go on the clock,
and the spans they were there are kept by location (what a party passed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

COARSE_BUCKETS = 65_536
"""Coarse time buckets of the first sort: the most a radix sort takes on 16-bit keys."""


class Stays:
    """One day's stays, sorted by location and entry time, with running person counts."""

    def __init__(
        self,
        loc: np.ndarray,
        enter: np.ndarray,
        leave: np.ndarray,
        size: np.ndarray,
        party: np.ndarray,
        *,
        n_locations: int,
        slots: np.ndarray | None = None,
    ) -> None:
        """Index the stays by location and time (and by party, given `slots`).

        `slots` (stays x parties, -1 for none) are each party's rows of the arrays as given,
        in the order of its day, for looking up a party's own stays (`of_party`).
        """
        bounds = np.zeros(n_locations + 1, dtype=np.int64)
        np.cumsum(np.bincount(loc, minlength=n_locations), out=bounds[1:])
        self.start = bounds.tolist()
        order, (self.enter, self.leave, self.size, self.party) = _by_location(
            loc,
            self.start,
            enter,
            leave,
            size.astype(np.int8, copy=False),
            party.astype(np.int32, copy=False),
        )
        self.loc = np.repeat(np.arange(n_locations, dtype=np.int32), np.diff(bounds))
        self.entered = _running_total(self.size)  # persons, in entry order
        self.leave_sorted, self.left = _leaving(self.leave, self.size, self.start)
        self.longest = np.zeros(n_locations)  # longest stay per location bounds a search
        used = np.flatnonzero(np.diff(bounds))
        if len(used):
            self.longest[used] = np.maximum.reduceat(self.leave - self.enter, bounds[used])
        self.first_enter = float(self.enter.min()) if len(self.enter) else math.inf
        self.last_leave = float(self.leave.max()) if len(self.leave) else -math.inf
        self.first_party = int(party.min()) if len(party) else 0
        self.cut: dict[int, list[tuple[float, float, int]]] = {}
        """The rest of the day of parties gone home early, by location: (from, to, persons)."""
        # a party's rows are looked up when asked (victims are few): its rows as given
        # (`slots`), then where each went in the sorted order
        self.slots = np.zeros((0, 0), dtype=np.int32) if slots is None else slots
        self.sorted_row = np.empty(len(order), dtype=np.int32)
        self.sorted_row[order] = np.arange(len(order), dtype=np.int32)
        self.gone = np.zeros(self.slots.shape[1], dtype=bool)
        """Parties (numbered from `first_party`) gone home early."""
        self.any_gone = False

    def go_home(self, number: int, t: float) -> None:
        """Party `number` goes home at `t`: its stays after `t` no longer count (once)."""
        if self.gone[number - self.first_party]:  # a second cut would count it twice
            return
        rows = self.of_party(number)
        for row in rows[self.leave[rows] > t].tolist():
            span = (max(float(self.enter[row]), t), float(self.leave[row]), int(self.size[row]))
            self.cut.setdefault(int(self.loc[row]), []).append(span)
        self.gone[number - self.first_party] = self.any_gone = True

    def holds_party(self, number: int) -> bool:
        """The party `number` is one of this day's (its stays are indexed here)."""
        return 0 <= number - self.first_party < self.slots.shape[1]

    def of_party(self, number: int) -> np.ndarray:
        """Rows of the party's stays, in the order of its day."""
        given = self.slots[:, number - self.first_party]
        return self.sorted_row[given[given >= 0]]

    def people(self, loc: int, t: float) -> int:
        """Persons at `loc` at time `t` (entered at or before, not yet left)."""
        a, b = self.start[loc], self.start[loc + 1]
        if a == b:
            return 0
        entered = a + int(self.enter[a:b].searchsorted(t, "right"))
        left = a + int(self.leave_sorted[a:b].searchsorted(t, "right"))
        gone = sum(n for start, end, n in self.cut.get(loc, ()) if start <= t < end)
        return int(self.entered[entered] - self.left[left]) - gone

    def present(self, loc: int, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Party numbers, sizes and leaving times of the parties at `loc` at time `t`."""
        a, b = self.start[loc], self.start[loc + 1]
        enter = self.enter[a:b]
        lo = a + int(enter.searchsorted(t - self.longest[loc], "left"))
        hi = a + int(enter.searchsorted(t, "right"))
        here = lo + np.flatnonzero(self.leave[lo:hi] > t)
        if self.any_gone and len(here):  # gone home (a cut is never in the future)
            here = here[~self.gone[self.party[here] - self.first_party]]
        return self.party[here], self.size[here], self.leave[here]

    def occupancy(self, t: float, n_locations: int) -> np.ndarray:
        """Persons at every location at time `t`."""
        here = (self.enter <= t) & (self.leave > t)
        counts = np.bincount(self.loc[here], self.size[here], minlength=n_locations)
        for loc, spans in self.cut.items():
            counts[loc] -= sum(n for start, end, n in spans if start <= t < end)
        return counts.astype(np.int64)


def time_order(time: np.ndarray) -> np.ndarray:
    """Rows in time order, ties in the order given: numpy's stable argsort, faster."""
    return _stable_by_time(_coarse_time(time), _time_keys(time))


def _by_location(
    loc: np.ndarray, start: list[int], enter: np.ndarray, *columns: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows in order of location, then `enter`, and `enter` and the `columns` in that order.

    A location's rows lie between its `start` and the next. Every sort is stable: numpy's
    default sort orders ties by whichever SIMD kernel the CPU dispatches, and the order of
    stays decides which party is drawn as a victim. A radix sort by location (on the
    smallest integer type) groups the rows, ties in the order given, and the columns are
    gathered in that order; each location's rows are then put in time order on their own,
    in the CPU's cache, where a Golden Week day's millions of rows in random order would
    not be. Ties keep the order given, as one stable sort by (location, time) would.
    """
    rows = np.argsort(loc.astype(np.min_scalar_type(len(start) - 1)), kind="stable")
    ordered = [column[rows] for column in (enter, *columns)]
    coarse, keys = _coarse_time(ordered[0]), _time_keys(ordered[0])
    for a, b in itertools.pairwise(start):
        if b - a > 1:
            by_time = _stable_by_time(coarse[a:b], keys[a:b])
            rows[a:b] = rows[a:b][by_time]
            for column in ordered:
                column[a:b] = column[a:b][by_time]
    return rows, ordered


def _stable_by_time(coarse: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rows in time order, ties in the order given, from their `_coarse_time` and `_time_keys`.

    A radix sort on the coarse 16-bit time puts the rows in nearly the right order, and
    the exact stable sort (a timsort) then finds them in long sorted runs.
    """
    rows = np.argsort(coarse, kind="stable")
    return rows[np.argsort(keys[rows], kind="stable")]


def _coarse_time(time: np.ndarray) -> np.ndarray:
    """A monotone 16-bit bucket of each time (the most a radix sort takes)."""
    if not len(time):
        return np.zeros(0, dtype=np.uint16)
    earliest = float(time.min())
    per_minute = (COARSE_BUCKETS - 1) / (float(time.max()) - earliest + 1.0)
    return ((time - earliest) * per_minute).astype(np.uint16)


def _time_keys(time: np.ndarray) -> np.ndarray:
    """The times' bits as unsigned integers: sorted faster than the floats, in their order.

    Times are never negative, so their bits are in the same order, ties included.
    """
    return np.ascontiguousarray(time, dtype=np.float64).view(np.uint64)


def _leaving(
    leave: np.ndarray, size: np.ndarray, start: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Each location's leaving times in order, and the running total of persons who left.

    A location's rows lie between its `start` and the next; they are sorted one location
    at a time, in the CPU's cache (the rows are already grouped by location).
    """
    ordered, persons = leave.copy(), size.copy()
    coarse, keys = _coarse_time(leave), _time_keys(leave)
    for a, b in itertools.pairwise(start):
        if b - a > 1:
            by_leave = _stable_by_time(coarse[a:b], keys[a:b])
            ordered[a:b], persons[a:b] = leave[a:b][by_leave], size[a:b][by_leave]
    return ordered, _running_total(persons)


def _guarded_time(since: np.ndarray, to: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Minutes guarded from the first span's start to each time, for disjoint spans in order.

    A stay's watched minutes are the difference at its two ends: one search per stay
    instead of one pass over a location's stays per span.
    """
    length = to - since
    before = np.concatenate([[0.0], np.cumsum(length[:-1])])  # guarded before each span

    def guarded(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(since, t, side="right") - 1  # the last span begun by t
        inside = np.clip(t - since[np.maximum(i, 0)], 0.0, length[np.maximum(i, 0)])
        return np.where(i >= 0, before[np.maximum(i, 0)] + inside, 0.0)

    return guarded


def _running_total(persons: np.ndarray) -> np.ndarray:
    """0, then the running sum of `persons` (int64, whatever their type)."""
    total = np.zeros(len(persons) + 1, dtype=np.int64)
    np.cumsum(persons, out=total[1:])
    return total


class Crowds:
    """Stays of the days in play, visible police, and per-location time integrals."""

    def __init__(self, n_locations: int, env: simpy.Environment) -> None:
        self.env = env
        self.n_locations = n_locations
        self.guards = [0] * n_locations
        self._guarded_since = [0.0] * n_locations
        self._guarded_at: dict[int, list[tuple[float, float]]] = {}
        """Closed guarded spans (from, to) by location, in time order."""
        self.days: list[Stays] = []
        self._over = Integrals.zeros(n_locations)  # of days whose stays are all over

    def release(self) -> None:
        """Drop the days' stays once the run is over."""
        self.days.clear()

    def __len__(self) -> int:
        return self.n_locations

    def add(self, stays: Stays) -> None:
        """A new day's stays come into play; days whose stays are all over are booked."""
        now = self.env.now
        for day in [d for d in self.days if d.last_leave <= now]:
            self._over += self._integrals(day, now)
            self.days.remove(day)
        self.days.append(stays)

    def people(self, loc: int) -> int:
        """Persons at `loc` now."""
        now = self.env.now
        return sum(day.people(loc, now) for day in self.days)

    def present(self, loc: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Party numbers, sizes and leaving times of the parties at `loc` now."""
        now = self.env.now
        found = [day.present(loc, now) for day in self.days]
        if len(found) == 1:
            return found[0]
        return tuple(np.concatenate(column) for column in zip(*found, strict=True))

    def stays_of(self, number: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Locations, entry and leaving times of party `number`'s stays, in day order."""
        for day in self.days:
            if day.holds_party(number):
                rows = day.of_party(number)
                return day.loc[rows], day.enter[rows], day.leave[rows]
        raise KeyError(f"party {number} is not in play")

    def go_home(self, number: int) -> None:
        """Party `number` goes home now: the rest of its stays are taken out of the crowd."""
        for day in self.days:
            if day.holds_party(number):
                day.go_home(number, self.env.now)

    def guarded_during(self, loc: int, start: float, end: float) -> bool:
        """Visible police were at `loc` at some time in [start, end)."""
        if self.guards[loc] and self._guarded_since[loc] < end:
            return True
        return any(a < end and b > start for a, b in self._guarded_at.get(loc, ()))

    def occupancy(self) -> np.ndarray:
        """Persons present at every location now."""
        now = self.env.now
        total = np.zeros(self.n_locations, dtype=np.int64)
        for day in self.days:
            total += day.occupancy(now, self.n_locations)
        return total

    def add_guard(self, loc: int, change: int) -> None:
        """`change` visible officers arrive at (> 0) or leave (< 0) `loc`."""
        before = self.guards[loc]
        self.guards[loc] = after = before + change
        if before == 0 and after > 0:
            self._guarded_since[loc] = self.env.now
        elif before > 0 and after == 0:
            self._guarded_at.setdefault(loc, []).append((self._guarded_since[loc], self.env.now))

    def integrals(self) -> Integrals:
        """Visits, person-minutes and watched person-minutes per location up to now."""
        now = self.env.now
        total = self._over.copy()
        for day in self.days:
            total += self._integrals(day, now)
        return total

    def _integrals(self, day: Stays, until: float) -> Integrals:
        """One day's visits, person-minutes and watched person-minutes up to `until`."""
        entered = day.enter < until
        loc, size = day.loc[entered], day.size[entered]
        minutes = (np.minimum(day.leave[entered], until) - day.enter[entered]) * size
        watched = np.zeros(self.n_locations)
        guarded_time = self._guarded_times()
        for where, guarded in guarded_time.items():
            a, b = day.start[where], day.start[where + 1]
            if a == b:
                continue
            enter, leave = day.enter[a:b], np.minimum(day.leave[a:b], until)
            overlap = np.maximum(guarded(leave) - guarded(enter), 0.0)
            watched[where] += float((overlap * day.size[a:b]).sum())
        minutes = np.bincount(loc, minutes, minlength=self.n_locations)
        for where, spans in day.cut.items():  # the cut rest of the day of parties gone home
            guarded = guarded_time.get(where)
            for a, b, persons in spans:
                minutes[where] -= persons * max(0.0, min(b, until) - a)
                if guarded is not None:
                    began, ended = guarded(np.array([a, min(b, until)])).tolist()
                    watched[where] -= persons * max(ended - began, 0.0)
        return Integrals(
            np.bincount(loc, size, minlength=self.n_locations).astype(np.int64),
            minutes,
            watched,
        )

    def _guarded_times(self) -> dict[int, Callable[[np.ndarray], np.ndarray]]:
        """Minutes guarded up to any time, at every location ever guarded (`_guarded_time`).

        A location's spans are the closed ones in time order, then the open one, if any.
        """
        guarded_time = {}
        for loc in set(self._guarded_at) | {i for i, g in enumerate(self.guards) if g}:
            closed = self._guarded_at.get(loc, [])
            opened = [(self._guarded_since[loc], math.inf)] if self.guards[loc] else []
            since, to = zip(*(closed + opened), strict=True)
            guarded_time[loc] = _guarded_time(np.array(since), np.array(to))
        return guarded_time


@dataclass
class Integrals:
    """Per location: persons who entered, person-minutes, person-minutes under visible police."""

    visits: np.ndarray
    person_minutes: np.ndarray
    watched_person_minutes: np.ndarray

    @classmethod
    def zeros(cls, n_locations: int) -> Integrals:
        """Nothing yet."""
        return cls(
            np.zeros(n_locations, dtype=np.int64), np.zeros(n_locations), np.zeros(n_locations)
        )

    def copy(self) -> Integrals:
        """An independent copy."""
        return Integrals(
            self.visits.copy(), self.person_minutes.copy(), self.watched_person_minutes.copy()
        )

    def __iadd__(self, other: Integrals) -> Integrals:
        self.visits += other.visits
        self.person_minutes += other.person_minutes
        self.watched_person_minutes += other.watched_person_minutes
        return self
