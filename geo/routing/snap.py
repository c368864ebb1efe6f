"""Snapping of positions to the nearest road edge, exactly.

The segments of every road piece (one per twin pair of directed edges), in local metres, are
bucketed into square cells; a query visits rings of cells around the position until no unvisited
segment can be closer (:func:`geo.routing.kernels.nearest_segments`). The pieces are also sampled
every ``spacing_m`` metres for the isochrones (the time at which each sample point is reached).
"""

from __future__ import annotations

import math

import numpy as np

from geo.routing.kernels import build_cells, nearest_segments

#: Most cells of the lookup grid (the cell grows for very large regions).
MAX_CELLS = 4_000_000


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
