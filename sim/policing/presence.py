"""Guardianship at every location: who stands where, and who can see whom.

A place is a square whose area grows with its capacity (`place_m2_per_person`); a bus is
small enough that everyone on board is within sight of everyone else. A unit that stops at
a place stands at a spot in it (drawn from the `sight` stream), and an attempt happens
where the offender stands. Only what is within sight counts: an offender is deterred by
the visible guards within his sight (`OffenderParams.sight_m`), an officer spots attempts
within his (`officer_sight_m`), a live camera's operator those within its view of the
place's centre. A large square with one officer at a corner is partly watched, and extra
officers add less where their sight overlaps: diminishing returns come from geometry.
What lingers after a patrol leaves is in the offenders' beliefs
(`sim.agents.pickpocket`), not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import portable
from sim.behaviour import PoliceParams, VictimParams
from sim.policing.units import BUS_DRIVER, CAMERA, KINDS, UnitKind, ground_detectors
from sim.streams import Uniforms

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel

NO_CAMERA, PASSIVE, ACTIVE = 0, 1, 2
CAMERA_CODE = {"none": NO_CAMERA, "passive": PASSIVE, "active": ACTIVE}


@dataclass(slots=True)
class Post:
    """Where a unit's officers stand within a place, since when."""

    kind: UnitKind
    officers: int
    x: float
    y: float
    since: float
    deter: float  # chance one of them, seen, deters an attempt (0: not seen)
    detect: float  # chance one of them spots an attempt within his sight


class Presence:
    """Who stands where at every location, and what each can see."""

    def __init__(
        self, model: CrowdPolicingModel, params: PoliceParams, victims: VictimParams
    ) -> None:
        self.model = model
        self.params = params
        self.crowds = model.crowds
        self.uniform = Uniforms(model.streams.sight)  # draws nothing but spots
        city = model.city
        n = len(self.crowds)
        n_nodes = city.n_nodes
        self.posts: list[list[Post]] = [[] for _ in range(n)]
        self.drones = [0] * n
        self.camera = [CAMERA_CODE[c] for c in city.camera] + [NO_CAMERA] * (n - n_nodes)
        self.checkpoint_active = np.zeros(n_nodes, dtype=bool)
        capacity = np.concatenate([city.capacity, np.zeros(n - n_nodes)])
        self.side = [math.sqrt(c * params.place_m2_per_person) for c in capacity.tolist()]
        """Side of each location's square (m); 0 for buses and places without a capacity."""
        self.officer_sight2 = params.officer_sight_m * params.officer_sight_m
        self.camera_view2 = params.camera_view_m * params.camera_view_m
        sight = model.scenario.offenders.sight_m
        self.offender_sight2 = sight * sight
        # bystanders: persons per unit of capacity (at scale s a simulated person stands
        # for 1/s); buses and places without a capacity give no bystander term
        scale = max(model.scenario.scale, 1e-12)
        self.per_capacity = [1.0 / (c * scale) if c > 0 else math.inf for c in capacity]
        self.bystander_notice = victims.bystander_notice
        self.bystander_cover = victims.bystander_cover
        self.transit_cooperation = model.policy.transit_cooperation
        self._order = {who: i for i, who in enumerate(ground_detectors())}
        self._chances = {
            kind.name: (
                getattr(params, kind.deter) if kind.seen_by_offenders else 0.0,
                getattr(params, kind.detect),
            )
            for kind in KINDS.values()
        }
        """Each kind's (deter, detect) chances: read once, not at every stop."""

    def spot(self, loc: int, uniform: Callable[[], float]) -> tuple[float, float]:
        """A spot drawn uniformly in `loc`'s square (two draws; also where it is a point)."""
        side = self.side[loc]
        return uniform() * side, uniform() * side

    def unit_arrives(self, kind: UnitKind, loc: int, officers: int) -> Post:
        """A unit's officers take a spot at `loc`; offenders within sight see them."""
        x, y = self.spot(loc, self.uniform)
        deter, detect = self._chances[kind.name]
        post = Post(kind, officers, x, y, self.model.env.now, deter, detect)
        self.posts[loc].append(post)
        if kind.seen_by_offenders:
            self.crowds.add_guard(loc, officers)
            self.model.offenders.police_arrive(loc, post)
        return post

    def unit_leaves(self, loc: int, post: Post) -> None:
        """A unit's officers leave their spot at `loc`."""
        self.posts[loc].remove(post)
        if post.kind.seen_by_offenders:
            self.crowds.add_guard(loc, -post.officers)

    def set_camera(self, node: int, level: int) -> None:
        """The policy's monitoring of the camera at `node` (CAMERA_CODE)."""
        self.camera[node] = level

    def open_checkpoints(self, where: np.ndarray) -> None:
        """Staff the checkpoints at the nodes `where` marks, for the whole run."""
        self.checkpoint_active[:] = where

    def drone_arrives(self, loc: int) -> None:
        """A drone starts hovering over `loc`."""
        self.drones[loc] += 1

    def drone_leaves(self, loc: int) -> None:
        """A drone leaves the sky over `loc`."""
        self.drones[loc] -= 1

    def visible_within(self, loc: int, x: float, y: float, since: float = math.inf) -> int:
        """Visible officers at `loc` within an offender's sight of (x, y), there by `since`."""
        return sum(
            post.officers
            for post in self.posts[loc]
            if post.deter and post.since <= since and _near(post, x, y, self.offender_sight2)
        )

    def offender_sees(self, post: Post, x: float, y: float) -> bool:
        """An offender at (x, y) sees the officers at `post` (visible, within his sight)."""
        return bool(post.deter) and _near(post, x, y, self.offender_sight2)

    def offender_sees_point(self, px: float, py: float, x: float, y: float) -> bool:
        """An offender at (x, y) sees what happens at (px, py) in the same place."""
        return _within(px, py, x, y, self.offender_sight2)

    def deterrence(self, loc: int, x: float, y: float) -> float:
        """Chance an offender about to strike at (x, y) in `loc` gives up for what he sees.

        Each visible officer within his sight deters with his kind's chance; a drone
        overhead is seen from anywhere in the place.
        """
        keep = 1.0
        for post in self.posts[loc]:
            if post.deter and _near(post, x, y, self.offender_sight2):
                keep *= portable.power(1.0 - post.deter, float(post.officers))
        if self.drones[loc]:
            keep *= portable.power(1.0 - self.params.deter_drone, float(self.drones[loc]))
        return 1.0 - keep

    def cooperating_bus(self, loc: int) -> bool:
        """`loc` is a bus under police-transit cooperation (briefed driver, announcements)."""
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

    def detector(self, loc: int, x: float, y: float, rng: np.random.Generator) -> str:
        """Who, if anyone, spots an attempt at (x, y) in `loc` (first one wins).

        Officers within their sight of the spot (in the unit table's order), then a live
        camera if the spot is within its view of the place's centre, a briefed bus driver,
        and drones overhead.
        """
        p = self.params
        sighted = sorted(
            (post for post in self.posts[loc] if _near(post, x, y, self.officer_sight2)),
            key=lambda post: self._order[post.kind.detector],
        )
        for post in sighted:
            chance = 1.0 - portable.power(1.0 - post.detect, float(post.officers))
            if chance > 0.0 and rng.random() < chance:
                return post.kind.detector
        half = 0.5 * self.side[loc]
        in_view = _within(half, half, x, y, self.camera_view2)
        if self.camera[loc] == ACTIVE and in_view and rng.random() < p.detect_camera_active:
            return CAMERA
        if self.cooperating_bus(loc) and rng.random() < p.detect_bus_driver:
            return BUS_DRIVER
        drones = self.drones[loc]
        if drones and rng.random() < 1.0 - portable.power(1.0 - p.detect_drone, float(drones)):
            return "drone"
        return ""

    def visible_officers(self, loc: int) -> int:
        """Visible officers anywhere at `loc` now (whom a victim could walk up to)."""
        return self.crowds.guards[loc]

    def nodes_with(self, detector: str) -> np.ndarray:
        """Nodes where units that spot attempts as `detector` stand now (for displays)."""
        n_nodes = self.model.city.n_nodes
        return np.array(
            [n for n in range(n_nodes) if any(p.kind.detector == detector for p in self.posts[n])],
            dtype=np.int64,
        )

    def has_camera(self, loc: int) -> bool:
        """Any camera (recording or live) covers `loc`."""
        return self.camera[loc] != NO_CAMERA


def _near(post: Post, x: float, y: float, sight2: float) -> bool:
    """`post` is within the sight distance whose square is `sight2` of (x, y)."""
    return _within(post.x, post.y, x, y, sight2)


def _within(ax: float, ay: float, bx: float, by: float, reach2: float) -> bool:
    """(ax, ay) and (bx, by) are at most the distance whose square is `reach2` apart."""
    return (ax - bx) * (ax - bx) + (ay - by) * (ay - by) <= reach2
