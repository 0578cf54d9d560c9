"""A visiting party: arrives, sees the sights on its itinerary, goes home."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel


@dataclass(frozen=True)
class Party:
    """One party of 1-5 people and the day it planned on arrival; each member can be a victim.

    The whole day is planned on arrival (from the visitor stream), so the same seed gives
    the same visitors doing the same things under every policy: common random numbers.
    `number` counts parties in arrival order over the run (the ledger's victim).
    """

    number: int
    size: int
    awareness: float
    itinerary: tuple[int, ...]  # nodes, entry first and last
    dwell_min: tuple[float, ...]
    arrived_at: float
    leaves_at: float


class Tourist(mesa.Agent):
    """A party in town as a Mesa agent, made when someone looks at the model's agents.

    Parties act on their plan without events of their own (`sim.visitors`), so an agent
    stands for a party only while it is in town and something asks for it.
    """

    def __init__(self, model: CrowdPolicingModel, party: Party) -> None:
        super().__init__(model)
        self.party = party
        self.size = party.size
        self.awareness = party.awareness
        self.itinerary = list(party.itinerary)
        self.dwell_min = list(party.dwell_min)
        self.arrived_at = party.arrived_at
