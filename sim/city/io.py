"""Load and save cities as GraphML (osmnx-compatible) and GeoJSON.

Place attributes missing from a file get documented defaults (`NODE_DEFAULTS`), so a bare
street network exported by osmnx loads as a city of plain intersections; a scenario can
then assign places by rule (`sim.city.assign`). Anything inconsistent (a node without
coordinates, a negative length, an unknown kind) is a ConfigError naming file and field.
"""

from __future__ import annotations

import json
import math
import typing
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sim import portable
from sim.city.graph import CAMERA_LEVELS, PLACE_KINDS, BusLine, City
from sim.config import build, check_scalar
from sim.errors import ConfigError
from sim.params import param


@dataclass(frozen=True)
class NodeFields:
    """Node attributes of a city file; a missing one takes its default."""

    kind: str = param("street", choices=PLACE_KINDS, doc="kind of place")
    capacity: float = param(0.0, unit="persons", low=0, doc="persons at once")
    attractiveness: float = param(0.0, low=0, doc="relative pull on visitors")
    cell: int = param(0, low=0, doc="patrol cell")
    camera: str = param("none", choices=CAMERA_LEVELS, doc="existing CCTV")
    patrol_point: bool = param(False, doc="a mandatory patrol point")
    checkpoint: bool = param(False, doc="a ring-road checkpoint")


@dataclass(frozen=True)
class BusLineFields:
    """A bus line of a city file (graph attribute `bus_lines`, a JSON list)."""

    name: str = param("", doc="line name")
    stops: tuple[Any, ...] = param((), doc="node ids of the stops, in order")
    headway_min: float = param(10.0, unit="min", low=0.1, doc="minutes between buses")
    speed_m_per_min: float = param(
        BusLine.speed_m_per_min, unit="m/min", low=1, doc="speed including stops"
    )


NODE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(NodeFields)}
"""Values given to node attributes a city file leaves out (label defaults to the node id)."""
EARTH_RADIUS_M = 6_371_008.8
MAX_COORDINATE_M = 1e8
"""Projected coordinates beyond this (250 times the Earth's circumference) are a mistake."""


def load_city(path: str | Path) -> City:
    """Load a city from `.graphml` or `.geojson`, by file extension."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(str(path), "", "is a folder, not a city file")
    if path.suffix == ".graphml":
        return read_graphml(path)
    if path.suffix in (".geojson", ".json"):
        return read_geojson(path)
    raise ConfigError(str(path), "", "unknown city file type; allowed: .graphml, .geojson")


def read_graphml(path: str | Path) -> City:
    """Read a GraphML city, including a graph saved by osmnx (projected or lon/lat)."""
    path = Path(path)
    try:
        graph = nx.read_graphml(path)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except Exception as exc:  # networkx raises several parser errors for malformed XML
        raise ConfigError(str(path), "", f"not a readable GraphML file: {exc}") from None
    _refuse_duplicate_nodes(path)
    nodes = [(str(n), dict(d)) for n, d in graph.nodes(data=True)]
    edges = [(str(u), str(v), dict(d)) for u, v, d in graph.edges(data=True)]
    lines = _bus_lines_from_json(graph.graph.get("bus_lines", "[]"), str(path))
    return _assemble(
        path=str(path),
        name=str(graph.graph.get("name", path.stem)),
        crs=str(graph.graph.get("crs", "")),
        nodes=nodes,
        edges=edges,
        bus_lines=lines,
    )


def _refuse_duplicate_nodes(path: Path) -> None:
    """Two nodes with one id are a mistake in the file (networkx would merge them)."""
    ids = Counter(
        element.get("id")
        for _, element in ElementTree.iterparse(path)
        if element.tag.rsplit("}", 1)[-1] == "node"
    )
    twice = sorted(str(nid) for nid, n in ids.items() if n > 1)
    if twice:
        where = f"node {twice[0]!r}"
        raise ConfigError(str(path), where, f"duplicate node id ({len(twice)} in all)")


def read_geojson(path: str | Path) -> City:
    """Read a GeoJSON city: Point features are nodes, LineString features with u/v are streets."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "", f"is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), "", f"malformed JSON: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be read: {exc.strerror}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ConfigError(str(path), "type", "a GeoJSON city is a FeatureCollection")
    features = data.get("features", [])
    if not isinstance(features, list):
        raise ConfigError(str(path), "features", "expected a list of features")
    nodes, edges = [], []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise ConfigError(str(path), f"features[{i}]", "expected a GeoJSON Feature")
        geometry = feature.get("geometry") or {}
        props = dict(feature.get("properties") or {})
        if geometry.get("type") == "Point":
            x, y = _point(str(path), f"features[{i}].geometry.coordinates", geometry)
            props.setdefault("x", x)
            props.setdefault("y", y)
            if "id" not in props:
                raise ConfigError(str(path), f"features[{i}].properties.id", "node needs an id")
            nodes.append((str(props.pop("id")), props))
        elif geometry.get("type") == "LineString":
            if "u" not in props or "v" not in props:
                raise ConfigError(str(path), f"features[{i}].properties", "street needs u and v")
            edges.append((str(props.pop("u")), str(props.pop("v")), props))
    meta = data.get("properties", {})
    lines = _bus_lines_from_json(json.dumps(meta.get("bus_lines", [])), str(path))
    return _assemble(
        path=str(path),
        name=str(meta.get("name", path.stem)),
        crs=str(meta.get("crs", "")),
        nodes=nodes,
        edges=edges,
        bus_lines=lines,
    )


def _point(path: str, where: str, geometry: dict) -> tuple[Any, Any]:
    """A Point's first two coordinates (checked as numbers with the node's other fields)."""
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise ConfigError(path, where, "a Point needs coordinates [x, y]")
    return coordinates[0], coordinates[1]


def _bus_lines_from_json(text: str, path: str) -> list[dict[str, Any]]:
    try:
        lines = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, "bus_lines", f"malformed JSON: {exc}") from None
    if not isinstance(lines, list):
        raise ConfigError(path, "bus_lines", "expected a list of lines")
    return lines


def _is_lonlat(crs: str, nodes: list[tuple[str, dict]]) -> bool:
    if any("lon" in d for _, d in nodes):
        return True
    return crs.lower().replace(" ", "") in ("epsg:4326", "wgs84", "crs84")


def _coordinates(path: str, nodes: list[tuple[str, dict]], lonlat: bool) -> tuple[np.ndarray, ...]:
    xs, ys = np.empty(len(nodes)), np.empty(len(nodes))
    xkey, ykey = ("lon", "lat") if any("lon" in d for _, d in nodes) else ("x", "y")
    for i, (nid, d) in enumerate(nodes):
        if xkey not in d or ykey not in d:
            raise ConfigError(
                path,
                f"node {nid!r}",
                f"has no coordinates; every node needs {xkey} and {ykey} "
                "(an edge may name a node that the file does not define)",
            )
        xbound, ybound = (180.0, 90.0) if lonlat else (MAX_COORDINATE_M, MAX_COORDINATE_M)
        xs[i] = _checked(
            path, f"node {nid!r}.{xkey}", float, d[xkey], {"low": -xbound, "high": xbound}
        )
        ys[i] = _checked(
            path, f"node {nid!r}.{ykey}", float, d[ykey], {"low": -ybound, "high": ybound}
        )
    if lonlat:  # local equirectangular projection, metres from the centroid
        lat0 = math.radians(float(ys.mean()))
        xs = np.radians(xs - xs.mean()) * EARTH_RADIUS_M * math.cos(lat0)
        ys = np.radians(ys - ys.mean()) * EARTH_RADIUS_M
    return xs, ys


_HINTS = typing.get_type_hints(NodeFields)
_NODE_META = {f.name: f.metadata for f in fields(NodeFields)}


def _from_text(tp: Any, value: Any) -> Any:
    """GraphML may give numbers and flags as text: read them as the schema's type."""
    if not isinstance(value, str) or tp is str:
        return value
    text = value.strip()
    if tp is bool:
        return {"true": True, "1": True, "false": False, "0": False}.get(text.lower(), value)
    try:
        number = float(text)
    except ValueError:
        return value
    if tp is int:
        return int(number) if number.is_integer() else number
    return number


def _checked(path: str, where: str, tp: Any, value: Any, meta: Any) -> Any:
    """A value from a city file through the same checks as every config field."""
    return check_scalar(tp, _from_text(tp, value), path, where, meta)


def _node_attr(path: str, nid: str, d: dict, key: str) -> Any:
    return _checked(
        path, f"node {nid!r}.{key}", _HINTS[key], d.get(key, NODE_DEFAULTS[key]), _NODE_META[key]
    )


def _assemble(
    *,
    path: str,
    name: str,
    crs: str,
    nodes: list[tuple[str, dict]],
    edges: list[tuple[str, str, dict]],
    bus_lines: list[dict[str, Any]],
) -> City:
    if not nodes:
        raise ConfigError(path, "nodes", "the city has no nodes")
    index = {nid: i for i, (nid, _) in enumerate(nodes)}
    lonlat = _is_lonlat(crs, nodes)
    xs, ys = _coordinates(path, nodes, lonlat)
    if len(nodes) < 2:
        raise ConfigError(path, "nodes", "the city has 1 node: it needs streets between places")
    attrs = {key: [_node_attr(path, nid, d, key) for nid, d in nodes] for key in NODE_DEFAULTS}
    for (nid, _), cell in zip(nodes, attrs["cell"], strict=True):
        if cell >= len(nodes):
            raise ConfigError(
                path,
                f"node {nid!r}.cell",
                f"{cell} is out of range: cells are numbered from 0, at most one per node "
                f"(below {len(nodes)})",
            )
    eu, ev, el = [], [], []
    for u, v, d in edges:
        for end in (u, v):
            if end not in index:
                raise ConfigError(path, f"edge ({u}, {v})", f"names node {end!r}, which is missing")
        a, b = index[u], index[v]
        # osmnx lengths are metres, also in lon/lat graphs; else the straight line
        length = (
            _checked(path, f"edge ({u}, {v}).length", float, d["length"], {"low": 0})
            if "length" in d
            else portable.hypot(xs[a] - xs[b], ys[a] - ys[b])
        )
        eu.append(a)
        ev.append(b)
        el.append(length)
    _refuse_disconnected(path, len(nodes), eu, ev, [nid for nid, _ in nodes])
    lines = []
    for i, raw in enumerate(bus_lines):
        where = f"bus_lines[{i}]"
        line = build(BusLineFields, raw, file=path, prefix=f"{where}.")
        unknown = [str(stop) for stop in line.stops if str(stop) not in index]
        if unknown or len(line.stops) < 2:
            raise ConfigError(
                path,
                f"{where}.stops",
                "a line needs at least 2 stops, all node "
                "ids of the city" + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            )
        lines.append(
            BusLine(
                line.name or f"line {i + 1}",
                tuple(index[str(s)] for s in line.stops),
                line.headway_min,
                line.speed_m_per_min,
            )
        )
    return City(
        name=name,
        node_ids=[nid for nid, _ in nodes],
        x=xs,
        y=ys,
        kind=attrs["kind"],
        label=[str(d.get("label", d.get("name", nid))) for nid, d in nodes],
        capacity=np.array(attrs["capacity"], dtype=float),
        attractiveness=np.array(attrs["attractiveness"], dtype=float),
        cell=np.array(attrs["cell"], dtype=np.int64),
        camera=attrs["camera"],
        patrol_point=np.array(attrs["patrol_point"], dtype=bool),
        checkpoint=np.array(attrs["checkpoint"], dtype=bool),
        edge_u=np.array(eu, dtype=np.int64),
        edge_v=np.array(ev, dtype=np.int64),
        edge_length=np.array(el, dtype=float),
        bus_lines=tuple(lines),
        crs="" if lonlat else crs,
    )


def _refuse_disconnected(
    path: str, n: int, eu: list[int], ev: list[int], node_ids: list[str]
) -> None:
    """Every place must be reachable on foot: a network in several parts is refused.

    Refusing (rather than silently keeping the largest part) leaves the choice to the user;
    osmnx keeps the largest part with `osmnx.truncate.largest_component`.
    """
    if n < 2:
        return
    graph = coo_matrix((np.ones(len(eu)), (eu, ev)), shape=(n, n))
    parts, label = connected_components(graph, directed=False)
    if parts > 1:
        sizes = np.bincount(label)
        stray = node_ids[int(np.flatnonzero(label != np.argmax(sizes))[0])]
        raise ConfigError(
            path,
            "edges",
            f"the street network falls into {parts} parts (largest {sizes.max()} of {n} "
            f"nodes; node {stray!r} is cut off): keep the largest part, e.g. with "
            "osmnx.truncate.largest_component",
        )


def _node_records(city: City) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            nid,
            {
                "x": float(city.x[i]),
                "y": float(city.y[i]),
                "kind": city.kind[i],
                "label": city.label[i],
                "capacity": float(city.capacity[i]),
                "attractiveness": float(city.attractiveness[i]),
                "cell": int(city.cell[i]),
                "camera": city.camera[i],
                "patrol_point": bool(city.patrol_point[i]),
                "checkpoint": bool(city.checkpoint[i]),
            },
        )
        for i, nid in enumerate(city.node_ids)
    ]


def _bus_line_records(city: City) -> list[dict[str, Any]]:
    return [
        {
            "name": line.name,
            "stops": [city.node_ids[s] for s in line.stops],
            "headway_min": line.headway_min,
            "speed_m_per_min": line.speed_m_per_min,
        }
        for line in city.bus_lines
    ]


def write_graphml(city: City, path: str | Path) -> None:
    """Save a city as GraphML; `read_graphml` reads it back unchanged."""
    graph = nx.Graph(name=city.name, crs=city.crs, bus_lines=json.dumps(_bus_line_records(city)))
    graph.add_nodes_from(_node_records(city))
    for u, v, length in zip(city.edge_u, city.edge_v, city.edge_length, strict=True):
        graph.add_edge(city.node_ids[u], city.node_ids[v], length=float(length))
    nx.write_graphml(graph, path)


def write_geojson(city: City, path: str | Path) -> None:
    """Save a city as a GeoJSON FeatureCollection in the city's own metric coordinates."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [d["x"], d["y"]]},
            "properties": {"id": nid, **{k: v for k, v in d.items() if k not in ("x", "y")}},
        }
        for nid, d in _node_records(city)
    ]
    for u, v, length in zip(city.edge_u, city.edge_v, city.edge_length, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[city.x[u], city.y[u]], [city.x[v], city.y[v]]],
                },
                "properties": {
                    "u": city.node_ids[u],
                    "v": city.node_ids[v],
                    "length": float(length),
                },
            }
        )
    doc = {
        "type": "FeatureCollection",
        "features": features,
        "properties": {"name": city.name, "crs": city.crs, "bus_lines": _bus_line_records(city)},
    }
    Path(path).write_text(json.dumps(doc))
