"""The daily stream of visiting parties and how each plans its day.

Arrivals follow the scenario's hourly profile; each party picks sights one after another,
weighing attractiveness (by hour of day) against street distance (a gravity choice). Choice
tables are cumulative weights per hour and origin, built once, so a choice is one bisect.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np

from sim.agents.tourist import Tourist
from sim.behaviour import HOURS
from sim.city.transit import MIN_PER_DAY
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel

REDRAWS = 5  # a sight already seen today is redrawn this many times before the day ends


class VisitorFlow:
    """Draws each day's parties and plans their itineraries from the visitor stream."""

    def __init__(
        self, model: CrowdPolicingModel, scenario: Scenario, rng: np.random.Generator
    ) -> None:
        self.model = model
        self.params = params = scenario.visitors
        self.awareness_ab = scenario.victims.awareness_beta
        self.rng = rng
        city = model.city
        self.parties_per_day = params.per_day * scenario.scale / self._mean_party_size()
        entry_weight = city.attractiveness[city.entries]
        self.entries = city.entries.tolist()
        self.entry_cdf = np.cumsum(entry_weight / entry_weight.sum())
        self.entry_cdf[-1] = 1.0
        self.sights = city.attractions.tolist()
        origins = city.visited
        self.origin_row = {int(node): i for i, node in enumerate(origins)}
        self.choice_cdf = self._choice_tables(origins)
        medians = params.dwell_medians()
        self.dwell_median = {i: medians[k] for i, k in enumerate(city.kind) if k in medians}
        self.present_people = 0
        self.arrived_parties = 0
        self.arrived_people = 0
        self.person_minutes_in_city = 0.0
        self._days: dict[int, tuple] = {}
        self._days_drawn = 0
        self.people_of_day: dict[int, int] = {}

    def _mean_party_size(self) -> float:
        w = np.asarray(self.params.party_size_weights, dtype=float)  # sum > 0: checked on load
        return float((w / w.sum()) @ np.arange(1, len(w) + 1))

    def _choice_tables(self, origins: np.ndarray) -> list[list[list[float]]]:
        """Per hour and origin, cumulative choice weights over the sights."""
        city = self.model.city
        sights = city.attractions
        km = city.distance_matrix(origins, sights) / 1000.0
        pull = np.exp(-self.params.distance_decay_per_km * km) * city.attractiveness[sights]
        pull[origins[:, None] == sights[None, :]] = 0.0  # no "visiting" where one stands
        by_kind = self.params.hour_weights()
        hourly = np.array([by_kind[city.kind[s]] for s in sights])  # sights x 24
        return [np.cumsum(pull * hourly[:, h], axis=1).tolist() for h in range(HOURS)]

    def arrivals(self) -> Generator:
        """SimPy process: release each day's parties at their arrival times."""
        env = self.model.env
        for day in range(self.model.scenario.days):
            times, sizes, entries, stops, awareness = self.day(day)
            for t, size, entry, n_stops, aware in zip(
                times, sizes, entries, stops, awareness, strict=True
            ):
                if t > env.now:
                    yield env.timeout(t - env.now)
                itinerary, dwell = self.plan_day(entry, n_stops, t, day, self.rng)
                party = Tourist(self.model, size, itinerary, dwell, aware)
                self.arrived_parties += 1
                self.arrived_people += size
                self.present_people += size
                env.process(party.day_out())
            self.people_of_day[day] = self.people_on(day)
            del self._days[day]  # released: free the day's draw

    def day(self, day: int) -> tuple[list[float], list[int], list[int], list[int], list[float]]:
        """Day `day`'s parties, drawn from the visitor stream once, in day order."""
        while self._days_drawn <= day:
            self._days[self._days_drawn] = self.draw_day(self._days_drawn, self.rng)
            self._days_drawn += 1
        return self._days[day]

    def people_on(self, day: int) -> int:
        """Visitors arriving on `day` (the same under every policy)."""
        if day in self.people_of_day:
            return self.people_of_day[day]
        return int(sum(self.day(day)[1]))

    def draw_day(
        self, day: int, rng: np.random.Generator, parties: int | None = None
    ) -> tuple[list[float], list[int], list[int], list[int], list[float]]:
        """Arrival times, party sizes, entry places, sight counts and vigilance for a day.

        The number of parties is Poisson around the daily mean unless `parties` is given.
        """
        p = self.params
        n = int(rng.poisson(self.parties_per_day)) if parties is None else parties
        profile = np.asarray(p.arrival_profile, dtype=float)
        hours = rng.choice(HOURS, size=n, p=profile / profile.sum())
        times = np.sort(day * MIN_PER_DAY + (hours + rng.random(n)) * 60.0)
        w = np.asarray(p.party_size_weights, dtype=float)
        sizes = rng.choice(np.arange(1, len(w) + 1), size=n, p=w / w.sum())
        entry_idx = np.searchsorted(self.entry_cdf, rng.random(n), side="right")
        stops = np.minimum(1 + rng.poisson(max(p.stops_mean - 1.0, 0.0), n), p.max_stops)
        entries = [self.entries[i] for i in entry_idx.tolist()]
        awareness = rng.beta(*self.awareness_ab, size=n)
        return times.tolist(), sizes.tolist(), entries, stops.tolist(), awareness.tolist()

    def plan_day(
        self, entry: int, n_stops: int, t: float, day: int, rng: np.random.Generator
    ) -> tuple[list[int], list[float]]:
        """Sights chosen one after another while the party can still be back by day's end.

        Times are estimated at walking pace; every stay is cut so that the walk back to
        the entry and the wait there end by `day_end_hour`.
        """
        p = self.params
        walk = self.model.transit.walk_minutes
        day_end = day * MIN_PER_DAY + p.day_end_hour * 60.0
        sigma = p.dwell_sigma
        median = self.dwell_median
        leave_wait = median[entry] * math.exp(sigma * rng.standard_normal())
        itinerary = [entry]
        dwell = [
            min(
                median[entry] * math.exp(sigma * rng.standard_normal()),
                max(day_end - t - leave_wait, 0.0),
            )
        ]
        t += dwell[0]
        here = entry
        for _ in range(n_stops):
            row = self.choice_cdf[int(t // 60.0) % HOURS][self.origin_row[here]]
            total = row[-1]
            if total <= 0.0:
                break
            for _ in range(REDRAWS):
                nxt = self.sights[bisect.bisect_right(row, rng.random() * total)]
                if nxt not in itinerary:
                    break
            else:
                break
            stay = median[nxt] * math.exp(sigma * rng.standard_normal())
            arrive = t + walk(here, nxt)
            latest_leave = day_end - leave_wait - walk(nxt, entry)
            if arrive >= latest_leave:
                break
            stay = min(stay, latest_leave - arrive)
            itinerary.append(nxt)
            dwell.append(stay)
            t = arrive + stay
            here = nxt
        itinerary.append(entry)
        dwell.append(leave_wait)
        return itinerary, dwell

    def departed(self, party: Tourist) -> None:
        """Book a party's time in the city when it goes home."""
        self.present_people -= party.size
        self.person_minutes_in_city += party.size * (self.model.env.now - party.arrived_at)
