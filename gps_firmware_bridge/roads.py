"""Road network for the simulator: Siaga's routing export CSV or raw OSM XML, and a heapq Dijkstra.

CSV columns (``siaga roads export``): ``u,v,u_lon,u_lat,v_lon,v_lat,length_m,travel_s``, one
directed edge per row. OSM XML: ``<way>`` elements with a drivable ``highway`` tag; ``oneway``
respected; travel time from ``maxspeed`` or a per-class default speed. Coordinates are WGS84
(EPSG:4326) degrees; lengths are haversine metres.
"""

from __future__ import annotations

import csv
import heapq
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from gps_firmware_bridge.exceptions import RoadNetworkError

EARTH_RADIUS_M = 6_371_008.8
# Typical free-flow speeds in Indonesian towns, km/h, by OSM highway class.
DEFAULT_SPEED_KMH = {
    "motorway": 80,
    "trunk": 60,
    "primary": 45,
    "secondary": 40,
    "tertiary": 35,
    "unclassified": 30,
    "residential": 25,
    "living_street": 10,
    "service": 15,
    "road": 25,
    "motorway_link": 50,
    "trunk_link": 40,
    "primary_link": 35,
    "secondary_link": 30,
    "tertiary_link": 30,
}


class Point(NamedTuple):
    """A WGS84 position, longitude first (EPSG:4326 degrees)."""

    lon: float
    lat: float


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(a: Point, b: Point) -> float:
    """Initial bearing from a to b, degrees clockwise from true north, 0..360."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed road edge: target node index, length (m) and free-flow travel time (s)."""

    to: int
    length_m: float
    travel_s: float


@dataclass
class RoadGraph:
    """Directed road graph with node coordinates and adjacency lists."""

    points: list[Point] = field(default_factory=list)
    adj: list[list[Edge]] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)
    _main: list[int] | None = None

    def node(self, key: str, point: Point) -> int:
        """Index of node ``key``, adding it if new."""
        idx = self._index.get(key)
        if idx is None:
            idx = len(self.points)
            self._index[key] = idx
            self.points.append(point)
            self.adj.append([])
        return idx

    def add_edge(self, u: int, v: int, length_m: float, travel_s: float) -> None:
        """Add a directed edge."""
        self.adj[u].append(Edge(v, length_m, max(travel_s, 0.01)))

    @property
    def edge_count(self) -> int:
        """Number of directed edges."""
        return sum(len(a) for a in self.adj)

    def main_component(self) -> list[int]:
        """Nodes of the largest weakly connected component (snapping targets)."""
        if self._main is None:
            undirected: list[set[int]] = [set() for _ in self.points]
            for u, edges in enumerate(self.adj):
                for e in edges:
                    undirected[u].add(e.to)
                    undirected[e.to].add(u)
            seen = [False] * len(self.points)
            best: list[int] = []
            for start in range(len(self.points)):
                if seen[start]:
                    continue
                comp, stack = [], [start]
                seen[start] = True
                while stack:
                    n = stack.pop()
                    comp.append(n)
                    for m in undirected[n]:
                        if not seen[m]:
                            seen[m] = True
                            stack.append(m)
                if len(comp) > len(best):
                    best = comp
            self._main = best
        return self._main

    def nearest(self, point: Point) -> int:
        """Index of the main-component node nearest to ``point`` (equirectangular metric)."""
        nodes = self.main_component()
        if not nodes:
            raise RoadNetworkError("the road network is empty")
        coslat = math.cos(math.radians(point.lat))
        return min(
            nodes,
            key=lambda i: (
                ((self.points[i].lon - point.lon) * coslat) ** 2
                + (self.points[i].lat - point.lat) ** 2
            ),
        )

    def shortest_path(self, source: int, target: int) -> list[int]:
        """Fastest node path (by free-flow travel time) with a binary-heap Dijkstra."""
        if source == target:
            return [source]
        dist = {source: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, source)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == target:
                break
            if d > dist.get(u, math.inf):
                continue
            for e in self.adj[u]:
                nd = d + e.travel_s
                if nd < dist.get(e.to, math.inf):
                    dist[e.to] = nd
                    prev[e.to] = u
                    heapq.heappush(heap, (nd, e.to))
        if target not in dist:
            raise RoadNetworkError(f"no road route from node {source} to node {target}")
        path = [target]
        while path[-1] != source:
            path.append(prev[path[-1]])
        return path[::-1]

    def edge(self, u: int, v: int) -> Edge:
        """The fastest edge u->v."""
        return min((e for e in self.adj[u] if e.to == v), key=lambda e: e.travel_s)


def load_edges_csv(path: str | Path) -> RoadGraph:
    """Load Siaga's routing export (``u,v,u_lon,u_lat,v_lon,v_lat,length_m,travel_s``)."""
    graph = RoadGraph()
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                u = graph.node(row["u"], Point(float(row["u_lon"]), float(row["u_lat"])))
                v = graph.node(row["v"], Point(float(row["v_lon"]), float(row["v_lat"])))
                graph.add_edge(u, v, float(row["length_m"]), float(row["travel_s"]))
    except (OSError, KeyError, ValueError) as exc:
        raise RoadNetworkError(f"cannot read road CSV {path}: {exc}") from exc
    return graph


def _speed_kmh(tags: dict[str, str]) -> float:
    raw = tags.get("maxspeed", "").split(" ")[0]
    if raw.isdigit() and 5 <= int(raw) <= 130:
        return float(raw)
    return float(DEFAULT_SPEED_KMH.get(tags.get("highway", ""), 25))


def load_osm_xml(path: str | Path) -> RoadGraph:
    """Load drivable ways from an OSM XML file."""
    coords: dict[str, Point] = {}
    ways: list[tuple[list[str], dict[str, str]]] = []
    try:
        for _, elem in ET.iterparse(str(path), events=("end",)):
            if elem.tag == "node":
                coords[elem.attrib["id"]] = Point(
                    float(elem.attrib["lon"]), float(elem.attrib["lat"])
                )
                elem.clear()
            elif elem.tag == "way":
                tags = {t.attrib["k"]: t.attrib["v"] for t in elem.iter("tag")}
                if tags.get("highway") in DEFAULT_SPEED_KMH:
                    ways.append(([nd.attrib["ref"] for nd in elem.iter("nd")], tags))
                elem.clear()
    except (OSError, ET.ParseError, KeyError, ValueError) as exc:
        raise RoadNetworkError(f"cannot read OSM file {path}: {exc}") from exc
    graph = RoadGraph()
    for refs, tags in ways:
        refs = [r for r in refs if r in coords]
        oneway = tags.get("oneway", "")
        forward = oneway != "-1"
        backward = oneway in ("no", "-1") or (
            oneway not in ("yes", "true", "1")
            and tags.get("junction") != "roundabout"
            and tags.get("highway") != "motorway"
        )
        speed_mps = _speed_kmh(tags) / 3.6
        for a, b in zip(refs, refs[1:], strict=False):
            u, v = graph.node(a, coords[a]), graph.node(b, coords[b])
            length = haversine_m(coords[a], coords[b])
            if forward:
                graph.add_edge(u, v, length, length / speed_mps)
            if backward:
                graph.add_edge(v, u, length, length / speed_mps)
    if not graph.points:
        raise RoadNetworkError(f"no drivable ways in {path}")
    return graph


def load_roads(path: str | Path) -> RoadGraph:
    """Load a road file by extension: ``.csv`` edge list or ``.osm``/``.xml`` OSM XML."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return load_edges_csv(path)
    if suffix in (".osm", ".xml"):
        return load_osm_xml(path)
    raise RoadNetworkError(f"unknown road file type {suffix!r} (expected .csv or .osm)")
