"""The crowd-policing model: a Mesa model whose clock is a SimPy environment.

Simulated time is minutes since 00:00 of the scenario's first day. Agents' behaviour runs as
SimPy processes, so an agent costs work only when something happens to it; `step()`
advances the clock by a fixed interval so Mesa's DataCollector and visualisation work.
"""

from __future__ import annotations

import mesa
import simpy
from mesa.datacollection import DataCollector

from sim.city.transit import MIN_PER_DAY, Transit
from sim.crowds import Crowds
from sim.scenario import Scenario
from sim.streams import Streams
from sim.visitors import VisitorFlow


class CrowdPolicingModel(mesa.Model):
    """Visitors moving through a city of places, on a discrete-event clock."""

    def __init__(self, scenario: Scenario, *, seed: int = 0, step_minutes: float = 60.0) -> None:
        super().__init__(seed=seed)
        self.scenario = scenario
        self.seed = seed
        self.step_minutes = step_minutes
        self.env = simpy.Environment()
        self.horizon = scenario.days * MIN_PER_DAY
        self.streams = Streams.from_seed(seed)
        self.city = scenario.city_model()
        v = scenario.visitors
        self.transit = Transit(self.city, v.walk_speed_m_per_min, v.bus_walk_threshold_min,
                               v.bus_service_hours)
        self.crowds = Crowds(self.city.n_nodes + self.transit.n_vehicles, self.env)
        self.visitor_flow = VisitorFlow(self, v, scenario.scale, self.streams.visitors)
        self.env.process(self.visitor_flow.arrivals())
        self.datacollector = DataCollector(model_reporters={
            "minute": lambda m: m.env.now,
            "visitors_present": lambda m: m.visitor_flow.present_people,
            "parties_present": lambda m: m.visitor_flow.present_parties,
            "visitors_arrived": lambda m: m.visitor_flow.arrived_people,
        })
        self.datacollector.collect(self)

    @property
    def now(self) -> float:
        """Simulated minutes since the start."""
        return self.env.now

    def step(self) -> None:
        """Advance the clock by `step_minutes` (or to the horizon) and collect data."""
        self.env.run(until=min(self.env.now + self.step_minutes, self.horizon))
        self.datacollector.collect(self)
        self.running = self.env.now < self.horizon

    def run(self, until: float | None = None) -> None:
        """Step until `until` minutes (default: the scenario's last day ends)."""
        end = self.horizon if until is None else min(until, self.horizon)
        while self.running and self.env.now < end:
            self.step()
        self.crowds.settle_all()

    def release(self) -> None:
        """Drop this model's agents and Mesa's class-level reference to it.

        Mesa 3.3 keeps `Agent._ids[model]` forever; without this a process running thousands
        of models would keep every one of them alive.
        """
        self.remove_all_agents()
        mesa.Agent._ids.pop(self, None)
