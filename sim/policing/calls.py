"""Calls for service other than theft, arriving where and when the crowd is.

Each hour, calls of each type arrive as a Poisson process whose rate is the type's rate
per 100,000 visitor-hours times the persons expected in town that hour (the typical day's
crowd at the run's scale, `sim.crowd_forecast`); each call is placed at a node with
probability in proportion to the persons expected there, and lasts an exponential time on
scene with the type's mean. Every draw comes from the `calls` stream and none depends on
the police, so every policy meets the same calls (common random numbers).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np

from sim.clock import HOURS_PER_DAY
from sim.crowd_forecast import crowd_forecast

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel

THEFT, HELP = "theft", "help"
LIVE, URGENT, ROUTINE = 1, 2, 3
"""Priorities: 1 an attempt seen now (or a medical emergency), 2 an incident that has
happened, 3 a visitor's request for help."""
CALL_TYPES = {
    HELP: ROUTINE,
    "dispute": URGENT,
    "lost_person": URGENT,
    "medical": LIVE,
    "traffic": URGENT,
}
"""Each call type and its priority; its rate and time on scene are `CallParams` fields
`<type>_per_100k_h` and `<type>_min`."""


class CallsForService:
    """Draws the day's calls hour by hour and hands each to the dispatcher when it comes."""

    def __init__(self, model: CrowdPolicingModel) -> None:
        self.model = model
        self.rng = model.streams.calls
        params = model.scenario.calls
        self.rates = np.array([getattr(params, f"{k}_per_100k_h") for k in CALL_TYPES]) / 1e5
        self.means = [getattr(params, f"{k}_min") for k in CALL_TYPES]
        forecast = crowd_forecast(model.visitor_flow, model.transit)
        self.at_node = forecast.at_node  # nodes x hours: persons expected
        self.persons = self.at_node.sum(axis=0)

    def run(self) -> Generator:
        """SimPy process: every hour of the run, that hour's calls in time order."""
        env = self.model.env
        types = list(CALL_TYPES)
        for hour in range(int(self.model.horizon // 60.0)):
            expected = self.persons[hour % HOURS_PER_DAY]
            if expected <= 0:
                continue
            counts = self.rng.poisson(self.rates * expected)
            if not counts.sum():
                continue
            cdf = np.cumsum(self.at_node[:, hour % HOURS_PER_DAY])
            calls = []
            for k, count in enumerate(counts.tolist()):
                for _ in range(count):
                    t = 60.0 * (hour + self.rng.random())
                    node = int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"))
                    calls.append((t, types[k], node, self.rng.exponential(self.means[k])))
            for t, kind, node, service in sorted(calls):
                if env.now < t:
                    yield env.timeout(t - env.now)
                self.model.dispatcher.call(kind, CALL_TYPES[kind], node, service)
