"""Pickpockets: go where they expect the crowd, away from where they believe police are.

On each day he works (the pool decides, `sim.offenders`), an offender comes in from the
edge of town and chooses sites by what he can know: a place's general popularity (public
knowledge), corrected by the crowd he saw there himself, against the distance from where
he stands and his own belief about police there. His beliefs come only from what he saw
and what he was told: visible police within his sight where he stood and at the places he
walked through, cameras (their signs) at places he worked, attempts he gave up, arrests he
witnessed, and news of arrests from the offenders he knows (`sim.offenders`), late. A
belief is about one place: he cannot know a patrol's route, so nothing he learns of one
place changes his view of another (an assumption; displacement and diffusion of benefits
come out of these beliefs and of what is within sight, not out of a term of their own).
He works a site with attempts whose rate grows with the crowd, flees after a theft, moves
on when a site feels watched (displacement), and goes home past the ring-road
checkpoints, where stolen goods can give him away. His beliefs carry over to the next day
he works.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa
import numpy as np
import simpy

from sim import portable
from sim.city.legs import Leg
from sim.city.transit import Trip
from sim.clock import MIN_PER_DAY
from sim.crime import Outcome

if TYPE_CHECKING:
    from sim.ledger import Incident
    from sim.model import CrowdPolicingModel

LN2 = portable.log(2.0)


REBASE = 200.0
"""Fading (rate x minutes) past which a memory's reference time moves to now: its scaled
amounts then stay far from overflow in runs of any length."""


class Memory:
    """Amounts remembered per choice (site or bus direction), fading with a half-life.

    Every amount is kept scaled to a reference time `t0` (amount x exp(rate x (when - t0))),
    so what is left of all of them now is the scaled amounts times one exponential,
    exp(-rate x (now - t0)): exact fading at the cost of one exp per look, however many
    places he remembers.
    """

    def __init__(self, size: int, half_life_min: float) -> None:
        self.rate = LN2 / half_life_min
        self.scaled = np.zeros(size)
        self.t0 = 0.0

    def fade(self, now: float) -> float:
        """exp(-rate x (now - t0)), moving the reference time to `now` first if far behind."""
        age = self.rate * (now - self.t0)
        if age > REBASE:
            self.scaled *= portable.exp(-age)
            self.t0, age = now, 0.0
        return portable.exp(-age)

    def add(self, choice: int, amount: float, now: float) -> None:
        """Add `amount` at `choice` at time `now`."""
        self.scaled[choice] += amount / self.fade(now)

    def get(self, choice: int, now: float) -> float:
        """What is left of the memory of `choice` at `now`."""
        return float(self.scaled[choice] * self.fade(now))


def remembered_total(memories: tuple[Memory, ...], now: float) -> np.ndarray:
    """What is left at `now` of several memories of the same choices, added up in order."""
    total = memories[0].scaled * memories[0].fade(now)
    for memory in memories[1:]:
        total += memory.scaled * memory.fade(now)
    return total


class Pickpocket(mesa.Agent):
    """One offender of the pool; works the days the pool sends him, until arrested."""

    def __init__(self, model: CrowdPolicingModel, index: int, home: int) -> None:
        super().__init__(model)
        pool = model.offenders
        self.index = index
        self.home = home
        self.node = home
        self.leg = Leg.still(home, model.env.now)
        self.free = True
        self.in_town = False  # between setting out from home and getting back there
        self.loot: Incident | None = None
        self.working = -1  # choice being worked (site or bus direction), -1 if none
        self.working_loc = -1
        self.params = p = model.scenario.offenders
        self.stream = model.streams.offender(index)
        n_choices = pool.n_choices
        self.deterred = Memory(n_choices, 60.0 * p.risk_memory_h)
        self.arrests_known = Memory(n_choices, 60.0 * p.risk_memory_h)
        self.police_seen = Memory(n_choices, p.police_memory_min)
        self.cameras_seen = np.zeros(n_choices, dtype=bool)
        self.seen_crowd = np.zeros(n_choices)
        self.seen_at = np.full(n_choices, -np.inf)
        self.x = self.y = 0.0  # where he stands within the place he works
        self.acquaintances: list[Pickpocket] = []

    def taken_into_custody(self) -> None:
        """Arrested: out of the game for the rest of the run."""
        self.free = False
        self.model.offenders.stops_working(self)
        self.remove()

    # --- what he knows -------------------------------------------------------------------

    def perceived_risk(self) -> np.ndarray:
        """Police he saw, attempts he gave up and arrests he knows of (all fading), cameras."""
        now = self.model.env.now
        risk = remembered_total((self.deterred, self.police_seen, self.arrests_known), now)
        return risk + self.params.risk_camera_seen * self.cameras_seen

    def expected_crowds(self) -> np.ndarray:
        """The crowd he expects at every choice now.

        His own sighting while it is fresh, else the place's general popularity.
        """
        now = self.model.env.now
        expected = self.model.offenders.popularity.copy()
        seen = np.flatnonzero(self.seen_at > -np.inf)
        if len(seen):
            fresh = portable.exp(-(now - self.seen_at[seen]) / self.params.crowd_memory_min)
            expected[seen] = fresh * self.seen_crowd[seen] + (1.0 - fresh) * expected[seen]
        return expected

    def look(self, choice: int, loc: int) -> None:
        """Move to a new spot where he works and size it up: the crowd, police in sight."""
        model = self.model
        presence = model.presence
        self.x, self.y = presence.spot(loc, self.stream.random)
        self.seen_crowd[choice] = model.crowds.people(loc)
        self.seen_at[choice] = model.env.now
        if presence.visible_within(loc, self.x, self.y):
            self.sees_police(choice)
        if presence.has_camera(loc):
            self.cameras_seen[choice] = True

    def sees_police(self, choice: int) -> None:
        """Visible police at `choice`: he will believe they are about there for a while."""
        self.police_seen.add(choice, self.params.risk_seen_police, self.model.env.now)

    def learns_of_arrest(self, choice: int) -> None:
        """He saw, or was told of, an arrest at `choice`."""
        self.arrests_known.add(choice, self.params.risk_arrest_news, self.model.env.now)

    def choose_site(self) -> int:
        """Draw a site (or a bus direction) by expected gain, distance and perceived risk.

        Weight: (expected gain + 1) x exp(-decay x km away) x exp(-aversion x risk).
        """
        pool = self.model.offenders
        weight = (self.expected_crowds() * pool.gain + 1.0) * pool.nearness(self.node)
        risk = self.perceived_risk()
        risky = np.flatnonzero(risk)
        if len(risky):
            weight[risky] *= portable.exp(-self.params.risk_aversion * risk[risky])
        cdf = np.cumsum(weight)
        return int(np.searchsorted(cdf, self.stream.random() * cdf[-1], side="right"))

    # --- what he does --------------------------------------------------------------------

    def workday(self, day: int) -> Generator:
        """Come in, work sites until the end of the working hours, go home."""
        env = self.model.env
        pool = self.model.offenders
        start_h, end_h = self.params.work_hours
        start, end = day * MIN_PER_DAY + start_h * 60.0, day * MIN_PER_DAY + end_h * 60.0
        if env.now < start:
            yield env.timeout(start - env.now)
        self.in_town = True
        while self.free and env.now < end:
            choice = self.choose_site()
            if choice < pool.n_sites:
                node = int(pool.sites[choice])
                yield from self.walk_to(node)
                if self.free:
                    yield from self.work_place(node, choice, end)
            else:
                yield from self.work_bus(choice - pool.n_sites, choice, end)
        if not self.free:
            return
        yield from self.walk_to(self.home, through_checkpoints=True)
        if self.free:
            self.loot = None
            self.in_town = False

    def walk_to(self, node: int, through_checkpoints: bool = False) -> Generator:
        """Walk along streets; with loot, each staffed checkpoint he reaches may stop him.

        On arrival he remembers the visible police he passed on the way.
        """
        model = self.model
        env = model.env
        self.leg = Leg.along(model.city, self.node, node, env.now, model.transit.walk_speed)
        if through_checkpoints and self.loot is not None:
            active = model.presence.checkpoint_active
            for step, reach in zip(self.leg.nodes, self.leg.times, strict=True):
                if active[step]:
                    yield env.timeout(reach - env.now)
                    if model.crime.checkpoint_stop(self):
                        self.node = step
                        return
        yield env.timeout(max(self.leg.arrival - env.now, 0.0))
        self.node = node
        self.recall_police_passed()

    def recall_police_passed(self) -> None:
        """Visible police within his sight of the street at the sites he walked through.

        He passes through a place by its middle; police who stood there when he passed and
        are still there now are the ones he saw (a shorter stop in between is missed).
        """
        pool, presence = self.model.offenders, self.model.presence
        for step, passed in zip(self.leg.nodes[:-1], self.leg.times[:-1], strict=True):
            choice = pool.site_index.get(step)
            if choice is None:
                continue
            middle = 0.5 * presence.side[step]
            if presence.visible_within(step, middle, middle, since=passed):
                self.sees_police(choice)

    def node_now(self) -> int:
        """The node he last passed (on foot or on a bus)."""
        return self.leg.between(self.model.env.now)[0]

    def work_place(self, node: int, choice: int, end: float) -> Generator:
        """Work one place for a session; leave early if it feels watched."""
        env = self.model.env
        pool = self.model.offenders
        pool.starts_working(self, node, choice)
        self.look(choice, node)
        if self.perceived_risk()[choice] > self.params.leave_risk:
            yield env.timeout(self.params.look_around_min)  # size it up, move on
        else:
            session_end = min(end, env.now + self.stream.exponential(self.params.session_min))
            yield from self.attempts(node, choice, session_end)
        pool.stops_working(self)

    def work_bus(self, direction: int, choice: int, end: float) -> Generator:
        """Ride one bus direction end to end, working the vehicle."""
        model = self.model
        env = model.env
        transit = model.transit
        d = transit.directions[direction]
        yield from self.walk_to(d.stops[0])
        if not self.free:
            return
        ride = transit.board(Trip(0.0, direction, 0, len(d.stops) - 1), env.now)
        if ride is None or ride[0] >= end:  # no bus now: choose again later
            yield env.timeout(self.params.bus_retry_min)
            return
        boards, alights, vehicle = ride
        yield env.timeout(boards - env.now)
        speed = model.city.bus_lines[d.line].speed_m_per_min
        self.leg = Leg(d.stops, tuple(boards + o for o in d.offset_min), speed)
        loc = transit.vehicle_location(vehicle)
        model.offenders.starts_working(self, loc, choice)
        self.look(choice, loc)
        ended = yield from self.attempts(loc, choice, alights)
        model.offenders.stops_working(self)
        if self.free and ended is not Outcome.THEFT:  # after a theft he fled the bus
            yield env.timeout(max(alights - env.now, 0.0))
            self.node = d.stops[-1]
            self.leg = Leg.still(self.node, env.now)

    def attempts(
        self, loc: int, choice: int, until: float
    ) -> Generator[simpy.Event, None, Outcome | None]:
        """Attempts at rate (max) x crowd / (crowd + half), by thinning, until `until`.

        Returns the outcome that ended the session early (a theft, an arrest, deterrence
        that made the site feel watched), or None when time ran out.
        """
        model, p, rng = self.model, self.params, self.stream
        env = model.env
        mean_gap = 60.0 / p.attempts_per_hour if p.attempts_per_hour > 0 else math.inf
        # at scale s a simulated crowd of n stands for n / s people
        half = p.crowd_half_saturation * model.scenario.scale
        crowd_factor = p.bus_crowd_factor if model.transit.is_vehicle(loc) else 1.0
        while self.free:
            gap = rng.exponential(mean_gap)
            if env.now + gap >= until:
                yield env.timeout(max(until - env.now, 0.0))
                return None
            yield env.timeout(gap)
            if not self.free:
                return Outcome.ARRESTED
            self.look(choice, loc)
            people = float(self.seen_crowd[choice]) * crowd_factor  # counted as he looked
            if rng.random() * (people + half) >= people:
                continue
            outcome = model.crime.attempt(self, loc)
            if outcome is Outcome.DETERRED:
                self.deterred.add(choice, p.risk_deterred, env.now)
                if self.perceived_risk()[choice] > p.leave_risk:
                    return outcome
            elif outcome is Outcome.THEFT:
                model.offenders.stops_working(self)
                yield from self.flee()
                return outcome
            elif outcome is Outcome.ARRESTED:
                return outcome
        return Outcome.ARRESTED

    def flee(self) -> Generator:
        """Walk away from the scene and lie low for a while."""
        model, p = self.model, self.params
        city = model.city
        self.node = self.node_now()
        dist = city.distances_from(self.node)
        ring = np.flatnonzero((dist >= p.flee_m[0]) & (dist <= p.flee_m[1]))
        target = int(ring[int(self.stream.random() * len(ring))]) if len(ring) else self.node
        yield from self.walk_to(target)
        if self.free and p.cooldown_min > 0:
            yield model.env.timeout(self.stream.exponential(p.cooldown_min))
