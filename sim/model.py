"""The crowd-policing model: a Mesa model whose clock is a SimPy environment.

Simulated time is minutes since 00:00 of the scenario's first day. Agents' behaviour runs as
SimPy processes, so an agent costs work only when something happens to it; `step()`
advances the clock by a fixed interval so Mesa's DataCollector and visualisation work.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager

import mesa
import simpy
from mesa.datacollection import DataCollector

from sim.agents.tourist import Tourist
from sim.city.transit import transit_for
from sim.clock import MIN_PER_DAY
from sim.crime import CrimeEvents
from sim.crowds import Crowds
from sim.machine import small_pages_for_large_arrays
from sim.offenders import OffenderPool
from sim.policing.calls import CallsForService
from sim.policing.checks import Checkpoints
from sim.policing.deploy import Deployer
from sim.policing.dispatch import Dispatcher
from sim.policing.policy import Policy
from sim.policing.presence import Presence
from sim.policing.stops import StopLog
from sim.scenario import Scenario
from sim.streams import NotTheNamedStreams, Streams, check_seed
from sim.vigilance import Vigilance
from sim.visitors import VisitorFlow

GC_THRESHOLDS = (200_000, 20, 1000)


@contextmanager
def few_collections() -> Iterator[None]:
    """Run with rare cyclic garbage collections, then collect what the run left behind.

    Objects alive before (city, tables, caches) are frozen out of collections, so the
    collections during the run and the one at the end scan only what the run made; the
    thresholds are raised so the live objects are not rescanned thousands of times. At
    the end the run's own garbage is collected: a model is a web of reference cycles
    (agents, processes, the model), and CPython's full collections, which would free it,
    come rarely in a process that runs model after model (measured: 0.69 MB more resident
    memory per small run without this). If the caller froze objects itself, its freeze is
    left as it is (`gc.unfreeze` would release those too) and nothing is collected here.
    """
    old = gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if ours:
            gc.collect()
            gc.unfreeze()


class CrowdPolicingModel(mesa.Model):
    """Visitors, pickpockets and police in a city of places, on a discrete-event clock."""

    def __init__(
        self,
        scenario: Scenario,
        policy: Policy | None = None,
        *,
        seed: int = 0,
        step_minutes: float = 60.0,
        policy_source: str = "policy",
    ) -> None:
        check_seed(seed)  # before Mesa seeds its own generators with it
        small_pages_for_large_arrays()
        super().__init__(seed=seed)
        self.random = NotTheNamedStreams("random")  # every draw comes from self.streams
        self.rng = NotTheNamedStreams("rng")
        self._all_agents.random = self.random  # Mesa made the agent set with its own
        self.scenario = scenario
        self.policy = policy if policy is not None else Policy(name="none")
        self.seed = seed
        self.step_minutes = step_minutes
        self._stop_at = math.inf  # where `run` ends, which need not be a step boundary
        self.env = simpy.Environment()
        self.horizon = scenario.days * MIN_PER_DAY
        self.streams = Streams.from_seed(seed)
        self.city = scenario.city_model()
        v = scenario.visitors
        self.transit = transit_for(
            self.city, v.walk_speed_m_per_min, v.bus_walk_threshold_min, v.bus_service_hours
        )
        self.crowds = Crowds(self.transit.n_locations, self.env)
        self.visitor_flow = VisitorFlow(self, scenario, self.streams.visitors)
        self.env.process(self.visitor_flow.arrivals())
        self.offenders = OffenderPool(self)
        self.env.process(self.offenders.run())
        self.presence = Presence(self, scenario.police, scenario.victims)
        self.vigilance = Vigilance(self)
        self.crime = CrimeEvents(self)
        self.checkpoints = Checkpoints(self)
        self.dispatcher = Dispatcher(self, self.policy.dispatch)
        self.env.process(CallsForService(self).run())
        self.police_stops = StopLog()
        self.deployer = Deployer(self, self.policy, policy_source)
        self.deployer.deploy()
        self.datacollector = DataCollector(
            model_reporters={
                "minute": lambda m: m.env.now,
                "visitors_present": lambda m: m.visitor_flow.present_people,
                "visitors_arrived": lambda m: m.visitor_flow.arrived_people,
                "offenders_free": lambda m: m.offenders.free_count,
                "officers_visible": lambda m: sum(m.crowds.guards),
                "thefts_total": lambda m: m.crime.ledger.count("occurred"),
                "arrests_total": lambda m: m.crime.ledger.count("arrest"),
            }
        )
        self.datacollector.collect(self)

    def visitors_as_agents(self) -> mesa.agent.AgentSet:
        """The parties in town now, as `Tourist` Mesa agents (those gone home removed).

        A party is a record while nobody looks, which keeps a run fast. This call makes the
        present ones Mesa agents, so `model.agents` and `agents_by_type` hold them until
        the next call brings them up to date; reading those never changes them.
        """
        self.visitor_flow.show_present()
        return self.agents.select(agent_type=Tourist)

    @property
    def now(self) -> float:
        """Simulated minutes since the start."""
        return self.env.now

    def step(self) -> None:
        """Advance the clock by `step_minutes` (or to the horizon, or `run`'s end) and collect."""
        self.env.run(until=min(self.env.now + self.step_minutes, self.horizon, self._stop_at))
        self.datacollector.collect(self)
        self.running = self.env.now < self.horizon

    def run(self, until: float | None = None) -> None:
        """Step until `until` minutes (default: the scenario's last day ends)."""
        end = self.horizon if until is None else min(until, self.horizon)
        self._stop_at = end  # the last step stops here, not at the next step boundary
        try:
            with few_collections():
                while self.running and self.env.now < end:
                    self.step()
        finally:
            self._stop_at = math.inf

    def release(self) -> None:
        """Drop this model's agents and Mesa's class-level reference to it.

        Mesa 3.3 keeps `Agent._ids[model]` forever; without this a process running thousands
        of models would keep every one of them alive. The visitors' plans (most of a run's
        memory, in a few large arrays) are dropped here too: the model's reference cycles
        would hold them until a full garbage collection, which few allocations trigger.
        """
        self.visitor_flow.release()
        self.crowds.release()
        self.remove_all_agents()
        self.offenders.release()
        mesa.Agent._ids.pop(self, None)
