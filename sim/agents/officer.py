"""Police units on the ground: officers and volunteers on foot, and patrol cars.

All share one mechanism: during their shift they move between stops by their
deployment's movement, with a dwell at each, or ride a bus line:

- `static`: stays at its post for the shift;
- `circuit`: tours its assigned places in order and repeats;
- `patrol_points`: tours all the mandatory points of its cell in a covering order;
- `random_walk`: after each stop draws the next at random from the stops its placement
  rule allows.

The tour goes on where it stopped (next shift, or after a job). They differ in what their
presence does, as their kind says (sim/policing/units.py): uniformed officers, volunteers
and cars are seen by offenders (who give up); plainclothes officers are not, but spot
attempts. Units whose kind answers calls are `Responder`s: cars anywhere, driving from
wherever they are on the road; officers on foot within reach of their post or round.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import mesa
import numpy as np
import simpy

from sim.city.legs import Leg
from sim.city.transit import Trip
from sim.policing.calls import HELP
from sim.policing.units import KINDS

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel
    from sim.policing.dispatch import Job
    from sim.policing.policy import Deployment
    from sim.policing.presence import Post

Route = Callable[[], list[int]]
"""Returns the unit's stops for the day (re-read each shift, so targets can follow thefts):
its assigned places in order, or the places a random walk draws from."""


class PoliceUnit(mesa.Agent):
    """A unit of `officers` that works a daily shift moving between stops.

    What its presence does (seen by offenders? spots attempts as whom?) is its kind's
    entry in sim/policing/units.py.
    """

    def __init__(
        self,
        model: CrowdPolicingModel,
        deployment: Deployment,
        route: Route,
        *,
        group: int,
        speed_m_per_min: float,
        bus_line: int = -1,
    ) -> None:
        super().__init__(model)
        self.deployment = deployment
        self.kind = KINDS[deployment.unit]
        self.group = group
        self.officers = deployment.officers
        self.route = route
        self.speed = speed_m_per_min
        self.bus_line = bus_line
        self.stops = route()
        self.node = self.stops[0] if bus_line < 0 else model.city.bus_lines[bus_line].stops[0]
        self.leg = Leg.still(self.node, 0.0)
        self.cursor = 0  # stops reached so far: where a tour goes on
        self.target: int | None = None  # the stop it is heading for
        self.location = -1
        self.arrived_at = 0.0
        self.post: Post | None = None  # where it stands at its current stop

    def shifts(self) -> Generator:
        """Work the shift hours of every day."""
        env = self.model.env
        dep = self.deployment
        for day in range(dep.first_shift_day(), self.model.scenario.days):
            start, end = dep.shift_on(day)
            if end <= env.now:
                continue
            if env.now < start:
                yield env.timeout(start - env.now)
            if self.bus_line < 0:
                self.stops = self.route()
            yield from self.duty(end)

    def duty(self, end: float) -> Generator:
        """Stops by the unit's movement until the shift ends (bus riders ride their line)."""
        if self.bus_line >= 0:
            yield from self.ride_line(end)
            return
        while self.model.env.now < end:
            yield from self.stop_at(self.next_stop(), end)

    def next_stop(self) -> int:
        """Where the unit is heading: its post, the next stop of its tour, or a random one."""
        if self.target is None:
            movement, stops = self.deployment.movement, self.stops
            if movement == "static":
                self.target = stops[0]
            elif movement == "random_walk":
                others = [s for s in stops if s != self.node] or stops
                self.target = others[int(self.model.streams.police.random() * len(others))]
            else:
                self.target = stops[self.cursor % len(stops)]
        return self.target

    def stop_at(self, node: int, end: float) -> Generator:
        """Travel to `node`, stay `dwell_min` (a fixed post: the whole shift), leave."""
        env = self.model.env
        leg = Leg.along(self.model.city, self.node, node, env.now, self.speed)
        if leg.arrival >= end:  # cannot get there this shift: wait where it is
            yield env.timeout(end - env.now)
            return
        self.leg = leg
        yield env.timeout(leg.arrival - env.now)
        self.node = node
        self.leg = Leg.still(node, env.now)
        self.target = None
        self.cursor += 1
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
            self.arrive(transit.vehicle_location(vehicle))
            yield env.timeout(min(alights, end) - env.now)
            self.depart()

    def arrive(self, loc: int) -> None:
        """Start being present at `loc`."""
        self.location = loc
        self.arrived_at = self.model.env.now
        self.post = self.model.presence.unit_arrives(self.kind, loc, self.officers)

    def depart(self) -> None:
        """Stop being present where the unit is; the stop goes into the stops table."""
        model = self.model
        model.presence.unit_leaves(self.location, self.post)
        model.police_stops.record(
            self.unique_id,
            self.deployment.unit,
            self.group,
            self.location,
            arrive=self.arrived_at,
            leave=model.env.now,
        )
        self.location = -1

    def metres_to(self, from_target: np.ndarray) -> float:
        """Street distance now from where the unit really is to a target node."""
        return self.leg.metres_to(self.model.env.now, from_target)


class Responder(PoliceUnit):
    """A unit that answers calls: a car anywhere, an officer or volunteer on foot nearby.

    A job interrupts the unit wherever it is, at a stop or on the way: it leaves its stop
    (no longer seen there, nor watching), travels to the scene from its true position,
    searches for the offender of a theft, stays the job's time on scene, then takes the
    next waiting job or goes back to its tour or post, which goes on at the stop it was
    heading for (or the next one, if the call came during a stop).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.busy = False
        self.on_duty = False
        self.process: simpy.Process | None = None
        self.reach_m = self.model.scenario.calls.foot_reach_m
        self.busy_minutes = 0.0
        self.duty_minutes = 0.0  # of shifts ended; the one under way counts from duty_since
        self.duty_since = 0.0

    @property
    def available(self) -> bool:
        """On shift, answering calls, and not already on a job."""
        return self.on_duty and not self.busy and self.deployment.responds

    def may_take(self, job: Job, metres: float) -> bool:
        """A car takes any job; one on foot only within reach (`metres` away); volunteers help."""
        answers = self.kind.answers
        if answers == "anywhere":
            return True
        if answers == "help" and job.kind != HELP:
            return False
        return metres <= self.reach_m

    def duty(self, end: float) -> Generator:
        """Patrol or stand, but break off for every job (and any waiting one) until shift end."""
        env = self.model.env
        dispatcher = self.model.dispatcher
        self.on_duty = True
        self.duty_since = env.now
        job = dispatcher.next_job(self)
        while env.now < end:
            if job is not None:
                self.busy = True
                yield from self.respond(job)
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
        self.duty_minutes += env.now - self.duty_since

    def respond(self, job: Job) -> Generator:
        """Travel to the scene from where the unit is now, search, and stay the job's time."""
        env, city = self.model.env, self.model.city
        began = env.now
        from_scene = city.distances_from(job.node)
        via, to_via = self.leg.node_toward(env.now, from_scene)
        self.leg = Leg.along(city, via, job.node, env.now + to_via / self.speed, self.speed)
        yield env.timeout(self.leg.arrival - env.now)
        self.node = job.node
        self.leg = Leg.still(job.node, env.now)
        job.t_arrived = env.now
        if job.incident is not None:
            self.model.crime.on_scene(job.incident)
        yield env.timeout(job.service_min)
        job.t_cleared = env.now
        self.busy_minutes += env.now - began

    def send(self, job: Job) -> None:
        """The dispatcher hands this unit a job."""
        self.busy = True
        self.process.interrupt(job)
