"""Snapping of positions to the nearest road edge, exactly.

The segments of every road piece (one per twin pair of directed edges), in local metres, are
bucketed into square cells; a query visits rings of cells around the position until no unvisited
segment can be closer (:func:`geo.routing.kernels.nearest_segments`). The pieces are also sampled
every ``spacing_m`` metres for the isochrones (the time at which each sample point is reached).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain

import numpy as np

from geo.routing.graph import RoadGraph
from geo.routing.kernels import build_cells, nearest_segments
from geo.routing.results import Snap
from geo.types import LonLat, validate_lonlat

#: Most cells of the lookup grid (the cell grows for very large regions).
MAX_CELLS = 4_000_000
#: A snapped point this close (m) to an end of its edge is at that graph node.
AT_NODE_M = 0.01


class EdgeSnapper:
    """Nearest-edge lookup over ragged edge geometries given in local metres.

    Parameters
    ----------
    offsets
        ``E + 1`` offsets of each edge's coordinates in ``x``/``y``.
    x, y
        Concatenated edge coordinates, metres (local projection).
    edges
        The edge ids to index (one per physical road piece).
    spacing_m
        Largest gap between the isochrone sample points along a segment.
    cell_m
        Side of the lookup cells (grown when the region would need more than ``MAX_CELLS``).
    """

    def __init__(
        self,
        offsets: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        edges: np.ndarray,
        *,
        spacing_m: float = 8.0,
        cell_m: float = 40.0,
    ) -> None:
        self.x, self.y = x, y
        coord_edge = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        is_seg = np.zeros(len(x), dtype=bool)
        is_seg[:-1] = coord_edge[:-1] == coord_edge[1:]
        seg_len = np.zeros(len(x))
        seg_len[is_seg] = np.hypot(np.diff(x), np.diff(y))[is_seg[:-1]]
        cum = np.cumsum(seg_len)
        # metres from the edge's first coordinate to each coordinate
        start_cum = np.concatenate([[0.0], cum])[offsets[:-1]]
        self.coord_cum = np.concatenate([[0.0], cum[:-1]]) - start_cum[coord_edge]
        last = offsets[1:] - 1
        self.edge_len_xy = self.coord_cum[last]
        self.seg_len = seg_len
        self.coord_edge = coord_edge
        wanted = np.zeros(len(offsets) - 1, dtype=bool)
        wanted[edges] = True
        segs = np.flatnonzero(is_seg & wanted[coord_edge])
        count = np.maximum(1, np.ceil(seg_len[segs] / spacing_m).astype(np.int64)) + 1
        seg_of = np.repeat(segs, count)
        first = np.repeat(np.cumsum(count) - count, count)
        t = (np.arange(len(seg_of)) - first) / np.repeat(count - 1, count)
        px = x[seg_of] + t * (x[seg_of + 1] - x[seg_of])
        py = y[seg_of] + t * (y[seg_of + 1] - y[seg_of])
        self.sample_seg = seg_of
        self.sample_x, self.sample_y = px, py
        self.sample_edge = coord_edge[seg_of]
        with np.errstate(invalid="ignore", divide="ignore"):
            along = self.coord_cum[seg_of] + t * seg_len[seg_of]
            length = self.edge_len_xy[self.sample_edge]
            self.sample_frac = np.where(length > 0, along / length, 0.0)
        ends = np.concatenate([segs, segs + 1])
        if len(ends):
            self.x0, self.y0 = float(x[ends].min()), float(y[ends].min())
            width, height = float(x[ends].max()) - self.x0, float(y[ends].max()) - self.y0
        else:
            self.x0 = self.y0 = width = height = 0.0
        cell = max(float(cell_m), math.sqrt(max(width, 1.0) * max(height, 1.0) / MAX_CELLS))
        self.cell = cell
        self.nx = int(width // cell) + 2
        self.ny = int(height // cell) + 2
        self.cell_ptr, self.cell_seg = build_cells(
            x, y, segs.astype(np.int64), self.x0, self.y0, cell, self.nx, self.ny
        )

    def query(
        self, qx: np.ndarray, qy: np.ndarray, max_distance_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Snap points; returns ``edge`` (-1 when farther than ``max_distance_m``), ``frac``
        along the edge, distance in metres (NaN when too far) and the snapped ``x``, ``y``
        (the position itself when too far)."""
        return nearest_segments(
            np.ascontiguousarray(qx, dtype=np.float64),
            np.ascontiguousarray(qy, dtype=np.float64),
            self.x, self.y, self.cell_ptr, self.cell_seg, self.x0, self.y0, self.cell,
            self.nx, self.ny, self.coord_edge, self.coord_cum, self.seg_len, self.edge_len_xy,
            float(max_distance_m),
        )


def as_array(points: Sequence[LonLat] | np.ndarray) -> np.ndarray:
    """(n, 2) float array of lon, lat from LonLat items (or an array passed through)."""
    if isinstance(points, np.ndarray):
        return points.astype(np.float64, copy=False).reshape(-1, 2)
    try:
        flat = np.fromiter(chain.from_iterable(points), dtype=np.float64, count=2 * len(points))
    except (TypeError, ValueError):
        flat = np.asarray(points, dtype=np.float64)
    return flat.reshape(len(points), 2)


def snap_points(
    graph: RoadGraph, snapper: EdgeSnapper, points: Sequence[LonLat] | np.ndarray,
    max_snap_m: float,
) -> Snap:
    """Snap WGS 84 positions to the nearest road edge of ``graph`` (vectorised).

    Positions farther than ``max_snap_m`` metres from every road get ``edge == -1``.

    Raises
    ------
    InvalidCoordinateError
        NaN, infinite or out-of-range coordinates.
    """
    count = len(points)
    if count == 0:
        empty = np.zeros(0)
        none = np.zeros(0, dtype=np.int64)
        return Snap(none, empty, empty, empty, empty, none)
    arr = as_array(points)
    if not (np.isfinite(arr).all() and (np.abs(arr) <= (180.0, 90.0)).all()):
        for lon, lat in arr:
            validate_lonlat(lon, lat)
    x, y = graph.to_xy(arr[:, 0], arr[:, 1])
    edge, frac, offroad, sx, sy = snapper.query(x, y, max_snap_m)
    lon, lat = graph.to_lonlat(sx, sy)
    e = np.maximum(edge, 0)
    along_m = frac * graph.edge_length_m[e]
    node = np.where(along_m <= AT_NODE_M, graph.edge_u[e], -1)
    node = np.where(graph.edge_length_m[e] - along_m <= AT_NODE_M, graph.edge_v[e], node)
    return Snap(edge, frac, offroad, lon, lat, np.where(edge >= 0, node, -1))
