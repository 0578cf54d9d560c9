"""The daily stream of visiting parties and how each plans its day.

Arrivals follow the scenario's hourly profile; each party picks sights one after another,
weighing attractiveness (by hour of day) against street distance (a gravity choice), and
gets from one to the next on foot or by the next bus of the timetable. A party plans its
whole day on arrival, so a day's parties are planned together, all of them at once for
each sight in turn (numpy, no event per visit), and their stays go to the crowd as
intervals (`sim.crowds`). What a party experiences changes how watchful it is, worked out
from its own stays when it is targeted (`sim.vigilance`), and a victim may go home early,
which cuts the rest of its plan. A party becomes a Mesa agent (`Tourist`) when someone
looks at the model's agents; a victim is a party number in the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import portable
from sim.agents.tourist import Party, Tourist
from sim.city.transit import MIN_PER_DAY, Transit
from sim.clock import HOURS_PER_DAY
from sim.crowds import Stays, time_order
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel

REDRAWS = 5  # a sight already seen today is redrawn this many times before the day ends
PARTIES_PER_BLOCK = 65_536  # followed on the clock together: their arrays fit in a core's cache


@dataclass
class Day:
    """One day's parties (in arrival order) and the stays of their planned days."""

    first: int  # party number of the day's first party
    arrive: np.ndarray
    size: np.ndarray
    awareness: np.ndarray
    places: np.ndarray  # (sights + 2) x parties: planning row of each stop, -1 after the last
    dwell: np.ndarray  # minutes at each stop, (sights + 2) x parties
    depart: np.ndarray
    stays: Stays

    def __post_init__(self) -> None:
        order = time_order(self.depart)
        self.depart_sorted = self.depart[order]
        self.arrived = np.concatenate([[0], np.cumsum(self.size)])
        self.departed = np.concatenate([[0], np.cumsum(self.size[order])])
        self.last_departure = float(self.depart.max(initial=-math.inf))
        self.early: list[tuple[float, float, int]] = []  # gone home early: (at, planned, persons)
        self.planned_depart = self.depart.copy()  # as planned on arrival, whatever happened

    def goes_home(self, i: int, t: float) -> None:
        """The day's `i`-th party leaves at `t`, before its plan said (it is still in town)."""
        self.early.append((t, float(self.depart[i]), int(self.size[i])))
        self.depart[i] = t

    def people_arrived(self, t: float) -> int:
        """Persons of this day who arrived at or before `t`."""
        return int(self.arrived[self.arrive.searchsorted(t, "right")])

    def people_present(self, t: float) -> int:
        """Persons of this day in town at `t`."""
        early = sum(n for at, planned, n in self.early if at <= t < planned)
        return (
            self.people_arrived(t)
            - int(self.departed[self.depart_sorted.searchsorted(t, "right")])
            - early
        )


@dataclass
class Gone:
    """Totals of the days whose parties have all gone home (their plans are dropped)."""

    people: int = 0
    parties: int = 0
    person_minutes: float = 0.0

    def book(self, day: Day) -> None:
        """Add a finished day."""
        self.people += int(day.size.sum())
        self.parties += len(day.size)
        self.person_minutes += portable.weighted_sum(day.depart - day.arrive, day.size)


class VisitorFlow:
    """Draws each day's parties and plans their days from the visitor stream."""

    def __init__(
        self, model: CrowdPolicingModel, scenario: Scenario, rng: np.random.Generator
    ) -> None:
        self.model = model
        self.params = params = scenario.visitors
        self.awareness_ab = scenario.victims.awareness_beta
        self.rng = rng
        self.transit: Transit = model.transit
        city = model.city
        self.parties_per_day = params.per_day * scenario.scale / self._mean_party_size()
        self.visited = city.visited  # rows of the planning tables
        row = np.full(city.n_nodes, -1, dtype=np.int64)
        row[self.visited] = np.arange(len(self.visited))
        self.row = row
        self._row_type = np.min_scalar_type(-len(self.visited))  # and -1 for none
        entry_weight = city.attractiveness[city.entries]
        self.entry_rows = row[city.entries]
        self.entry_cdf = np.cumsum(entry_weight / entry_weight.sum())
        self.entry_cdf[-1] = 1.0
        self.sight_rows = row[city.attractions]
        self.choice_cdf, self.choice_total = self._choice_tables()
        self._cell_type = np.min_scalar_type(self.choice_total.size)  # a radix sort's key
        medians = params.dwell_medians()
        self.dwell_median = np.array([medians.get(city.kind[n], 0.0) for n in self.visited])
        self.walk = city.distance_matrix(self.visited, self.visited) / params.walk_speed_m_per_min
        self.days: dict[int, Day] = {}
        self.people_of_day: dict[int, int] = {}
        self._drawn = 0
        self._parties_drawn = 0
        self._agents: dict[int, Tourist] = {}
        self._gone = Gone()

    def release(self) -> None:
        """Drop the days' plans (most of a run's memory) once the run is over."""
        self.days.clear()

    def _mean_party_size(self) -> float:
        w = np.asarray(self.params.party_size_weights, dtype=float)  # sum > 0: checked on load
        return math.fsum((w / w.sum()) * np.arange(1, len(w) + 1))  # BLAS dot differs by CPU

    def _choice_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Choice weights over the sights per hour and origin, as one searchable array.

        Each (hour, origin) row's cumulative weights are scaled to [0, 1] and offset by twice
        its row number, so a draw in every row at once is one `searchsorted`.
        """
        city = self.model.city
        sights = city.attractions
        km = city.distance_matrix(self.visited, sights) / 1000.0
        pull = portable.exp(-self.params.distance_decay_per_km * km) * city.attractiveness[sights]
        pull[self.visited[:, None] == sights[None, :]] = 0.0  # no "visiting" where one stands
        by_kind = self.params.hour_weights()
        hourly = np.array([by_kind[city.kind[s]] for s in sights]).T  # 24 x sights
        cdf = np.cumsum(hourly[:, None, :] * pull[None, :, :], axis=2)  # hour x origin x sight
        total = cdf[:, :, -1] if len(sights) else np.zeros(cdf.shape[:2])
        scaled = cdf / np.where(total > 0, total, 1.0)[:, :, None]
        rows = np.arange(total.size, dtype=float).reshape(total.shape)
        return (scaled + 2.0 * rows[:, :, None]).ravel(), total

    # --- the day's parties ---------------------------------------------------------------

    def arrivals(self) -> Generator:
        """SimPy process: plan each day's parties as the day begins."""
        env = self.model.env
        for day in range(self.model.scenario.days):
            if env.now < day * MIN_PER_DAY:
                yield env.timeout(day * MIN_PER_DAY - env.now)
            for gone in [d for d, plan in self.days.items() if plan.last_departure <= env.now]:
                self._gone.book(self.days.pop(gone))
            self.day(day)

    def day(self, day: int) -> Day:
        """Day `day`'s parties, drawn and planned from the visitor stream once, in day order."""
        if day < self._drawn and day not in self.days:
            raise ValueError(f"day {day} is over and its plans are dropped")
        while self._drawn <= day:
            planned = self.plan(self._drawn, self.rng, first=self._parties_drawn)
            self.days[self._drawn] = planned
            self.people_of_day[self._drawn] = int(planned.size.sum())
            self._parties_drawn += len(planned.size)
            self.model.crowds.add(planned.stays)
            self._drawn += 1
        return self.days[day]

    def people_on(self, day: int) -> int:
        """Visitors arriving on `day` (the same under every policy)."""
        if day not in self.people_of_day:
            self.day(day)
        return self.people_of_day[day]

    def plan(
        self, day: int, rng: np.random.Generator, parties: int | None = None, first: int = 0
    ) -> Day:
        """Draw a day's parties and plan their days (Poisson many unless `parties` is given)."""
        times, sizes, entries, stops, awareness = self.draw_day(day, rng, parties)
        places, dwell = self.plan_sights(entries, stops, times, day, rng)
        return self.timeline(
            first=first, times=times, sizes=sizes, awareness=awareness, places=places, dwell=dwell
        )

    def draw_day(
        self, day: int, rng: np.random.Generator, parties: int | None = None
    ) -> tuple[np.ndarray, ...]:
        """Arrival times, party sizes, entry rows, sight counts and vigilance for a day."""
        p = self.params
        n = int(rng.poisson(self.parties_per_day)) if parties is None else parties
        profile = np.asarray(p.arrival_profile, dtype=float)
        hours = rng.choice(HOURS_PER_DAY, size=n, p=profile / profile.sum())
        times = np.sort(day * MIN_PER_DAY + (hours + rng.random(n)) * 60.0)
        w = np.asarray(p.party_size_weights, dtype=float)
        sizes = rng.choice(np.arange(1, len(w) + 1), size=n, p=w / w.sum())
        entries = self.entry_rows[np.searchsorted(self.entry_cdf, rng.random(n), side="right")]
        stops = np.minimum(1 + rng.poisson(max(p.stops_mean - 1.0, 0.0), n), p.max_stops)
        awareness = rng.beta(*self.awareness_ab, size=n)
        return times, sizes, entries, stops, awareness

    def plan_sights(
        self,
        entries: np.ndarray,
        stops: np.ndarray,
        times: np.ndarray,
        day: int,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sights chosen one after another while the party can still be back by day's end.

        Every party does the same step at once: draw the next sight for the hour and the
        place it stands (a sight already seen is redrawn, up to REDRAWS times), walk there
        (estimated at walking pace), stay, unless the walk back to the entry and the wait
        there would end after `day_end_hour`. Returns each party's stops (rows of the
        planning tables, -1 after the last) and minutes at each, entry first and last: a
        row per stop, a column per party, so that a step's writes are to one row (a Golden
        Week day's arrays are larger than the CPU's cache).
        """
        p = self.params
        n = len(times)
        sigma, median, walk = p.dwell_sigma, self.dwell_median, self.walk
        day_end = day * MIN_PER_DAY + p.day_end_hour * 60.0
        width = int(stops.max(initial=0)) + 2
        places = np.full((width, n), -1, dtype=self._row_type)  # small: kept all day
        dwell = np.zeros((width, n))
        leave_wait = median[entries] * portable.exp(sigma * rng.standard_normal(n))
        first_stay = median[entries] * portable.exp(sigma * rng.standard_normal(n))
        places[0] = entries
        dwell[0] = np.minimum(first_stay, np.maximum(day_end - times - leave_wait, 0.0))
        t = times + dwell[0]
        here = entries.copy()
        count = np.ones(n, dtype=np.int64)  # stops planned so far
        going = np.flatnonzero(stops > 0)
        for k in range(width - 2):
            going = going[stops[going] > k]
            hour = (t[going] // 60.0).astype(np.int64) % HOURS_PER_DAY
            cell = hour * len(self.visited) + here[going]
            somewhere = self.choice_total.ravel()[cell] > 0  # else nothing draws him on
            going, cell = going[somewhere], cell[somewhere]
            nxt = self._next_sights(places[: k + 1, going], cell, rng)
            going, nxt = going[nxt >= 0], nxt[nxt >= 0]
            stay = median[nxt] * portable.exp(sigma * rng.standard_normal(len(going)))
            arrive = t[going] + walk[here[going], nxt]
            latest_leave = day_end - leave_wait[going] - walk[nxt, entries[going]]
            fits = arrive < latest_leave
            going, nxt, stay = going[fits], nxt[fits], stay[fits]
            arrive, latest_leave = arrive[fits], latest_leave[fits]
            places[k + 1, going] = nxt
            dwell[k + 1, going] = np.minimum(stay, latest_leave - arrive)
            t[going] = arrive + dwell[k + 1, going]
            here[going] = nxt
            count[going] += 1
            if not len(going):
                break
        rows = np.arange(n)
        places[count, rows] = entries
        dwell[count, rows] = leave_wait
        return places, dwell

    def _next_sights(
        self, planned: np.ndarray, cell: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Each party's next sight for its (hour, place) `cell`, none of its `planned` stops.

        `planned` has a row per stop so far and a column per party. A sight already planned
        is redrawn, up to REDRAWS times (-1: none found).
        """
        n_sights = len(self.sight_rows)
        nxt = np.full(len(cell), -1, dtype=np.int64)
        undecided = np.arange(len(cell))
        for _ in range(REDRAWS):
            draw = self._search_choices(cell[undecided], rng.random(len(undecided)))
            sight = self.sight_rows[np.minimum(draw - cell[undecided] * n_sights, n_sights - 1)]
            seen = (planned[:, undecided] == sight).any(axis=0)
            nxt[undecided[~seen]] = sight[~seen]
            undecided = undecided[seen]
            if not len(undecided):
                break
        return nxt

    def _search_choices(self, cell: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Where each uniform `u` falls in its cell's cumulative weights (one search).

        Searched in order of cell, so each cell's weights stay in the CPU's cache while its
        parties are searched (a Golden Week day's searches 1.7 times as fast); results as given.
        """
        by_cell = np.argsort(cell.astype(self._cell_type), kind="stable")
        found = np.empty(len(cell), dtype=np.int64)
        found[by_cell] = self.choice_cdf.searchsorted((2.0 * cell + u)[by_cell], side="right")
        return found

    def timeline(
        self,
        *,
        first: int,
        times: np.ndarray,
        sizes: np.ndarray,
        awareness: np.ndarray,
        places: np.ndarray,
        dwell: np.ndarray,
    ) -> Day:
        """Follow the plans on the clock: walk or take the next bus, stay, move on.

        Parties are followed a block at a time, so that a block's arrays stay in the CPU's
        cache; the stays are then put together as one pass over all parties would list
        them: each column of the day (a ride, then a place, at each stop), party by party.
        """
        transit, visited = self.transit, self.visited
        width, n = places.shape
        t = times.astype(float).copy()
        # per column of the day, per block: (parties, locations, enter, leave)
        columns: list[list[tuple[np.ndarray, ...]]] = [[] for _ in range(2 * width - 1)]
        for a in range(0, n, PARTIES_PER_BLOCK):
            parties = np.arange(a, min(a + PARTIES_PER_BLOCK, n))
            for k in range(width):
                on = parties[places[k, parties] >= 0]
                if k > 0:
                    arrive, bus, boards, alights = transit.legs(
                        visited[places[k - 1, on]], visited[places[k, on]], t[on]
                    )
                    rode = bus >= 0
                    columns[2 * k - 1].append((on[rode], bus[rode], boards[rode], alights[rode]))
                    t[on] = arrive
                enter = t[on].copy()
                t[on] += dwell[k, on]
                columns[2 * k].append((on, visited[places[k, on]], enter, t[on].copy()))
        blocks = [block for column in columns for block in column]
        # each party's rows of the stays, in the order of its day
        slots = np.full((len(columns), n), -1, dtype=np.int32)
        filled = 0
        for c, column in enumerate(columns):
            for on, *_ in column:
                slots[c, on] = filled + np.arange(len(on), dtype=np.int32)
                filled += len(on)
        if blocks:
            party, loc, enter, leave = (np.concatenate(part) for part in zip(*blocks, strict=True))
        else:  # nobody came
            party, loc, enter, leave = (np.zeros(0, dtype=d) for d in (int, int, float, float))
        stays = Stays(
            loc,
            enter,
            leave,
            sizes.astype(np.int8)[party],
            party + first,
            n_locations=transit.n_locations,
            slots=slots,
        )
        return Day(first, times, sizes, awareness, places, dwell, t, stays)

    # --- who is in town --------------------------------------------------------------------

    def _in_play(self) -> list[Day]:
        return [self.days[d] for d in sorted(self.days)]

    @property
    def arrived_people(self) -> int:
        """Persons arrived so far."""
        now = self.model.env.now
        return self._gone.people + sum(d.people_arrived(now) for d in self._in_play())

    @property
    def arrived_parties(self) -> int:
        """Parties arrived so far."""
        now = self.model.env.now
        return self._gone.parties + sum(
            int(d.arrive.searchsorted(now, "right")) for d in self._in_play()
        )

    @property
    def present_people(self) -> int:
        """Persons in town now (arrived, not gone home)."""
        now = self.model.env.now
        return sum(d.people_present(now) for d in self._in_play())

    @property
    def person_minutes_in_city(self) -> float:
        """Person-minutes spent in town so far."""
        now = self.model.env.now
        total = self._gone.person_minutes
        for d in self._in_play():
            came = d.arrive < now
            stayed = np.minimum(d.depart[came], now) - d.arrive[came]
            total += portable.weighted_sum(stayed, d.size[came])
        return total

    def goes_home(self, number: int) -> None:
        """A party ends its day now (a victim who has had enough): the rest of it is cut."""
        day = self._day_of(number)
        i, now = number - day.first, self.model.env.now
        if day.depart[i] <= now:  # home already (a second theft it noticed, or the day over)
            return
        day.goes_home(i, now)
        self.model.crowds.go_home(number)

    def _day_of(self, number: int) -> Day:
        day = next(
            (d for d in self.days.values() if d.first <= number < d.first + len(d.size)), None
        )
        if day is None:
            raise KeyError(f"party {number} is not in play (not yet arrived, or its day is over)")
        return day

    def party(self, number: int) -> Party:
        """The party with this number (arrival order over the run): who, and its day.

        Plans are kept while a day's parties are in town, so any party present (a victim,
        an agent) can be looked up; the plans of days that are over are dropped.
        """
        day = self._day_of(number)
        i = number - day.first
        planned = day.places[:, i] >= 0
        return Party(
            number=number,
            size=int(day.size[i]),
            awareness=float(day.awareness[i]),
            itinerary=tuple(self.visited[day.places[planned, i]].tolist()),
            dwell_min=tuple(day.dwell[planned, i].tolist()),
            arrived_at=float(day.arrive[i]),
            leaves_at=float(day.depart[i]),
        )

    def show_present(self) -> None:
        """Make the parties in town now Mesa agents (and remove those gone home)."""
        now = self.model.env.now
        present = set()
        for d in self._in_play():
            here = np.flatnonzero((d.arrive <= now) & (d.depart > now)) + d.first
            present.update(here.tolist())
        for number in [n for n in self._agents if n not in present]:
            self._agents.pop(number).remove()
        for number in sorted(present - self._agents.keys()):
            self._agents[number] = Tourist(self.model, self.party(number))
