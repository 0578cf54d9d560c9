"""The dispatcher: a reported or live-detected incident goes to a free car after a delay."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING

from sim.ledger import Incident, Ledger
from sim.policing.policy import DispatchSpec

if TYPE_CHECKING:
    from sim.agents.officer import PatrolCar
    from sim.model import CrowdPolicingModel


class Dispatcher:
    """Queues jobs and hands each to the nearest free car (or one of its own cell).

    "Nearest" is by street distance from where each car really is, on the road or at a stop.
    """

    def __init__(self, model: CrowdPolicingModel, spec: DispatchSpec) -> None:
        self.model = model
        self.spec = spec
        self.cars: list[PatrolCar] = []
        self.waiting: deque[tuple[Incident, int]] = deque()

    def add_car(self, car: PatrolCar) -> None:
        """A car that answers this dispatcher's calls (the deployer adds each one)."""
        self.cars.append(car)

    def request(self, incident: Incident, node: int) -> None:
        """Ask for a car at `node` for `incident` (once per incident)."""
        if Ledger.request(incident, self.model.env.now):
            self.model.env.process(self._after_delay(incident, node))

    def _after_delay(self, incident: Incident, node: int) -> Generator:
        yield self.model.env.timeout(self.spec.delay_min)
        car = self._pick(node)
        if car is None:
            self.waiting.append((incident, node))
        else:
            car.send((incident, node))

    def _pick(self, node: int) -> PatrolCar | None:
        free = [c for c in self.cars if c.available]
        if not free:
            return None
        city = self.model.city
        if self.spec.rule == "own_cell":
            own = [c for c in free if city.cell[c.node] == city.cell[node]]
            free = own or free
        from_scene = city.distances_from(node)  # streets are two-way: distance to = from
        return min(free, key=lambda c: c.metres_to(from_scene))

    def next_job(self, car: PatrolCar) -> tuple[Incident, int] | None:
        """The oldest waiting job, for a car that has just become free."""
        if not car.deployment.responds:
            return None
        return self.waiting.popleft() if self.waiting else None
