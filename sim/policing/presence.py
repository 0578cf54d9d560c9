"""Guardianship at every location: who is there, and what that does to an attempt now.

Visible officers are counted in the crowd (so visitor-time under police eyes is an O(1)
integral); plainclothes officers, cameras and drones overhead are counted here. A place
large enough for thousands of people dilutes each guardian (`guardian_reach_persons`).
Presence acts only while the guardians are there: what lingers after a patrol leaves is
in the offenders' beliefs (`sim.agents.pickpocket`), not in a curve here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim import portable
from sim.behaviour import PoliceParams, VictimParams
from sim.policing.units import CAMERA, UnitKind, detection_param, ground_detectors

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel

NO_CAMERA, PASSIVE, ACTIVE = 0, 1, 2
CAMERA_CODE = {"none": NO_CAMERA, "passive": PASSIVE, "active": ACTIVE}


class Presence:
    """Per-location guardian counts and the probabilities they imply."""

    def __init__(
        self, model: CrowdPolicingModel, params: PoliceParams, victims: VictimParams
    ) -> None:
        self.model = model
        self.params = params
        self.crowds = model.crowds
        city = model.city
        n = len(self.crowds)
        n_nodes = city.n_nodes
        self.spotters = {who: [0] * n for who in ground_detectors()}
        """Officers on the streets at each location, by who they spot attempts as."""
        self._detect = [(who, getattr(params, detection_param(who))) for who in self.spotters]
        self.drones = [0] * n
        self.camera = [CAMERA_CODE[c] for c in city.camera] + [NO_CAMERA] * (n - n_nodes)
        self.checkpoint_active = np.zeros(n_nodes, dtype=bool)
        capacity = np.concatenate([city.capacity, np.zeros(n - n_nodes)])
        self.reach = np.maximum(1.0, capacity / params.guardian_reach_persons).tolist()
        # bystanders: persons per unit of capacity (at scale s a simulated person stands
        # for 1/s); buses and places without a capacity give no bystander term
        scale = max(model.scenario.scale, 1e-12)
        self.per_capacity = [1.0 / (c * scale) if c > 0 else math.inf for c in capacity]
        self.bystander_notice = victims.bystander_notice
        self.bystander_cover = victims.bystander_cover
        self.neighbours = self._neighbours(n)
        self.transit_cooperation = model.policy.transit_cooperation

    def _neighbours(self, n: int) -> list[list[int]]:
        """Places within `nearby_m` of each place (street distance), for spill-over."""
        city = self.model.city
        places = city.visited
        near: list[list[int]] = [[] for _ in range(n)]
        for p in places:
            d = city.distances_from(int(p))[places]
            near[int(p)] = [int(q) for q in places[(d <= self.params.nearby_m) & (places != p)]]
        return near

    def unit_arrives(self, kind: UnitKind, loc: int, officers: int) -> None:
        """A unit's officers start a stop at `loc`; offenders there see them if they can."""
        self.spotters[kind.detector][loc] += officers
        if kind.seen_by_offenders:
            self.crowds.add_guard(loc, officers)
            self.model.offenders.police_arrive(loc)

    def unit_leaves(self, kind: UnitKind, loc: int, officers: int) -> None:
        """A unit's officers end their stop at `loc`."""
        self.spotters[kind.detector][loc] -= officers
        if kind.seen_by_offenders:
            self.crowds.add_guard(loc, -officers)

    def set_camera(self, node: int, level: int) -> None:
        """The policy's monitoring of the camera at `node` (CAMERA_CODE)."""
        self.camera[node] = level

    def open_checkpoints(self, where: np.ndarray) -> None:
        """Staff the checkpoints at the nodes `where` marks, for the whole run."""
        self.checkpoint_active[:] = where

    def drone_arrives(self, loc: int) -> None:
        """A drone starts flying over `loc`."""
        self.drones[loc] += 1

    def drone_leaves(self, loc: int) -> None:
        """A drone leaves the sky over `loc`."""
        self.drones[loc] -= 1

    def deterrence(self, loc: int) -> float:
        """Chance an offender about to strike at `loc` gives up for what he sees now."""
        p = self.params
        reach = self.reach[loc]
        guards = self.crowds.guards
        keep = portable.power(1.0 - p.deter_visible, guards[loc] / reach)
        nearby = sum(guards[q] for q in self.neighbours[loc])
        if nearby:
            keep *= portable.power(1.0 - p.deter_visible * p.deter_nearby_factor, nearby / reach)
        if self.camera[loc]:
            keep *= 1.0 - p.deter_camera
        if self.drones[loc]:
            keep *= portable.power(1.0 - p.deter_drone, float(self.drones[loc]))
        if self.cooperating_bus(loc):
            keep *= 1.0 - p.transit_deterrence
        return 1.0 - keep

    def cooperating_bus(self, loc: int) -> bool:
        """`loc` is a bus under police-transit cooperation."""
        return self.transit_cooperation and self.model.transit.is_vehicle(loc)

    def bystanders_notice(self, loc: int) -> float:
        """Chance bystanders notice an attempt at `loc`; the crowd's cover lowers it."""
        if not self.bystander_notice:
            return 0.0
        per_capacity = self.per_capacity[loc]
        if per_capacity == math.inf:
            return 0.0
        density = self.crowds.people(loc) * per_capacity
        return self.bystander_notice * portable.exp(-density / self.bystander_cover)

    def detector(self, loc: int, rng: np.random.Generator) -> str:
        """Which police, if any, spot an attempt in progress at `loc` (first one wins)."""
        p = self.params
        reach = self.reach[loc]
        checks = [  # on the streets, then a live camera, then overhead
            (who, 1.0 - portable.power(1.0 - detect, self.spotters[who][loc] / reach))
            for who, detect in self._detect
        ]
        checks.append(
            (CAMERA, p.detect_camera_active / reach if self.camera[loc] == ACTIVE else 0.0)
        )
        checks.append(
            ("drone", 1.0 - portable.power(1.0 - p.detect_drone, float(self.drones[loc])))
        )
        for who, chance in checks:
            if chance > 0.0 and rng.random() < chance:
                return who
        return ""

    def has_camera(self, loc: int) -> bool:
        """Any camera (recording or live) covers `loc`."""
        return self.camera[loc] != NO_CAMERA
