"""Who is where: persons and parties per location, updated in O(1) on arrival and departure.

Locations are the city's nodes followed by bus vehicles. Alongside the head counts the
crowd keeps two time integrals per location, person-minutes and person-minutes under the
eyes of visible police, each settled whenever the location's count or guard changes; so
visitor-time and police visibility cost nothing extra at the end of a run.
Hot counters are Python lists: a list item update is several times cheaper than a numpy
scalar update, and `occupancy()` hands out numpy arrays for analysis.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import simpy


class Party(Protocol):
    """What the crowd needs to know of a visiting party."""

    size: int
    slot: int


class Crowds:
    """Head counts, party lists and time integrals for every location."""

    def __init__(self, n_locations: int, env: simpy.Environment) -> None:
        self.env = env
        self.people = [0] * n_locations
        self.parties: list[list[Party]] = [[] for _ in range(n_locations)]
        self.guards = [0] * n_locations
        self.visits = [0] * n_locations
        self.person_minutes = [0.0] * n_locations
        self.watched_person_minutes = [0.0] * n_locations
        self._since = [0.0] * n_locations

    def __len__(self) -> int:
        return len(self.people)

    def _settle(self, loc: int) -> None:
        """Add the time since the last change at `loc` to its integrals."""
        now = self.env.now
        dt = now - self._since[loc]
        if dt > 0.0:
            present = self.people[loc] * dt
            self.person_minutes[loc] += present
            if self.guards[loc]:
                self.watched_person_minutes[loc] += present
        self._since[loc] = now

    def enter(self, party: Party, loc: int) -> None:
        """Party arrives at `loc`."""
        self._settle(loc)
        self.people[loc] += party.size
        self.visits[loc] += party.size
        here = self.parties[loc]
        party.slot = len(here)
        here.append(party)

    def leave(self, party: Party, loc: int) -> None:
        """Party departs from `loc` (swap-remove keeps it O(1))."""
        self._settle(loc)
        self.people[loc] -= party.size
        here = self.parties[loc]
        last = here.pop()
        if last is not party:
            here[party.slot] = last
            last.slot = party.slot
        party.slot = -1

    def add_guard(self, loc: int, change: int) -> None:
        """A visible guardian arrives (+1) at or leaves (-1) `loc`."""
        self._settle(loc)
        self.guards[loc] += change

    def settle_all(self) -> None:
        """Bring every integral up to the current time (call before reading them)."""
        for loc in range(len(self.people)):
            self._settle(loc)

    def occupancy(self) -> np.ndarray:
        """Persons present at every location now."""
        return np.array(self.people, dtype=np.int64)
