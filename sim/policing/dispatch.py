"""The dispatcher: one queue for thefts and every other call, by priority.

A job (a theft detected live or reported, or another call for service) waits the
dispatch delay, then goes to the nearest free unit that may take it: a car anywhere, an
officer on foot within reach of the scene (he leaves his post for it), a volunteer for a
visitor's request for help within reach. "Nearest" is by travel time from where each unit
really is, on the road or at a stop. With nobody free, the job waits; a unit that becomes
free takes the most urgent waiting job it may take (oldest first). A unit on a job
finishes it: nothing pre-empts it (a documented simplification).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from sim.city.legs import metres_to_many
from sim.ledger import Incident, Ledger
from sim.policing.calls import CALL_TYPES, LIVE, ROUTINE, THEFT, URGENT
from sim.policing.policy import DispatchSpec

if TYPE_CHECKING:
    from sim.agents.officer import Responder
    from sim.model import CrowdPolicingModel

NAN = math.nan
JOB_KINDS = (THEFT, *CALL_TYPES)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


@dataclass(slots=True)
class Job:
    """One call to the police and what became of it. Times in minutes (NaN: never)."""

    number: int
    kind: str  # THEFT or a call type of sim.policing.calls
    priority: int
    node: int
    t_call: float
    service_min: float  # time on scene once there (taking a report, settling a dispute)
    incident: Incident | None = None
    queued: bool = False  # waited because no unit that may take it was free
    unit: str = ""  # kind of unit that took it
    t_assigned: float = NAN
    t_arrived: float = NAN
    t_cleared: float = NAN


class Dispatcher:
    """Queues jobs and hands each to the nearest free unit that may take it."""

    def __init__(self, model: CrowdPolicingModel, spec: DispatchSpec) -> None:
        self.model = model
        self.spec = spec
        self.units: list[Responder] = []
        self.waiting: list[Job] = []  # in order of priority, then call time
        self.jobs: list[Job] = []

    def add_unit(self, unit: Responder) -> None:
        """A unit that answers this dispatcher's calls (the deployer adds each one)."""
        self.units.append(unit)

    def request(self, incident: Incident, node: int, *, live: bool) -> None:
        """Ask for a unit at `node` for a theft (once per incident).

        A live detection is a search for an offender at work; a report also needs the
        report taken on scene.
        """
        if not Ledger.request(incident, self.model.env.now):
            return
        service = 0.0 if live else self.model.scenario.calls.theft_report_min
        self._open(THEFT, LIVE if live else URGENT, node, service, incident)

    def call(self, kind: str, priority: int, node: int, service_min: float) -> None:
        """A call for service other than theft, at `node`."""
        self._open(kind, priority, node, service_min, None)

    def _open(
        self, kind: str, priority: int, node: int, service: float, incident: Incident | None
    ) -> None:
        job = Job(len(self.jobs), kind, priority, node, self.model.env.now, service, incident)
        self.jobs.append(job)
        self.model.env.process(self._after_delay(job))

    def _after_delay(self, job: Job) -> Generator:
        yield self.model.env.timeout(self.spec.delay_min)
        unit = self._pick(job)
        if unit is None:
            job.queued = True
            bisect.insort(self.waiting, job, key=lambda j: (j.priority, j.t_call, j.number))
        else:
            self._assign(job, unit)
            unit.send(job)

    def _assign(self, job: Job, unit: Responder) -> None:
        job.t_assigned = self.model.env.now
        job.unit = unit.kind.name

    def _pick(self, job: Job) -> Responder | None:
        city = self.model.city
        from_scene = city.distances_from(job.node)  # streets are two-way: distance to = from
        ready = [unit for unit in self.units if unit.available]
        away = metres_to_many([unit.leg for unit in ready], self.model.env.now, from_scene)
        # (minutes away, unit) of the units that may take the job, in unit order
        free = [(m / u.speed, u) for u, m in zip(ready, away, strict=True) if u.may_take(job, m)]
        if not free:
            return None
        if self.spec.rule == "own_cell":
            own = [f for f in free if city.cell[f[1].node] == city.cell[job.node]]
            free = own or free
        return min(free, key=lambda f: f[0])[1]

    def next_job(self, unit: Responder) -> Job | None:
        """The most urgent waiting job this unit may take, for a unit that has become free."""
        if not unit.deployment.responds:
            return None
        city = self.model.city
        for i, job in enumerate(self.waiting):
            if unit.may_take(job, unit.metres_to(city.distances_from(job.node))):
                del self.waiting[i]
                self._assign(job, unit)
                return job
        return None

    def metrics(self) -> dict[str, float]:
        """Calls, response times (all jobs, by priority, by call type), queueing, utilisation."""
        now, delay = self.model.env.now, self.spec.delay_min
        jobs = self.jobs
        reached = [j for j in jobs if not math.isnan(j.t_arrived)]

        def mean_response(of: list[Job]) -> float:
            return _mean([j.t_arrived - j.t_call for j in of])

        duty = sum(u.duty_minutes + (now - u.duty_since if u.on_duty else 0.0) for u in self.units)
        return {
            "calls_for_service": sum(1 for j in jobs if j.kind != THEFT),
            "response_all_mean_min": mean_response(reached),
            **{
                f"response_p{p}_mean_min": mean_response([j for j in reached if j.priority == p])
                for p in (LIVE, URGENT, ROUTINE)
            },
            **{
                f"response_{kind}_mean_min": mean_response([j for j in reached if j.kind == kind])
                for kind in JOB_KINDS
            },
            "queue_mean_min": _mean(
                [j.t_assigned - j.t_call - delay for j in jobs if not math.isnan(j.t_assigned)]
            ),
            "jobs_unanswered": sum(1 for j in jobs if math.isnan(j.t_arrived)),
            "thefts_dispatch_queued": sum(1 for j in jobs if j.kind == THEFT and j.queued),
            "unit_utilisation": sum(u.busy_minutes for u in self.units) / duty if duty else NAN,
        }

    def frame(self) -> pd.DataFrame:
        """Every job of the run, one row each (typed even when empty)."""
        columns = [f for f in Job.__slots__ if f != "incident"]
        rows = [[getattr(j, f) for f in columns] for j in self.jobs]
        return pd.DataFrame(rows, columns=columns).astype(
            {"number": "int64", "priority": "int64", "node": "int64", "queued": "bool"}
        )
