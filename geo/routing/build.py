"""Read a roads file with osmnx and compile it into routing arrays for one vehicle profile.

Inputs: raw OSM XML (``.osm``, ``.osm.bz2``), OSM PBF (``.osm.pbf``, converted to XML with
``osmium``) and osmnx GraphML (``.graphml``). Coordinates are WGS 84 (EPSG:4326); lengths are
metres (osmnx great-circle lengths), times seconds.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.exceptions import RoadNetworkError
from geo.routing.profiles import VehicleProfile

#: Smallest travel time of an edge (s); zero-length OSM segments would otherwise be 0-weight edges.
MIN_EDGE_S = 1e-3
#: A weakly connected piece smaller than this share of the largest one is dropped at compile time,
#: so that positions snap to the network a vehicle can actually leave (not a clipped fragment).
MIN_COMPONENT_SHARE = 0.01
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")


def _osm_from_pbf(source: Path, workdir: Path) -> Path:
    import osmium

    target = workdir / (source.name.removesuffix(".pbf") or "roads.osm")
    if not target.name.endswith(".osm"):
        target = target.with_suffix(".osm")
    writer = osmium.SimpleWriter(str(target))
    try:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
    finally:
        writer.close()
    return target


def _mark_signals(graph: nx.MultiDiGraph) -> None:
    for _, data in graph.nodes(data=True):
        if data.get("highway") == "traffic_signals":
            data["signal"] = True


def read_graph(source: Path, *, simplify: bool = True) -> nx.MultiDiGraph:
    """Load a roads file into an osmnx ``MultiDiGraph`` (all components kept).

    Traffic-signal nodes are kept as graph nodes when simplifying so that signal penalties can be
    applied, and edges of different ``highway`` classes are not merged.

    Raises
    ------
    RoadNetworkError
        Unknown file type, unreadable file or no drivable highway in it.
    """
    import osmnx as ox

    source = Path(source)
    name = source.name.lower()
    if not source.is_file():
        raise RoadNetworkError(f"roads file not found: {source}")
    try:
        if name.endswith(".graphml"):
            graph = ox.load_graphml(source)
        elif name.endswith((".osm", ".osm.bz2", ".xml", ".osm.pbf", ".pbf")):
            with tempfile.TemporaryDirectory(prefix="siaga-roads-") as tmp:
                xml = _osm_from_pbf(source, Path(tmp)) if name.endswith(".pbf") else source
                graph = ox.graph_from_xml(xml, simplify=False, retain_all=True)
            if simplify and len(graph):
                _mark_signals(graph)
                graph = ox.simplify_graph(
                    graph, node_attrs_include=["signal"], edge_attrs_differ=["highway"]
                )
        else:
            raise RoadNetworkError(
                f"unsupported roads file {source.name}: use .osm, .osm.bz2, .osm.pbf or .graphml"
            )
    except RoadNetworkError:
        raise
    except Exception as exc:  # osmnx/osmium raise many types for bad files
        if "no graph nodes" in str(exc).lower() or "found no graph" in str(exc).lower():
            raise RoadNetworkError(
                f"file {source.name} tidak berisi jalan yang dapat dilalui / "
                f"contains no drivable highways"
            ) from exc
        raise RoadNetworkError(f"cannot read roads file {source.name}: {exc}") from exc
    if graph.number_of_edges() == 0:
        raise RoadNetworkError(
            f"file {source.name} tidak berisi jalan yang dapat dilalui / "
            f"contains no drivable highways"
        )
    _mark_signals(graph)
    return graph


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def parse_maxspeed_kmh(value: Any) -> float | None:
    """A tagged ``maxspeed`` in km/h, or ``None`` when absent or not a plain number."""
    values = value if isinstance(value, list) else [value]
    parsed = []
    for raw in values:
        match = _MAXSPEED.match(str(raw)) if raw is not None else None
        if match:
            kmh = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1.0)
            if 5.0 <= kmh <= 150.0:
                parsed.append(kmh)
    return min(parsed) if parsed else None


def _name(value: Any) -> str:
    if isinstance(value, list):
        return " / ".join(str(v) for v in value if v)
    return "" if value is None or value != value else str(value)


_CLOSED_ACCESS = frozenset({"no", "private"})


def _edge_speed_kmh(data: dict[str, Any], profile: VehicleProfile) -> float | None:
    access = data.get("access")
    if any(str(a) in _CLOSED_ACCESS for a in (access if isinstance(access, list) else [access])):
        return None
    if str(_first(data.get("area"))).lower() == "yes":
        return None
    classes = data.get("highway")
    classes = classes if isinstance(classes, list) else [classes]
    speeds = [profile.speed_for(str(c)) for c in classes if c is not None]
    if not speeds or any(s is None for s in speeds):
        return None
    speed = min(s for s in speeds if s is not None)
    tagged = parse_maxspeed_kmh(data.get("maxspeed"))
    if tagged is not None:
        speed = min(tagged, profile.max_speed_kmh)
    return speed


def _line(data: dict[str, Any], u: dict[str, Any], v: dict[str, Any]) -> list[tuple[float, float]]:
    geom = data.get("geometry")
    if geom is not None:
        return [(float(x), float(y)) for x, y in geom.coords]
    return [(float(u["x"]), float(u["y"])), (float(v["x"]), float(v["y"]))]


def _is_oneway(data: dict[str, Any]) -> bool:
    value = data.get("oneway")
    value = _first(value) if isinstance(value, list) else value
    return value is True or str(value).lower() in ("true", "yes", "1", "-1")


def compile_graph(graph: nx.MultiDiGraph, profile: VehicleProfile) -> dict[str, np.ndarray]:
    """Turn an osmnx graph into the arrays of a routing index for ``profile``.

    Returns a dict of numpy arrays (see :class:`geo.routing.index.RoutingIndex`): node
    coordinates, one row per directed edge (parallel edges reduced to the fastest), travel seconds
    and metres, edge geometry, street names and forward/reversed CSR adjacency.

    Raises
    ------
    RoadNetworkError
        When no road of the graph is usable by the profile.
    """
    nodes = graph.nodes
    rows: dict[tuple[Any, Any], tuple[float, float, float, str, str, list]] = {}
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        speed = _edge_speed_kmh(data, profile)
        if speed is None:
            continue
        length_m = float(data.get("length") or 0.0)
        run_s = length_m / (speed / 3.6)
        penalty_s = profile.signal_penalty_s if nodes[v].get("signal") else 0.0
        highway = str(_first(data.get("highway")))
        line = _line(data, nodes[u], nodes[v])
        candidates = [(u, v, line, penalty_s)]
        if profile.ignore_oneway and _is_oneway(data):
            back_s = profile.signal_penalty_s if nodes[u].get("signal") else 0.0
            candidates.append((v, u, line[::-1], back_s))
        for a, b, geom, pen_s in candidates:
            item = (run_s, pen_s, length_m, _name(data.get("name")), highway, geom)
            best = rows.get((a, b))
            if best is None or run_s + pen_s < best[0] + best[1]:
                rows[(a, b)] = item
    if not rows:
        raise RoadNetworkError(
            f"tidak ada jalan yang boleh dilalui profil {profile.name!r} / "
            f"no road usable by profile {profile.name!r}"
        )
    return _arrays(graph, rows)


def _keep_components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    adj = csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = connected_components(adj, directed=True, connection="weak")
    sizes = np.bincount(labels)
    keep = sizes >= max(2, MIN_COMPONENT_SHARE * sizes.max())
    return keep[labels]


def _csr(n: int, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(key, kind="stable").astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=n), out=indptr[1:])
    return indptr.astype(np.int32), order


def _arrays(graph: nx.MultiDiGraph, rows: dict) -> dict[str, np.ndarray]:
    used = sorted({n for pair in rows for n in pair}, key=lambda x: (str(type(x)), x))
    pos = {n: i for i, n in enumerate(used)}
    keys = list(rows)
    u = np.array([pos[a] for a, _ in keys], dtype=np.int64)
    v = np.array([pos[b] for _, b in keys], dtype=np.int64)
    keep_node = _keep_components(len(used), u, v)
    edge_keep = keep_node[u]
    keys = [k for k, ok in zip(keys, edge_keep, strict=True) if ok]
    used = [n for n, ok in zip(used, keep_node, strict=True) if ok]
    pos = {n: i for i, n in enumerate(used)}
    n = len(used)
    u = np.array([pos[a] for a, _ in keys], dtype=np.int32)
    v = np.array([pos[b] for _, b in keys], dtype=np.int32)
    run_s = np.array([rows[k][0] for k in keys], dtype=np.float64)
    penalty_s = np.array([rows[k][1] for k in keys], dtype=np.float64)
    run_s = np.maximum(run_s, MIN_EDGE_S)
    names = [rows[k][3] for k in keys]
    name_table = sorted(set(names))
    name_pos = {s: i for i, s in enumerate(name_table)}
    highway_table = sorted({rows[k][4] for k in keys})
    hw_pos = {s: i for i, s in enumerate(highway_table)}
    geoms = [rows[k][5] for k in keys]
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum([len(g) for g in geoms], out=offsets[1:])
    coords = np.array([p for g in geoms for p in g], dtype=np.float64)
    index_of = {(a, b): i for i, (a, b) in enumerate(keys)}
    twin = np.array([index_of.get((b, a), -1) for a, b in keys], dtype=np.int32)
    fwd_indptr, fwd_edge = _csr(n, u)
    rev_indptr, rev_edge = _csr(n, v)
    osmid = np.array([_as_int(x) for x in used], dtype=np.int64)
    return {
        "node_osmid": osmid,
        "node_lon": np.array([float(graph.nodes[x]["x"]) for x in used]),
        "node_lat": np.array([float(graph.nodes[x]["y"]) for x in used]),
        "edge_u": u,
        "edge_v": v,
        "edge_run_s": run_s,
        "edge_penalty_s": penalty_s,
        "edge_length_m": np.array([rows[k][2] for k in keys], dtype=np.float64),
        "edge_name": np.array([name_pos[s] for s in names], dtype=np.int32),
        "edge_highway": np.array([hw_pos[rows[k][4]] for k in keys], dtype=np.int32),
        "edge_twin": twin,
        "geom_offsets": offsets,
        "geom_lon": coords[:, 0].copy(),
        "geom_lat": coords[:, 1].copy(),
        "names": np.array(name_table, dtype=str),
        "highways": np.array(highway_table, dtype=str),
        "fwd_indptr": fwd_indptr,
        "fwd_edge": fwd_edge,
        "rev_indptr": rev_indptr,
        "rev_edge": rev_edge,
    }


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def drivable_classes(graph: nx.MultiDiGraph) -> Iterable[str]:
    """The distinct ``highway`` classes present in a graph (for reports)."""
    seen: set[str] = set()
    for _, _, data in graph.edges(data=True):
        value = data.get("highway")
        for c in value if isinstance(value, list) else [value]:
            if c is not None:
                seen.add(str(c))
    return sorted(seen)
