"""Cameras and drones: sensors that watch places.

A camera is a static sensor: live-monitored ones can spot an attempt within their view and
trigger a dispatch, recording ones help clear a reported theft later; offenders who work a
place see its cameras (their signs) and remember them. A drone flies sorties between the
places of its route; while it hovers over a place it can spot attempts, and an offender
there, who sees it overhead, gives up with the chance `deter_drone`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa

from sim import portable
from sim.policing.presence import ACTIVE

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel
    from sim.policing.policy import Deployment


class Camera(mesa.Agent):
    """A fixed camera at a node (the coverage itself lives in `Presence.camera`)."""

    def __init__(self, model: CrowdPolicingModel, node: int, level: int) -> None:
        super().__init__(model)
        self.node = node
        self.level = level

    @property
    def monitored(self) -> bool:
        """Watched live by an operator."""
        return self.level == ACTIVE


class Drone(mesa.Agent):
    """Flies `sorties_per_day` sorties in its hours, each along a route of places.

    A sortie takes off at the route's first place, flies straight from place to place at
    `drone_speed_m_per_min` and back, and hovers at each place for an equal share of the
    battery (`flight_min`) that the flying leaves; it is over a place only while it hovers.
    A route longer than the battery allows is cut to the places it can reach and return from.
    """

    def __init__(
        self,
        model: CrowdPolicingModel,
        deployment: Deployment,
        group: int,
        route: list[int],
        speed_m_per_min: float,
    ) -> None:
        super().__init__(model)
        self.deployment = deployment
        self.group = group
        self.flight_minutes = 0.0
        self.route, self.legs = self._reachable(route, speed_m_per_min, deployment.flight_min)
        flying = sum(self.legs)
        self.hover_min = (deployment.flight_min - flying) / len(self.route) if self.route else 0.0

    def _reachable(
        self, route: list[int], speed: float, battery: float
    ) -> tuple[list[int], list[float]]:
        """The longest start of `route` it can fly out and back on one battery.

        Also the minutes of each leg (to the next place; from the last, back to the first).
        """
        city = self.model.city

        def minutes(a: int, b: int) -> float:
            return portable.hypot(city.x[a] - city.x[b], city.y[a] - city.y[b]) / speed

        for n in range(len(route), 0, -1):
            stops = route[:n]
            legs = [minutes(a, b) for a, b in zip(stops, [*stops[1:], stops[0]], strict=True)]
            if sum(legs) < battery:
                return stops, legs
        return [], []

    def sorties(self) -> Generator:
        """Spread the day's sorties evenly over the hours; each flies its route in turn."""
        env = self.model.env
        dep = self.deployment
        n = dep.sorties_per_day
        if n == 0 or not self.route:
            return
        spacing = dep.shift_hours() * 60.0 / n
        for day in range(dep.first_shift_day(), self.model.scenario.days):
            for k in range(n):
                takeoff = dep.shift_on(day)[0] + k * spacing
                if takeoff < env.now:
                    continue
                if env.now < takeoff:
                    yield env.timeout(takeoff - env.now)
                yield from self.sortie()

    def sortie(self) -> Generator:
        """Hover over each place of the route in turn, flying between them."""
        env, presence = self.model.env, self.model.presence
        start = env.now
        for node, to_next in zip(self.route, self.legs, strict=True):
            presence.drone_arrives(node)
            yield env.timeout(self.hover_min)
            presence.drone_leaves(node)
            self.model.police_stops.record(
                self.unique_id,
                self.deployment.unit,
                self.group,
                node,
                arrive=env.now - self.hover_min,
                leave=env.now,
            )
            yield env.timeout(to_next)
        self.flight_minutes += env.now - start
