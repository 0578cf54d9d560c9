"""What anyone who knows the city can expect: visitors present at each place and hour.

Offenders do not see the live crowd of every place in town. They know what is common
knowledge (the Giant Buddha is packed at noon, the food streets at night), and what they
see themselves. The common knowledge is this table: a typical day of the scenario's
visitors, planned by the same rules as the simulated visitors (arrivals, itineraries,
dwell, buses), from a fixed seed of its own, so it is the same for every run and seed of
a scenario and draws nothing from a run's streams. It is computed once per process for
each city and visitor parameters (the last few are kept), from a fixed number of parties
whatever the scale, and multiplied by the parties of a day: an expectation, so its cost
and memory do not grow with the crowd.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.clock import HOURS_PER_DAY

if TYPE_CHECKING:
    from sim.city.transit import Transit
    from sim.visitors import VisitorFlow

FORECAST_SEED = 20240501
"""Seed of the typical day (May Day 2024); fixed so the table is a model input."""
FORECAST_PARTIES = 20_000
"""Parties planned for the typical day (then rescaled to the day's parties): enough that
every place's hourly expectation is smooth, few enough to cost a fraction of a second."""


@dataclass(frozen=True)
class CrowdForecast:
    """Expected persons present by hour of day: per node, and per vehicle of a direction."""

    at_node: np.ndarray  # nodes x 24
    per_vehicle: np.ndarray  # bus directions x 24


_CACHE: dict[tuple, CrowdForecast] = {}
CACHE_SIZE = 16
"""Forecasts kept per process; a calibration varying visitor parameters would else grow it."""


def crowd_forecast(flow: VisitorFlow, transit: Transit) -> CrowdForecast:
    """The expected crowds of `flow`'s visitors (cached per city and parameters).

    The typical day is planned once per party and multiplied by the day's parties (the
    scale is in `flow.parties_per_day`).
    """
    key = (transit, repr(flow.params))  # a Transit is one per city and parameters
    per_party = _CACHE.get(key)
    if per_party is None:
        if len(_CACHE) >= CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]  # the oldest
        per_party = _CACHE[key] = _typical_day(flow, transit)
    parties = flow.parties_per_day
    return CrowdForecast(per_party.at_node * parties, per_party.per_vehicle * parties)


def _typical_day(flow: VisitorFlow, transit: Transit) -> CrowdForecast:
    """Expected persons present per party of the day, by place or bus direction and hour."""
    parties = FORECAST_PARTIES
    stays = flow.plan(0, np.random.default_rng(FORECAST_SEED), parties).stays
    n_nodes = transit.city.n_nodes
    where = np.arange(transit.n_locations)  # nodes stay, vehicles become their direction
    for i, d in enumerate(transit.directions):
        where[n_nodes + d.first_vehicle : n_nodes + d.first_vehicle + d.n_vehicles] = n_nodes + i
    where = where[stays.loc]
    people = stays.size / parties
    # the hours of the day each stay spans, a row per (stay, hour), stay by stay
    first_hour = np.clip(stays.enter // 60.0, 0, HOURS_PER_DAY).astype(np.int64)
    last_hour = np.clip(np.ceil(stays.leave / 60.0), 0, HOURS_PER_DAY).astype(np.int64)
    spanned = np.maximum(last_hour - first_hour, 0)
    stay = np.repeat(np.arange(len(spanned)), spanned)
    hour = first_hour[stay] + np.arange(len(stay)) - np.repeat(spanned.cumsum() - spanned, spanned)
    start = hour * 60.0
    # minutes of the stay inside the hour, times the party's size
    overlap = np.clip(
        np.minimum(stays.leave[stay], start + 60.0) - np.maximum(stays.enter[stay], start),
        0.0,
        60.0,
    )
    n_rows = n_nodes + len(transit.directions)
    # summed stay by stay within each cell, as a table row per stay would be
    table = np.bincount(
        where[stay] * HOURS_PER_DAY + hour,
        overlap * people[stay] / 60.0,
        minlength=n_rows * HOURS_PER_DAY,
    ).reshape(n_rows, HOURS_PER_DAY)
    on_road = np.array([max(1, d.n_vehicles - 1) for d in transit.directions], dtype=float)
    return CrowdForecast(
        table[:n_nodes], table[n_nodes:] / on_road[:, None] if len(on_road) else table[n_nodes:]
    )
