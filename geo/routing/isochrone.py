"""Isochrones: the road area reachable within T minutes from one or many origins.

One forward Dijkstra from a virtual node joined to every snapped origin; every edge whose tail is
reached contributes the part of it driven before the time runs out; the pieces are buffered by
``buffer_m`` metres in the local metric projection and returned as a WGS 84 (Multi)Polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.routing.exceptions import OutsideNetworkError
from geo.routing.path import _edge_xy
from geo.types import LonLat

if TYPE_CHECKING:
    from geo.routing.index import RoutingIndex


def reached_seconds(index: RoutingIndex, origins: Sequence[LonLat], limit_s: float) -> np.ndarray:
    """Seconds from the nearest origin to every node (``inf`` beyond ``limit_s``)."""
    snap = index.snap(origins)
    if not snap.on_network.any():
        raise OutsideNetworkError(
            "tidak ada titik asal di dekat jaringan jalan / no origin is near the road network"
        )
    cols, w = index._virtual_row(snap, forward=True)
    graph = index._graph(False, cols, w)
    return dijkstra(graph, directed=True, indices=index.n_nodes, limit=limit_s)


def isochrone(
    index: RoutingIndex, origins: Sequence[LonLat], minutes: float, *, buffer_m: float = 40.0
) -> shapely.Geometry:
    """Polygon (lon/lat) of road reachable within ``minutes`` from any origin."""
    limit_s = float(minutes) * 60.0
    if not limit_s > 0:
        raise ValueError("minutes must be positive")
    dist = reached_seconds(index, origins, limit_s)[: index.n_nodes]
    tail_s = dist[index.edge_u]
    reached = np.isfinite(tail_s)
    left = limit_s - tail_s
    full = reached & (left >= index.edge_travel_s)
    partial = np.flatnonzero(reached & ~full)
    lines = list(index.lines_xy[full])
    for e in partial:
        f = min(1.0, float(left[e] / index.edge_run_s[e]))
        if f > 0:
            lines.append(shapely.linestrings(_edge_xy(index, int(e), 0.0, f)))
    snap = index.snap(origins)
    for i in np.flatnonzero(snap.on_network):
        budget = limit_s - snap.offroad_m[i] / index.offroad_mps
        e, s = int(snap.edge[i]), float(snap.frac[i])
        for edge, start in ((e, s), (int(index.edge_twin[e]), 1 - s)):
            if edge >= 0 and budget > 0:
                end = min(1.0, start + budget / index.edge_run_s[edge])
                lines.append(shapely.linestrings(_edge_xy(index, edge, start, end)))
    area = shapely.union_all(shapely.buffer(np.array(lines), buffer_m, quad_segs=2))
    return shapely.transform(area, lambda xy: np.column_stack(index.to_lonlat(xy[:, 0], xy[:, 1])))
