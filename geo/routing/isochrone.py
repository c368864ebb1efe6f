"""Isochrones: the road area reachable within T minutes from one or many origins.

One forward Dijkstra runs from a virtual node joined to every snapped origin. Each sample point of
the road network (the snapping samples, a few metres apart along every road piece) gets the time
at which it is reached, entering its edge from either end. Reached samples are put on a square grid
(``buffer_m / 2`` cells, local metres), the grid is dilated by ``buffer_m`` and the cells are merged
into a WGS 84 (Multi)Polygon. The area can only grow with T, since the reached set only grows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from scipy.ndimage import binary_dilation

from geo.routing.dijkstra import search
from geo.routing.exceptions import OutsideNetworkError
from geo.routing.graph import Csr, RoadGraph
from geo.routing.results import Snap
from geo.routing.snap import EdgeSnapper, snap_points
from geo.types import LonLat


def _origin_row(graph: RoadGraph, snap: Snap) -> tuple[np.ndarray, np.ndarray]:
    """Columns/weights of the edges of a virtual node joined to snapped origins: it leaves
    towards the heads of each snapped edge (and its twin), after the off-road leg."""
    e, s = snap.edge[snap.on_network], snap.frac[snap.on_network]
    off = snap.offroad_m[snap.on_network] / graph.offroad_mps
    t = graph.edge_twin[e]
    has = t >= 0
    node = snap.node[snap.on_network]
    at = node >= 0
    cols = np.concatenate([graph.edge_v[e], graph.edge_v[t[has]], node[at]])
    w = np.concatenate(
        [
            off + (1 - s) * graph.edge_run_s[e] + graph.edge_penalty_s[e],
            off[has] + s[has] * graph.edge_run_s[t[has]] + graph.edge_penalty_s[t[has]],
            off[at],
        ]
    )
    uniq, inv = np.unique(cols, return_inverse=True)
    best = np.full(len(uniq), np.inf)
    np.minimum.at(best, inv, w)
    return uniq.astype(np.int32), best


def reached_seconds(graph: RoadGraph, forward: Csr, snap: Snap, limit_s: float) -> np.ndarray:
    """Seconds from the nearest snapped origin to every node (``inf`` beyond ``limit_s``);
    ``forward`` is the whole graph as rows of out-edges."""
    cols, w = _origin_row(graph, snap)
    return search(forward, graph.n_nodes, cols, w, np.zeros(len(w)), limit_s=limit_s).dist_s


def sample_seconds(
    graph: RoadGraph, sn: EdgeSnapper, snap: Snap, node_s: np.ndarray
) -> np.ndarray:
    """Time at which each snapping sample point is reached (s, ``inf`` when not reached)."""
    edge, frac = sn.sample_edge, sn.sample_frac
    times = node_s[graph.edge_u[edge]] + frac * graph.edge_run_s[edge]
    twin = graph.edge_twin[edge]
    has = twin >= 0
    back = np.full(len(edge), np.inf)
    tw = twin[has]
    back[has] = node_s[graph.edge_u[tw]] + (1 - frac[has]) * graph.edge_run_s[tw]
    times = np.minimum(times, back)
    for i in np.flatnonzero(snap.on_network):
        e, s = int(snap.edge[i]), float(snap.frac[i])
        off = float(snap.offroad_m[i]) / graph.offroad_mps
        on_edge = np.flatnonzero((edge == e) | (edge == graph.edge_twin[e]))
        f = np.where(edge[on_edge] == e, frac[on_edge], 1 - frac[on_edge])
        fwd = np.where(f >= s, off + (f - s) * graph.edge_run_s[e], np.inf)
        t = int(graph.edge_twin[e])
        if t >= 0:
            fwd = np.minimum(fwd, np.where(f <= s, off + (s - f) * graph.edge_run_s[t], np.inf))
        times[on_edge] = np.minimum(times[on_edge], fwd)
    return times


def _cells_polygon(cells: np.ndarray, size_m: float) -> shapely.Geometry:
    """Union of grid cells (integer i, j pairs), merging horizontal runs into rectangles first."""
    order = np.lexsort((cells[:, 0], cells[:, 1]))
    i, j = cells[order, 0], cells[order, 1]
    new_run = np.ones(len(i), dtype=bool)
    new_run[1:] = (j[1:] != j[:-1]) | (i[1:] != i[:-1] + 1)
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], len(i)) - 1
    boxes = shapely.box(
        i[starts] * size_m, j[starts] * size_m, (i[ends] + 1) * size_m, (j[starts] + 1) * size_m
    )
    return shapely.coverage_union_all(boxes)


def isochrone(
    graph: RoadGraph, snapper: EdgeSnapper, forward: Csr, origins: Sequence[LonLat],
    minutes: float, *, max_snap_m: float, buffer_m: float = 40.0,
) -> shapely.Geometry:
    """Polygon (lon/lat) of road reachable within ``minutes`` from any origin.

    ``snapper`` snaps the origins (at most ``max_snap_m`` metres off the road); ``forward`` is
    the whole graph as rows of out-edges.

    Raises
    ------
    ValueError
        ``minutes`` or ``buffer_m`` not positive.
    OutsideNetworkError
        No origin is within the snapping distance of the road network.
    """
    limit_s = float(minutes) * 60.0
    if not limit_s > 0 or not buffer_m > 0:
        raise ValueError("minutes and buffer_m must be positive")
    snap = snap_points(graph, snapper, origins, max_snap_m)
    if not snap.on_network.any():
        raise OutsideNetworkError(
            "tidak ada titik asal di dekat jaringan jalan / no origin is near the road network"
        )
    node_s = reached_seconds(graph, forward, snap, limit_s)
    times = sample_seconds(graph, snapper, snap, node_s)
    ok = times <= limit_s
    sn = snapper
    cell = buffer_m / 2.0
    xs, ys = sn.sample_x[ok], sn.sample_y[ok]
    xs = np.concatenate([xs, graph.to_xy(snap.lon, snap.lat)[0][snap.on_network]])
    ys = np.concatenate([ys, graph.to_xy(snap.lon, snap.lat)[1][snap.on_network]])
    r = 2
    gi, gj = np.floor(xs / cell).astype(np.int64), np.floor(ys / cell).astype(np.int64)
    i0, j0 = gi.min() - r, gj.min() - r
    grid = np.zeros((gi.max() - i0 + r + 1, gj.max() - j0 + r + 1), dtype=bool)
    grid[gi - i0, gj - j0] = True
    di, dj = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1), indexing="ij")
    grid = binary_dilation(grid, structure=(di**2 + dj**2) <= r * r + 1)
    cells = np.argwhere(grid) + np.array([i0, j0])
    area = _cells_polygon(cells, cell).simplify(cell / 2)
    return shapely.transform(area, lambda xy: np.column_stack(graph.to_lonlat(xy[:, 0], xy[:, 1])))
