"""Cameras and drones: sensors that watch places.

A camera is a static sensor: live-monitored ones can spot an attempt and trigger a
dispatch, recording ones help clear a reported theft later. A drone flies sorties along a
route of places; while over a place it can spot attempts, and an attempt there is given up
with the deterrence chance of a drone overhead (`deter_drone`); the offenders' beliefs
about police (sim/agents/pickpocket.py) are not told of it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa

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
    """Flies `sorties_per_day` sorties in its hours, each over a route of places."""

    def __init__(
        self, model: CrowdPolicingModel, deployment: Deployment, group: int, route: list[int]
    ) -> None:
        super().__init__(model)
        self.deployment = deployment
        self.group = group
        self.route = route
        self.flight_minutes = 0.0

    def sorties(self) -> Generator:
        """Spread the day's sorties evenly over the hours; each visits the route in turn."""
        env = self.model.env
        dep = self.deployment
        n = dep.sorties_per_day
        if n == 0 or not self.route:
            return
        spacing = dep.shift_hours() * 60.0 / n
        per_place = dep.flight_min / len(self.route)
        presence = self.model.presence
        for day in range(dep.first_shift_day(), self.model.scenario.days):
            for k in range(n):
                takeoff = dep.shift_on(day)[0] + k * spacing
                if takeoff < env.now:
                    continue
                if env.now < takeoff:
                    yield env.timeout(takeoff - env.now)
                for node in self.route:
                    presence.drone_arrives(node)
                    yield env.timeout(per_place)
                    presence.drone_leaves(node)
                    self.model.police_stops.record(
                        self.unique_id,
                        dep.unit,
                        self.group,
                        node,
                        arrive=env.now - per_place,
                        leave=env.now,
                    )
                self.flight_minutes += dep.flight_min
