"""A city as a graph of places and streets, with shortest paths computed once per source."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

PLACE_KINDS = (
    "street",
    "scenic",
    "food_street",
    "plaza",
    "station",
    "bus_terminal",
    "pier",
    "hotel",
    "police_station",
)
"""Every node has one of these kinds; `street` is a plain intersection."""

ATTRACTION_KINDS = ("scenic", "food_street", "plaza", "pier")
"""Kinds tourists choose to visit (by attractiveness against distance)."""

ENTRY_KINDS = ("station", "bus_terminal", "pier", "hotel")
"""Kinds where a visiting party's day starts and ends."""

CAMERA_LEVELS = ("none", "passive", "active")
"""Existing CCTV at a node: recorded only (passive) or watched live (active)."""


@dataclass(frozen=True)
class BusLine:
    """An ordered sequence of stop nodes served in both directions every `headway_min`."""

    name: str
    stops: tuple[int, ...]
    headway_min: float
    speed_m_per_min: float = 250.0  # 15 km/h including stops: assumption for city buses


@dataclass(eq=False)
class City:
    """Places (nodes) and streets (undirected edges with length in metres).

    Node attributes are parallel arrays indexed 0..n-1; `node_ids` keeps the ids of the
    source file so a saved city round-trips. Shortest paths are computed lazily per source
    node and cached, never per event.
    """

    name: str
    node_ids: list[str]
    x: np.ndarray
    y: np.ndarray
    kind: list[str]
    label: list[str]
    capacity: np.ndarray
    attractiveness: np.ndarray
    cell: np.ndarray
    camera: list[str]
    patrol_point: np.ndarray
    checkpoint: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    bus_lines: tuple[BusLine, ...] = ()
    crs: str = ""
    _dist: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _pred: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _routes: dict[tuple[int, int], tuple[tuple[int, ...], tuple[float, ...]]] = field(
        default_factory=dict, repr=False
    )

    def freeze(self) -> None:
        """Make the node and street arrays read-only (a city is shared between runs)."""
        for array in (
            self.x,
            self.y,
            self.capacity,
            self.attractiveness,
            self.cell,
            self.patrol_point,
            self.checkpoint,
            self.edge_u,
            self.edge_v,
            self.edge_length,
        ):
            array.flags.writeable = False

    @property
    def n_nodes(self) -> int:
        """Number of nodes (places and intersections)."""
        return len(self.node_ids)

    @cached_property
    def adjacency(self) -> csr_matrix:
        """Symmetric street graph; parallel edges keep the shortest length."""
        n = self.n_nodes
        u = np.concatenate([self.edge_u, self.edge_v])
        v = np.concatenate([self.edge_v, self.edge_u])
        w = np.concatenate([self.edge_length, self.edge_length])
        order = np.lexsort((w, v, u))  # shortest first within each (u, v) pair
        u, v, w = u[order], v[order], w[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        # csgraph treats explicit zeros as missing edges; keep zero-length streets tiny
        return csr_matrix((np.maximum(w[first], 1e-6), (u[first], v[first])), shape=(n, n))

    def nodes_of_kind(self, *kinds: str) -> np.ndarray:
        """Indices of nodes whose kind is one of `kinds`."""
        wanted = set(kinds)
        return np.array([i for i, k in enumerate(self.kind) if k in wanted], dtype=np.int64)

    @cached_property
    def attractions(self) -> np.ndarray:
        """Nodes tourists visit as sights (attractiveness > 0 and an attraction kind)."""
        idx = self.nodes_of_kind(*ATTRACTION_KINDS)
        return idx[self.attractiveness[idx] > 0]

    @cached_property
    def entries(self) -> np.ndarray:
        """Nodes where visitors arrive and leave."""
        idx = self.nodes_of_kind(*ENTRY_KINDS)
        return idx[self.attractiveness[idx] > 0]

    @cached_property
    def visited(self) -> np.ndarray:
        """Places visitors go to (attractions and entries): where crowds and thefts are."""
        return np.union1d(self.attractions, self.entries)

    @cached_property
    def crowd_rank(self) -> np.ndarray:
        """Visited places by attractiveness, largest first: where planners expect crowds."""
        return self.visited[np.argsort(-self.attractiveness[self.visited], kind="stable")]

    @cached_property
    def places(self) -> np.ndarray:
        """Every node that is not a plain intersection, in node order (a run's place table)."""
        return np.array([i for i, k in enumerate(self.kind) if k != "street"], dtype=np.int64)

    def distances_from(self, source: int) -> np.ndarray:
        """Street distance (m) from `source` to every node; computed once, then cached."""
        row = self._dist.get(source)
        if row is None:
            self.search_from([source])
            row = self._dist[source]
        return row

    def search_from(self, sources: Iterable[int]) -> None:
        """Cache the shortest paths from every one of `sources` not yet searched from.

        One call for many sources: scipy checks the graph once per call, which costs about
        as much as a search on a city of a few hundred nodes. Each source's row is the one
        a search from it alone gives.
        """
        new = list(dict.fromkeys(s for s in map(int, sources) if s not in self._dist))
        if not new:
            return
        dist, pred = dijkstra(self.adjacency, indices=new, return_predecessors=True)
        for source, row, back in zip(new, dist, pred, strict=True):
            row.flags.writeable = back.flags.writeable = False  # cached: shared by callers
            self._dist[source], self._pred[source] = row, back

    def distance(self, a: int, b: int) -> float:
        """Street distance in metres between two nodes."""
        return float(self.distances_from(a)[b])

    def path(self, a: int, b: int) -> list[int]:
        """Nodes on a shortest street path from `a` to `b`, both ends included."""
        self.distances_from(a)
        pred = self._pred[a]
        if a != b and pred[b] < 0:
            raise ValueError(f"node {self.node_ids[b]} is unreachable from {self.node_ids[a]}")
        nodes = [b]
        while nodes[-1] != a:
            nodes.append(int(pred[nodes[-1]]))
        return nodes[::-1]

    def route(self, a: int, b: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """A shortest path from `a` to `b` and the metres from `a` to each of its nodes.

        Cached per pair: patrols go back and forth between the same stops all day.
        """
        route = self._routes.get((a, b))
        if route is None:
            nodes = self.path(a, b)
            metres = self.distances_from(a)[nodes]  # cumulative: the path is a shortest one
            route = self._routes[a, b] = (tuple(nodes), tuple(metres.tolist()))
        return route

    def distance_matrix(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Street distances (m) between two sets of nodes, from the per-source cache."""
        self.search_from(sources.tolist())
        return np.vstack([self.distances_from(int(s))[targets] for s in sources])

    @cached_property
    def n_cells(self) -> int:
        """Number of grid cells (patrol responsibility areas)."""
        return int(self.cell.max()) + 1 if self.n_nodes else 0
