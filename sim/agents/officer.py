"""Police units on the ground: uniformed officers, plainclothes officers, patrol cars.

All three share one mechanism: during their shift they stop at a sequence of locations
(one for a fixed post) with a dwell at each, or ride a bus line. They differ in what their
presence does: uniformed officers and cars are visible (deterrence, Koper residual after
they leave); plainclothes officers are not, but spot attempts; cars also answer dispatches.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import mesa
import simpy

from sim.city.transit import MIN_PER_DAY, Trip

if TYPE_CHECKING:
    from sim.ledger import Incident
    from sim.model import CrowdPolicingModel
    from sim.policing.policy import Deployment

Route = Callable[[], list[int]]
"""Returns the stops for the current shift (re-read daily, so targets can follow thefts)."""


class PoliceUnit(mesa.Agent):
    """A unit of `officers` that works a daily shift along a route of stops."""

    visible = True

    def __init__(self, model: CrowdPolicingModel, deployment: Deployment, route: Route,
                 speed_m_per_min: float, bus_line: int = -1) -> None:
        super().__init__(model)
        self.deployment = deployment
        self.officers = deployment.officers
        self.route = route
        self.speed = speed_m_per_min
        self.bus_line = bus_line
        self.node = route()[0] if bus_line < 0 else model.city.bus_lines[bus_line].stops[0]
        self.location = -1
        self.arrived_at = 0.0

    def shifts(self) -> Generator:
        """Work the shift hours of every day."""
        env = self.model.env
        start_h, end_h = self.deployment.hours
        for day in range(self.model.scenario.days):
            start = day * MIN_PER_DAY + start_h * 60.0
            end = day * MIN_PER_DAY + end_h * 60.0
            if end <= start:
                continue
            if env.now < start:
                yield env.timeout(start - env.now)
            yield from self.duty(end)

    def duty(self, end: float) -> Generator:
        """Stops along the route until the shift ends (bus riders ride their line)."""
        if self.bus_line >= 0:
            yield from self.ride_line(end)
            return
        stops = self.route()
        i = 0
        while self.model.env.now < end:
            yield from self.stop_at(stops[i % len(stops)], end)
            i += 1

    def stop_at(self, node: int, end: float) -> Generator:
        """Travel to `node`, stay `dwell_min` (a fixed post: the whole shift), leave."""
        env = self.model.env
        travel = self.model.city.distance(self.node, node) / self.speed
        if env.now + travel >= end:
            yield env.timeout(end - env.now)
            return
        yield env.timeout(travel)
        self.node = node
        static = self.deployment.movement == "static"
        stay = end - env.now if static else min(self.deployment.dwell_min, end - env.now)
        self.arrive(node)
        yield env.timeout(stay)
        self.depart()

    def ride_line(self, end: float) -> Generator:
        """Ride a bus line to the end and back, on board the vehicles, until the shift ends."""
        model, env = self.model, self.model.env
        transit = model.transit
        directions = [i for i, d in enumerate(transit.directions) if d.line == self.bus_line]
        k = 0
        while env.now < end:
            di = directions[k % len(directions)]
            k += 1
            d = transit.directions[di]
            ride = transit.board(Trip(0.0, di, 0, len(d.stops) - 1), env.now)
            if ride is None or ride[0] >= end:
                yield env.timeout(end - env.now)
                return
            boards, alights, vehicle = ride
            yield env.timeout(boards - env.now)
            self.arrive(model.city.n_nodes + vehicle)
            yield env.timeout(min(alights, end) - env.now)
            self.depart()

    def arrive(self, loc: int) -> None:
        """Start being present at `loc`."""
        self.location = loc
        self.arrived_at = self.model.env.now
        presence = self.model.presence
        if self.visible:
            presence.visible_arrives(loc, self.officers)
        else:
            presence.plainclothes[loc] += self.officers

    def depart(self) -> None:
        """Stop being present where the unit is."""
        presence = self.model.presence
        if self.visible:
            presence.visible_leaves(self.location, self.officers,
                                    self.model.env.now - self.arrived_at)
        else:
            presence.plainclothes[self.location] -= self.officers
        self.location = -1


class UniformedOfficer(PoliceUnit):
    """Visible officers at a fixed post or on foot patrol: they deter and can spot attempts."""


class PlainclothesOfficer(PoliceUnit):
    """Invisible to offenders (no deterrence) but good at catching attempts in the act."""

    visible = False


class PatrolCar(PoliceUnit):
    """A car crew patrolling its cell's points; visible at each stop; answers dispatches.

    A dispatch interrupts the patrol: the crew drives to the scene, and the dispatcher gives
    it the next waiting job or sends it back to patrol.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.busy = False
        self.on_duty = False
        self.process: simpy.Process | None = None

    @property
    def available(self) -> bool:
        """On shift, answering calls, and not already on a job."""
        return self.on_duty and not self.busy and self.deployment.responds

    def duty(self, end: float) -> Generator:
        """Patrol, but break off for every dispatch (and any waiting job) until shift end."""
        env = self.model.env
        dispatcher = self.model.dispatcher
        self.on_duty = True
        job = dispatcher.next_job(self)
        while env.now < end:
            if job is not None:
                self.busy = True
                yield from self.respond(*job)
                job = dispatcher.next_job(self)
                continue
            self.busy = False
            try:
                yield from super().duty(end)
            except simpy.Interrupt as call:
                if self.location >= 0:
                    self.depart()
                job = call.cause
        self.busy = False
        self.on_duty = False

    def respond(self, incident: Incident, node: int) -> Generator:
        """Drive to the scene and try to catch the offender there."""
        env = self.model.env
        yield env.timeout(self.model.city.distance(self.node, node) / self.speed)
        self.node = node
        self.model.crime.on_scene(incident)

    def send(self, job: tuple[Incident, int]) -> None:
        """Dispatcher hands this car a job."""
        self.busy = True
        self.process.interrupt(job)
