"""Turn a policy spec into agents on the map (what it costs is `sim.policing.cost`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.officer import PoliceUnit, Responder, Route
from sim.agents.sensors import Camera, Drone
from sim.city.graph import City
from sim.errors import ConfigError
from sim.policing.policy import Deployment, Policy, check_policy
from sim.policing.presence import CAMERA_CODE
from sim.policing.units import CAMERA, KINDS

if TYPE_CHECKING:
    from sim.model import CrowdPolicingModel


class Deployer:
    """Places units, cameras and checkpoints for one model and one policy."""

    def __init__(self, model: CrowdPolicingModel, policy: Policy, source: str) -> None:
        self.model = model
        self.policy = policy
        self.source = source
        self.rng = model.streams.police
        self.crowd_rank = model.city.crowd_rank
        self._sampled: dict[int, list[int]] = {}
        self.units: list[PoliceUnit] = []
        self.drones: list[Drone] = []
        self.cameras: list[Camera] = []

    def deploy(self) -> None:
        """Create every unit, camera and checkpoint the policy asks for."""
        check_policy(self.policy, self.source)
        for i, dep in enumerate(self.policy.deploy):
            for k in range(dep.count):
                self._unit(i, dep, k)
        self._cameras()
        if self.policy.checkpoints:
            self.model.presence.open_checkpoints(self.model.city.checkpoint)

    def _unit(self, index: int, dep: Deployment, k: int) -> None:
        model = self.model
        env = model.env
        police = model.scenario.police
        kind = KINDS[dep.unit]
        speed = getattr(police, kind.speed)
        if kind.moves == "flies":
            drone = Drone(model, dep, index, self._route(index, dep, k)(), speed)
            self.drones.append(drone)
            env.process(drone.sorties())
            return
        bus_line = -1
        if dep.where == "bus_lines":
            if not model.city.bus_lines:
                raise ConfigError(
                    self.source, f"deploy[{index}].where", "'bus_lines' needs a city with bus lines"
                )
            bus_line = k % len(model.city.bus_lines)
            route = self._fixed([model.city.bus_lines[bus_line].stops[0]])
        else:
            route = self._route(index, dep, k)
        agent = Responder if kind.answers else PoliceUnit
        unit = agent(model, dep, route, group=index, speed_m_per_min=speed, bus_line=bus_line)
        self.units.append(unit)
        process = env.process(unit.shifts())
        if isinstance(unit, Responder):
            unit.process = process
            model.dispatcher.add_unit(unit)

    @staticmethod
    def _fixed(stops: list[int]) -> Route:
        return lambda: stops

    def _route(self, index: int, dep: Deployment, k: int) -> Route:
        """Unit `k`'s stops by its placement rule: for a post, its first one is the post."""
        rule = getattr(self, f"_where_{dep.where}")
        per_unit = 1 if dep.movement == "static" else dep.circuit_places
        return rule(index, dep, k, per_unit)

    def _where_cells(self, index: int, dep: Deployment, k: int, per_unit: int) -> Route:
        """Cell k's mandatory patrol points, by movement.

        All of them in a covering tour (patrol_points), all of them to draw from
        (random_walk), else the most attractive first.
        """
        city = self.model.city
        cell = k % city.n_cells
        points = np.flatnonzero(city.patrol_point & (city.cell == cell))
        if len(points) == 0:
            points = np.flatnonzero(city.cell == cell)
        points = points[np.argsort(-city.attractiveness[points], kind="stable")]
        if dep.movement == "patrol_points":
            return self._fixed(covering_tour(city, [int(p) for p in points]))
        if dep.movement == "random_walk":
            return self._fixed([int(p) for p in points])
        return self._fixed([int(p) for p in points[:per_unit]])

    def _where_police_stations(self, index: int, dep: Deployment, k: int, per_unit: int) -> Route:
        stations = self.model.city.nodes_of_kind("police_station")
        if len(stations) == 0:
            raise ConfigError(
                self.source,
                f"deploy[{index}].where",
                "'police_stations' needs police_station nodes in the city",
            )
        return self._fixed([int(stations[k % len(stations)])])

    def _where_places(self, index: int, dep: Deployment, k: int, per_unit: int) -> Route:
        nodes = [self._node(index, label) for label in dep.places]
        if not nodes:
            raise ConfigError(
                self.source, f"deploy[{index}].places", "where = 'places' needs at least one place"
            )
        return self._fixed(self._share(nodes, dep.count, k, per_unit))

    def _where_random(self, index: int, dep: Deployment, k: int, per_unit: int) -> Route:
        """A random walk draws from every visited place; a post or circuit is drawn once."""
        if dep.movement == "random_walk":
            first = int(self.rng.choice(self.crowd_rank))
            rest = [int(n) for n in self.crowd_rank if n != first]
            return self._fixed([first, *rest])
        nodes = self.rng.choice(
            self.crowd_rank, size=min(per_unit, len(self.crowd_rank)), replace=False
        )
        return self._fixed([int(n) for n in nodes])

    def _where_top_thefts(self, index: int, dep: Deployment, k: int, per_unit: int) -> Route:
        """The places with most recorded thefts, re-read at each shift's briefing."""
        return lambda: self._share(self._theft_rank(), dep.count, k, per_unit)

    def _where_top_crowded(self, index: int, dep: Deployment, k: int, per_unit: int) -> Route:
        """The top places, or a random draw from the top `sample_of` (one per group)."""
        ranked = [int(n) for n in self.crowd_rank]
        if dep.sample_of:
            if index not in self._sampled:
                top = ranked[: dep.sample_of]
                self._sampled[index] = [top[i] for i in self.rng.permutation(len(top))]
            ranked = self._sampled[index]
        return self._fixed(self._share(ranked, dep.count, k, per_unit))

    @staticmethod
    def _share(ranked: list[int], count: int, k: int, per_unit: int) -> list[int]:
        """Unit k's stops: every count-th place from rank k, `per_unit` of them."""
        return ranked[k :: max(count, 1)][:per_unit] or [ranked[k % len(ranked)]]

    def _theft_rank(self) -> list[int]:
        """Places by incidents on record at the briefing (ties, and day one, by expected crowd).

        The police rank what they know: reports and detections so far, not the thefts
        nobody noticed or reported.
        """
        thefts = self.model.crime.recorded_at_node[self.crowd_rank]
        order = np.argsort(-thefts, kind="stable")
        return [int(n) for n in self.crowd_rank[order]]

    def _node(self, index: int, label: str) -> int:
        city = self.model.city
        for i, (nid, name) in enumerate(zip(city.node_ids, city.label, strict=True)):
            if label in (nid, name):
                return i
        raise ConfigError(
            self.source,
            f"deploy[{index}].places",
            f"{label!r} is neither a node id nor a place label of {city.name}",
        )

    def _cameras(self) -> None:
        spec = self.policy.cameras
        presence = self.model.presence
        n_nodes = self.model.city.n_nodes
        if spec.monitoring != "as_built":
            level = CAMERA_CODE[spec.monitoring]
            for node in range(n_nodes):
                if presence.camera[node]:
                    presence.set_camera(node, level)
        extra = CAMERA_CODE[spec.extra_monitoring]
        for node in self.crowd_rank[: spec.extra_top_crowded]:
            presence.set_camera(int(node), max(presence.camera[int(node)], extra))
        for node in range(n_nodes):
            if presence.camera[node]:
                self.cameras.append(Camera(self.model, node, presence.camera[node]))

    def stops_under_way(self) -> list[tuple[int, str, int, int, float, float]]:
        """Stops not yet ended (a post at the end of the run), cut at the current time."""
        now = self.model.env.now
        return [
            (u.unique_id, u.deployment.unit, u.group, u.location, u.arrived_at, now)
            for u in self.units
            if u.location >= 0
        ]

    def layout(self) -> dict[str, list[int]]:
        """Where the police are placed today, for maps.

        Nodes by kind of unit, plus the indices of bus lines ridden by officers (`bus_lines`).
        """
        layout: dict[str, list[int]] = {kind: [] for kind in (*KINDS, CAMERA, "bus_lines")}
        for unit in self.units:
            if unit.bus_line >= 0:
                layout["bus_lines"].append(unit.bus_line)
            else:
                layout[unit.deployment.unit].extend(int(n) for n in unit.route())
        for drone in self.drones:
            layout[drone.deployment.unit].extend(drone.route)
        layout[CAMERA] = [camera.node for camera in self.cameras]
        return layout


def covering_tour(city: City, points: list[int]) -> list[int]:
    """The points in nearest-neighbour order from the first: covers a cell, few crossings."""
    tour, left = [points[0]], set(points[1:])
    city.search_from(points)  # every point but the last is a leg's start
    while left:
        here = city.distances_from(tour[-1])
        nearest = min(left, key=lambda q: (here[q], q))
        tour.append(nearest)
        left.remove(nearest)
    return tour
