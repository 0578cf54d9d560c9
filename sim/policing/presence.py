"""Guardianship at every location: who is there, and what that does to an attempt.

Visible officers are counted in the crowd (so visitor-time under police eyes is an O(1)
integral); plainclothes officers, cameras and drones overhead are counted here. A place
large enough for thousands of people dilutes each guardian (`guardian_reach_persons`).
After a visible stop ends, residual deterrence lingers and decays (the Koper curve).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.behaviour import PoliceParams

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel

NO_CAMERA, PASSIVE, ACTIVE = 0, 1, 2
CAMERA_CODE = {"none": NO_CAMERA, "passive": PASSIVE, "active": ACTIVE}


class Presence:
    """Per-location guardian counts and the probabilities they imply."""

    def __init__(self, model: CrowdPolicingModel, params: PoliceParams) -> None:
        self.model = model
        self.params = params
        self.crowds = model.crowds
        city = model.city
        n = len(self.crowds)
        n_nodes = city.n_nodes
        self.plainclothes = [0] * n
        self.drones = [0] * n
        self.camera = [CAMERA_CODE[c] for c in city.camera] + [NO_CAMERA] * (n - n_nodes)
        self.checkpoint_active = np.zeros(n_nodes, dtype=bool)
        capacity = np.concatenate([city.capacity, np.zeros(n - n_nodes)])
        self.reach = np.maximum(1.0, capacity / params.guardian_reach_persons).tolist()
        self.stop_end = [-math.inf] * n
        self.stop_strength = [0.0] * n
        self.neighbours = self._neighbours(n)
        self.n_nodes = n_nodes
        self.transit_cooperation = False  # set by the deployment

    def _neighbours(self, n: int) -> list[list[int]]:
        """Places within `nearby_m` of each place (street distance), for spill-over."""
        city = self.model.city
        places = city.visited
        near: list[list[int]] = [[] for _ in range(n)]
        for p in places:
            d = city.distances_from(int(p))[places]
            near[int(p)] = [int(q) for q in places[(d <= self.params.nearby_m) & (places != p)]]
        return near

    def visible_arrives(self, loc: int, officers: int) -> None:
        """Visible officers start a stop at `loc`."""
        self.crowds.add_guard(loc, officers)

    def visible_leaves(self, loc: int, officers: int, stayed_min: float) -> None:
        """Visible officers end a stop; residual deterrence grows with how long they stayed.

        The residual is a share of the deterrence their presence gave, so it never exceeds
        what being there did (Koper: residual < presence effect).
        """
        self.crowds.add_guard(loc, -officers)
        presence_effect = 1.0 - (1.0 - self.params.deter_visible) ** (officers / self.reach[loc])
        strength = presence_effect * (
            1.0 - math.exp(-stayed_min / self.params.koper_dwell_scale_min))
        now = self.model.env.now
        if strength >= self._residual_strength(loc, now):
            self.stop_end[loc] = now
            self.stop_strength[loc] = strength

    def _residual_strength(self, loc: int, now: float) -> float:
        elapsed = now - self.stop_end[loc]
        if elapsed == math.inf:
            return 0.0
        return self.stop_strength[loc] * math.exp(-elapsed / self.params.residual_decay_min)

    def deterrence(self, loc: int, now: float) -> float:
        """Chance an offender about to strike at `loc` gives up because of guardianship."""
        p = self.params
        reach = self.reach[loc]
        guards = self.crowds.guards
        keep = (1.0 - p.deter_visible) ** (guards[loc] / reach)
        nearby = sum(guards[q] for q in self.neighbours[loc])
        if nearby:
            keep *= (1.0 - p.deter_visible * p.deter_nearby_factor) ** (nearby / reach)
        if not guards[loc]:
            keep *= 1.0 - p.residual_deterrence * self._residual_strength(loc, now)
        if self.camera[loc]:
            keep *= 1.0 - p.deter_camera
        if self.drones[loc]:
            keep *= (1.0 - p.deter_drone) ** self.drones[loc]
        if self.transit_cooperation and loc >= self.n_nodes:
            keep *= 1.0 - p.transit_deterrence
        return 1.0 - keep

    def detector(self, loc: int, rng: np.random.Generator) -> str:
        """Who, if anyone, spots an attempt in progress at `loc` (first one wins)."""
        p = self.params
        reach = self.reach[loc]
        checks = (
            ("plainclothes",
             1.0 - (1.0 - p.detect_plainclothes) ** (self.plainclothes[loc] / reach)),
            ("uniformed", 1.0 - (1.0 - p.detect_uniformed) ** (self.crowds.guards[loc] / reach)),
            ("camera", p.detect_camera_active / reach if self.camera[loc] == ACTIVE else 0.0),
            ("drone", 1.0 - (1.0 - p.detect_drone) ** self.drones[loc]),
        )
        for who, chance in checks:
            if chance > 0.0 and rng.random() < chance:
                return who
        return ""

    def has_camera(self, loc: int) -> bool:
        """Any camera (recording or live) covers `loc`."""
        return self.camera[loc] != NO_CAMERA
