"""The offender population: an open pool, and who of it works which day.

The pool holds the pickpockets in town. Each day a share of it moves on and newcomers
arrive (`turnover_per_day`), and each member works that day with chance `active_share`,
so the expected number at work is `per_100k_visitors` x that day's visitors / 100,000 and
the count is random. An arrested offender is out for the rest of the run and is not
replaced one for one: the days he would have worked are counted as offender-days lost to
arrest (incapacitation), apart from attempts given up (deterrence).

Offenders talk: each newcomer knows a few members of the pool (`acquaintances`), and news
of an arrest reaches the arrested offender's acquaintances who are in town, each after a
delay (`news_delay_min`); offenders working within sight of an arrest see it at once.
Nobody else hears of it.

Every draw here comes from the offender stream and is made for every member ever in the
pool, arrested or not, so who is in town, who knows whom and who would work each day is
the same under every policy (common random numbers); only who is in custody differs. The
news delays, which only arrests make, come from the `news` stream.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import portable
from sim.agents.pickpocket import Pickpocket
from sim.clock import MIN_PER_DAY
from sim.crowd_forecast import CrowdForecast, crowd_forecast

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel
    from sim.policing.presence import Post


@dataclass
class OffenderDay:
    """One day of the pool: its size, who worked, and who would have but was in custody."""

    day: int
    pool: int
    newcomers: int
    active: int
    lost_to_arrest: int


class OffenderPool:
    """Who is in town, who works which day, and what they all know of the city."""

    def __init__(self, model: CrowdPolicingModel) -> None:
        self.model = model
        self.params = p = model.scenario.offenders
        self.rng = model.streams.offenders
        city, transit = model.city, model.transit
        radius = portable.hypot(city.x - city.x.mean(), city.y - city.y.mean())
        self.homes = np.argsort(-radius, kind="stable")[
            : max(1, int(p.home_edge_share * city.n_nodes))
        ]
        self.sites = city.visited
        self.n_sites = len(self.sites)
        self.n_choices = self.n_sites + len(transit.directions)
        self.site_index = {int(node): i for i, node in enumerate(self.sites)}
        # where he walks to for each choice: the site, or the first stop of the direction
        self.approach = np.concatenate(
            [self.sites, np.array([d.stops[0] for d in transit.directions], dtype=np.int64)]
        ).astype(np.int64)
        by_kind = p.gain_by_kind or {}
        self.gain = np.concatenate(
            [
                [by_kind.get(city.kind[s], 1.0) for s in self.sites],
                np.full(len(transit.directions), p.bus_crowd_factor),
            ]
        )
        self.popularity = self._popularity(crowd_forecast(model.visitor_flow, transit))
        self.news_rng = model.streams.news
        self._nearness: dict[int, np.ndarray] = {}
        self.members: list[Pickpocket] = []
        self.in_town = np.zeros(0, dtype=bool)
        self.by_id: dict[int, Pickpocket] = {}
        self.working_at: dict[int, set[Pickpocket]] = {}
        self.days: list[OffenderDay] = []

    def release(self) -> None:
        """Drop the offenders (Mesa agents, which hold the model) once the run is over."""
        self.members.clear()
        self.by_id.clear()

    def nearness(self, node: int) -> np.ndarray:
        """exp(-decay x km) from `node` to every choice (the same for every offender there)."""
        near = self._nearness.get(node)
        if near is None:
            km = self.model.city.distances_from(node)[self.approach] / 1000.0
            near = self._nearness[node] = portable.exp(-self.params.distance_decay_per_km * km)
        return near

    def _popularity(self, forecast: CrowdForecast) -> np.ndarray:
        """A place's general popularity: its mean crowd over the working hours.

        Anyone in town knows it; the crowd at a given hour he learns only by going there.
        """
        start, end = (int(h) for h in self.params.work_hours)
        hours = slice(start, max(end, start + 1))
        return np.concatenate(
            [
                forecast.at_node[self.sites, hours].mean(axis=1),
                forecast.per_vehicle[:, hours].mean(axis=1),
            ]
        )

    def expected_active(self, day: int) -> float:
        """Offenders expected at work on `day`: per 100,000 of that day's visitors."""
        return self.params.per_100k_visitors * self.model.visitor_flow.people_on(day) / 1e5

    def run(self) -> Generator:
        """SimPy process: each working day, settle the pool and send out the day's workers."""
        env = self.model.env
        p = self.params
        for day in range(self.model.scenario.days):
            start = day * MIN_PER_DAY + p.work_hours[0] * 60.0
            if env.now < start:
                yield env.timeout(start - env.now)
            target = self.expected_active(day) / p.active_share
            if day > 0:
                self.in_town &= self.rng.random(len(self.members)) >= p.turnover_per_day
            newcomers = int(self.rng.poisson(target if day == 0 else p.turnover_per_day * target))
            self._join(newcomers)
            would_work = self.in_town & (self.rng.random(len(self.members)) < p.active_share)
            active = lost = 0
            for i in np.flatnonzero(would_work).tolist():
                offender = self.members[i]
                if offender.free:
                    active += 1
                    env.process(offender.workday(day))
                else:
                    lost += 1
            self.days.append(OffenderDay(day, int(self.in_town.sum()), newcomers, active, lost))

    def _join(self, count: int) -> None:
        """Newcomers arrive, each knowing a few members already in the pool (both ways)."""
        homes = self.rng.choice(self.homes, size=count)
        for home in homes.tolist():
            offender = Pickpocket(self.model, len(self.members), int(home))
            known = min(int(self.rng.poisson(self.params.acquaintances)), len(self.members))
            for i in self.rng.choice(len(self.members), size=known, replace=False).tolist():
                offender.acquaintances.append(self.members[i])
                self.members[i].acquaintances.append(offender)
            self.members.append(offender)
            self.by_id[offender.unique_id] = offender
        self.in_town = np.concatenate([self.in_town, np.ones(count, dtype=bool)])

    def starts_working(self, offender: Pickpocket, loc: int, choice: int) -> None:
        """`offender` works location `loc` (choice `choice`): police arriving there he sees."""
        offender.working, offender.working_loc = choice, loc
        self.working_at.setdefault(loc, set()).add(offender)

    def stops_working(self, offender: Pickpocket) -> None:
        """`offender` leaves the location he worked (no-op if he was not working)."""
        if offender.working >= 0:
            self.working_at[offender.working_loc].discard(offender)
            offender.working = -1

    def police_arrive(self, loc: int, post: Post) -> None:
        """Visible police take `post` at `loc`: offenders working within sight see them."""
        for offender in self.working_at.get(loc, ()):
            if self.model.presence.offender_sees(post, offender.x, offender.y):
                offender.sees_police(offender.working)

    def arrest_made(self, arrested: Pickpocket, loc: int, node: int) -> None:
        """`arrested` is taken at `loc` for a theft at `node`: who learns of it, and when.

        Offenders working at `loc` within sight of him see it; his acquaintances in town
        hear of it after a delay (if still free then). A theft on a bus or off the sites
        is news about no site.
        """
        choice = self.site_index.get(node)
        if choice is None:
            return
        presence = self.model.presence
        for offender in self.working_at.get(loc, ()):
            if offender is not arrested and presence.offender_sees_point(
                arrested.x, arrested.y, offender.x, offender.y
            ):
                offender.learns_of_arrest(choice)
        env = self.model.env
        for friend in arrested.acquaintances:
            if friend.free and self.in_town[friend.index]:
                delay = self.news_rng.exponential(self.params.news_delay_min)
                env.process(self._tell(friend, choice, delay))

    def _tell(self, friend: Pickpocket, choice: int, delay: float) -> Generator:
        yield self.model.env.timeout(delay)
        if friend.free:
            friend.learns_of_arrest(choice)

    @property
    def free_count(self) -> int:
        """Offenders in the pool and not in custody (for the hourly series)."""
        return sum(1 for o, here in zip(self.members, self.in_town, strict=True) if here and o.free)

    def metrics(self) -> dict[str, float]:
        """Offender-days worked and lost to arrest, arrests of distinct offenders."""
        return {
            "offenders_in_pool": len(self.members),
            "offender_days": sum(d.active for d in self.days),
            "offender_days_lost_to_arrest": sum(d.lost_to_arrest for d in self.days),
            "offenders_arrested": sum(1 for o in self.members if not o.free),
        }
