"""A visiting party: arrives, sees the sights on its itinerary, goes home."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel


class Tourist(mesa.Agent):
    """One party of 1-5 people; each member can be a victim.

    The whole day is planned on arrival (from the visitor stream), so the same seed gives
    the same visitors doing the same things under every policy: common random numbers.
    """

    def __init__(self, model: CrowdPolicingModel, size: int, itinerary: list[int],
                 dwell_min: list[float], awareness: float) -> None:
        super().__init__(model)
        self.size = size
        self.awareness = awareness
        self.itinerary = itinerary
        self.dwell_min = dwell_min
        self.arrived_at = model.env.now
        self.location = -1
        self.slot = -1

    def day_out(self) -> Generator:
        """Arrive, see the sights on the itinerary, go home."""
        env = self.model.env
        here = -1
        for place, dwell in zip(self.itinerary, self.dwell_min, strict=True):
            if here >= 0:
                yield from self.travel(here, place)
            self.enter(place)
            yield env.timeout(dwell)
            self.exit()
            here = place
        self.model.visitor_flow.departed(self)
        self.remove()

    def travel(self, origin: int, destination: int) -> Generator:
        """Walk, or walk to a stop, ride the next bus and walk on."""
        env = self.model.env
        transit = self.model.transit
        trip = transit.plan(origin, destination)
        if trip.by_bus:
            ride = transit.board(trip, env.now + trip.walk_min)
            if ride is not None:
                boards, alights, vehicle = ride
                yield env.timeout(boards - env.now)
                self.enter(self.model.city.n_nodes + vehicle)
                yield env.timeout(alights - boards)
                self.exit()
                yield env.timeout(trip.walk_from_min)
                return
        yield env.timeout(transit.walk_minutes(origin, destination))

    def enter(self, location: int) -> None:
        """Join the crowd at a place or on a bus."""
        self.location = location
        self.model.crowds.enter(self, location)

    def exit(self) -> None:
        """Leave the current place or bus."""
        self.model.crowds.leave(self, self.location)
        self.location = -1
