"""A visiting party: arrives, sees the sights on its itinerary, goes home."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.city.transit import Trip
    from sim.model import CrowdPolicingModel


class Tourist(mesa.Agent):
    """One party of 1-5 people; each member can be a victim.

    The whole day is planned on arrival (from the visitor stream), so the same seed gives
    the same visitors doing the same things under every policy: common random numbers.
    """

    def __init__(
        self,
        model: CrowdPolicingModel,
        size: int,
        itinerary: list[int],
        dwell_min: list[float],
        awareness: float,
    ) -> None:
        super().__init__(model)
        self.size = size
        self.awareness = awareness
        self.itinerary = itinerary
        self.dwell_min = dwell_min
        self.arrived_at = model.env.now
        self.slot = -1

    def day_out(self) -> Generator:
        """Arrive, see the sights on the itinerary, go home."""
        model = self.model
        timeout = model.env.timeout
        crowds = model.crowds
        plan = model.transit.plan
        here = -1
        for place, dwell in zip(self.itinerary, self.dwell_min, strict=True):
            if here >= 0:
                trip = plan(here, place)
                if trip.by_bus:
                    yield from self.ride_or_walk(trip)
                else:
                    yield timeout(trip.walk_min)
            crowds.enter(self, place)
            yield timeout(dwell)
            crowds.leave(self, place)
            here = place
        model.visitor_flow.departed(self)
        self.remove()

    def ride_or_walk(self, trip: Trip) -> Generator:
        """Walk to the stop, ride the next bus, walk on; walk all the way if none runs."""
        model = self.model
        env = model.env
        ride = model.transit.board(trip, env.now + trip.to_stop_min)
        if ride is None:
            yield env.timeout(trip.walk_min)
            return
        boards, alights, vehicle = ride
        bus = model.transit.vehicle_location(vehicle)
        yield env.timeout(boards - env.now)
        model.crowds.enter(self, bus)
        yield env.timeout(alights - boards)
        model.crowds.leave(self, bus)
        yield env.timeout(trip.from_stop_min)
