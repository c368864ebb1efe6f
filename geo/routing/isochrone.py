"""Isochrones: the road area reachable within T minutes from one or many origins.

One forward Dijkstra runs from a virtual node joined to every snapped origin. Each sample point of
the road network (the snapping samples, a few metres apart along every road piece) gets the time
at which it is reached, entering its edge from either end. Reached samples are put on a square grid
(``buffer_m / 2`` cells, local metres), the grid is dilated by ``buffer_m`` and the cells are merged
into a WGS 84 (Multi)Polygon. The area can only grow with T, since the reached set only grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.ndimage import binary_dilation

from geo.routing.exceptions import OutsideNetworkError
from geo.types import LonLat

if TYPE_CHECKING:
    from geo.routing.index import RoutingIndex, Snap


def reached_seconds(index: RoutingIndex, snap: Snap, limit_s: float) -> np.ndarray:
    """Seconds from the nearest snapped origin to every node (``inf`` beyond ``limit_s``)."""
    cols, w = index._virtual_row(snap, forward=True)
    return index.search(index._fwd_full, cols, w, np.zeros(len(w)), limit_s=limit_s).dist_s


def sample_seconds(index: RoutingIndex, snap: Snap, node_s: np.ndarray) -> np.ndarray:
    """Time at which each snapping sample point is reached (s, ``inf`` when not reached)."""
    sn = index._snapper
    edge, frac = sn.sample_edge, sn.sample_frac
    times = node_s[index.edge_u[edge]] + frac * index.edge_run_s[edge]
    twin = index.edge_twin[edge]
    has = twin >= 0
    back = np.full(len(edge), np.inf)
    tw = twin[has]
    back[has] = node_s[index.edge_u[tw]] + (1 - frac[has]) * index.edge_run_s[tw]
    times = np.minimum(times, back)
    for i in np.flatnonzero(snap.on_network):
        e, s = int(snap.edge[i]), float(snap.frac[i])
        off = float(snap.offroad_m[i]) / index.offroad_mps
        on_edge = np.flatnonzero((edge == e) | (edge == index.edge_twin[e]))
        f = np.where(edge[on_edge] == e, frac[on_edge], 1 - frac[on_edge])
        fwd = np.where(f >= s, off + (f - s) * index.edge_run_s[e], np.inf)
        t = int(index.edge_twin[e])
        if t >= 0:
            fwd = np.minimum(fwd, np.where(f <= s, off + (s - f) * index.edge_run_s[t], np.inf))
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
    index: RoutingIndex, origins: Sequence[LonLat], minutes: float, *, buffer_m: float = 40.0
) -> shapely.Geometry:
    """Polygon (lon/lat) of road reachable within ``minutes`` from any origin.

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
    snap = index.snap(origins)
    if not snap.on_network.any():
        raise OutsideNetworkError(
            "tidak ada titik asal di dekat jaringan jalan / no origin is near the road network"
        )
    node_s = reached_seconds(index, snap, limit_s)
    times = sample_seconds(index, snap, node_s)
    ok = times <= limit_s
    sn = index._snapper
    cell = buffer_m / 2.0
    xs, ys = sn.sample_x[ok], sn.sample_y[ok]
    xs = np.concatenate([xs, index.to_xy(snap.lon, snap.lat)[0][snap.on_network]])
    ys = np.concatenate([ys, index.to_xy(snap.lon, snap.lat)[1][snap.on_network]])
    r = 2
    gi, gj = np.floor(xs / cell).astype(np.int64), np.floor(ys / cell).astype(np.int64)
    i0, j0 = gi.min() - r, gj.min() - r
    grid = np.zeros((gi.max() - i0 + r + 1, gj.max() - j0 + r + 1), dtype=bool)
    grid[gi - i0, gj - j0] = True
    di, dj = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1), indexing="ij")
    grid = binary_dilation(grid, structure=(di**2 + dj**2) <= r * r + 1)
    cells = np.argwhere(grid) + np.array([i0, j0])
    area = _cells_polygon(cells, cell).simplify(cell / 2)
    return shapely.transform(area, lambda xy: np.column_stack(index.to_lonlat(xy[:, 0], xy[:, 1])))
