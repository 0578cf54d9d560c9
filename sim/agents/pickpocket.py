"""Pickpockets: go where the crowd is, away from where the police are.

Each working day an offender comes in from the edge of town, picks sites by expected gain
(the crowd there) against perceived risk (police seen there, being deterred there, news of
arrests there), works a site with attempts whose rate grows with the crowd, flees after a
theft, moves on when a site feels watched (displacement), and goes home past the ring-road
checkpoints, where stolen goods can give him away.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa
import numpy as np
import simpy

from sim.city.transit import MIN_PER_DAY, Trip
from sim.crime import Outcome

if TYPE_CHECKING:
    from sim.ledger import Incident
    from sim.model import CrowdPolicingModel


class OffenderNetwork:
    """What offenders tell each other: where colleagues were arrested (decaying news)."""

    def __init__(self, n_nodes: int, weight: float, half_life_min: float, env) -> None:
        self.env = env
        self.weight = weight
        self.rate = math.log(2.0) / half_life_min
        self.level = np.zeros(n_nodes)
        self.since = np.zeros(n_nodes)

    def arrest_at(self, node: int) -> None:
        """An arrest at `node` becomes common knowledge."""
        self.level[node] = self.risk(node) + self.weight
        self.since[node] = self.env.now

    def risk(self, node: int) -> float:
        """Perceived risk at `node` from arrest news, decayed to now."""
        return float(self.level[node] * math.exp(-self.rate * (self.env.now - self.since[node])))

    def risks(self, nodes: np.ndarray) -> np.ndarray:
        """Arrest-news risk at many nodes at once."""
        return self.level[nodes] * np.exp(-self.rate * (self.env.now - self.since[nodes]))


class Pickpocket(mesa.Agent):
    """One offender; works within `work_hours` until arrested."""

    def __init__(self, model: CrowdPolicingModel, home: int, sites: np.ndarray) -> None:
        super().__init__(model)
        self.home = home
        self.sites = sites
        self.node = home
        self.free = True
        self.loot: Incident | None = None
        self.params = model.scenario.offenders
        self.stream = model.streams.offenders
        self.memory = np.zeros(len(sites) + len(model.transit.directions))
        self.memory_since = np.zeros_like(self.memory)
        gain = self.params.gain_by_kind or {}
        self.site_gain = np.array([gain.get(model.city.kind[s], 1.0) for s in sites])
        self.decay_rate = math.log(2.0) / (60.0 * self.params.risk_memory_h)

    def taken_into_custody(self) -> None:
        """Arrested: out of the game for the rest of the run."""
        self.free = False
        self.remove()

    def workdays(self) -> Generator:
        """Every day: come in, work sites until the end of the working hours, go home."""
        env = self.model.env
        start_h, end_h = self.params.work_hours
        for day in range(self.model.scenario.days):
            start, end = day * MIN_PER_DAY + start_h * 60.0, day * MIN_PER_DAY + end_h * 60.0
            if env.now < start:
                yield env.timeout(start - env.now)
            while self.free and env.now < end:
                choice = self.choose_site()
                n_sites = len(self.sites)
                if choice < n_sites:
                    yield from self.walk_to(int(self.sites[choice]))
                    if self.free:
                        yield from self.work_place(int(self.sites[choice]), choice, end)
                else:
                    yield from self.work_bus(choice - n_sites, choice, end)
            if not self.free:
                return
            yield from self.walk_to(self.home, through_checkpoints=True)
            if not self.free:
                return
            self.loot = None

    def perceived_risk(self) -> np.ndarray:
        """Own memory (decayed) plus arrest news, for every site and bus direction."""
        decay = np.exp(-self.decay_rate * (self.model.env.now - self.memory_since))
        risk = self.memory * decay
        risk[: len(self.sites)] += self.model.offender_network.risks(self.sites)
        return risk

    def remember(self, choice: int, amount: float) -> None:
        """Add to the perceived risk of a site (decaying what was there)."""
        now = self.model.env.now
        decay = math.exp(-self.decay_rate * (now - self.memory_since[choice]))
        self.memory[choice] = self.memory[choice] * decay + amount
        self.memory_since[choice] = now

    def choose_site(self) -> int:
        """Draw a site (or a bus direction) with weight gain x exp(-aversion x risk).

        The gain is the crowd (x the kind's haul per victim; x the bus factor on a bus).
        """
        crowds = self.model.crowds
        people = np.asarray(crowds.people)
        gain = people[self.sites] * self.site_gain
        transit = self.model.transit
        n_nodes = self.model.city.n_nodes
        bus_gain = [people[n_nodes + d.first_vehicle: n_nodes + d.first_vehicle + d.n_vehicles]
                    .mean() * self.params.bus_crowd_factor for d in transit.directions]
        gain = np.concatenate([gain, bus_gain]) + 1.0
        weight = gain * np.exp(-self.params.risk_aversion * self.perceived_risk())
        cdf = np.cumsum(weight)
        return int(np.searchsorted(cdf, self.stream.random() * cdf[-1], side="right"))

    def walk_to(self, node: int, through_checkpoints: bool = False) -> Generator:
        """Walk along streets; with loot, each staffed checkpoint passed may stop him."""
        model = self.model
        if through_checkpoints and self.loot is not None:
            for step in model.city.path(self.node, node):
                if model.presence.checkpoint_active[step] and model.crime.checkpoint_stop(self):
                    return
        yield model.env.timeout(model.transit.walk_minutes(self.node, node))
        self.node = node

    def work_place(self, node: int, choice: int, end: float) -> Generator:
        """Work one place for a session; leave early if it feels watched."""
        model = self.model
        if model.crowds.guards[node]:
            self.remember(choice, self.params.risk_seen_police)
        if self.perceived_risk()[choice] > self.params.leave_risk:
            yield model.env.timeout(1.0)  # look around, move on
            return
        session_end = min(end, model.env.now + self.stream.exponential(self.params.session_min))
        yield from self.attempts(node, choice, session_end)

    def work_bus(self, direction: int, choice: int, end: float) -> Generator:
        """Ride one bus direction end to end, working the vehicle."""
        model = self.model
        d = model.transit.directions[direction]
        yield from self.walk_to(d.stops[0])
        if not self.free:
            return
        ride = model.transit.board(Trip(0.0, direction, 0, len(d.stops) - 1), model.env.now)
        if ride is None or ride[0] >= end:  # no bus now: try again later
            self.remember(choice, self.params.risk_seen_police)
            yield model.env.timeout(10.0)
            return
        boards, alights, vehicle = ride
        yield model.env.timeout(boards - model.env.now)
        self.node = d.stops[0]
        ended = yield from self.attempts(model.city.n_nodes + vehicle, choice, alights)
        if self.free and ended is not Outcome.THEFT:  # after a theft he fled the bus
            yield model.env.timeout(max(alights - model.env.now, 0.0))
            self.node = d.stops[-1]

    def attempts(self, loc: int, choice: int, until: float
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
        on_bus = loc >= model.city.n_nodes
        while self.free:
            gap = rng.exponential(mean_gap)
            if env.now + gap >= until:
                yield env.timeout(max(until - env.now, 0.0))
                return None
            yield env.timeout(gap)
            if not self.free:
                return Outcome.ARRESTED
            people = model.crowds.people[loc] * (p.bus_crowd_factor if on_bus else 1.0)
            if rng.random() * (people + half) >= people:
                continue
            outcome = model.crime.attempt(self, loc)
            if outcome is Outcome.DETERRED:
                self.remember(choice, 1.0)
                if self.perceived_risk()[choice] > p.leave_risk:
                    return outcome
            elif outcome is Outcome.THEFT:
                yield from self.flee(loc)
                return outcome
            elif outcome is Outcome.ARRESTED:
                return outcome
        return Outcome.ARRESTED

    def flee(self, loc: int) -> Generator:
        """Walk away from the scene and lie low for a while."""
        model, p = self.model, self.params
        city = model.city
        origin = self.node if loc >= city.n_nodes else loc
        self.node = origin
        dist = city.distances_from(origin)
        ring = np.flatnonzero((dist >= p.flee_m[0]) & (dist <= p.flee_m[1]))
        target = int(ring[int(self.stream.random() * len(ring))]) if len(ring) else origin
        yield from self.walk_to(target)
        if self.free and p.cooldown_min > 0:
            yield model.env.timeout(self.stream.exponential(p.cooldown_min))
