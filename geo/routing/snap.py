"""Vectorised snapping of positions to the nearest road edge.

Every road piece (one per twin pair of directed edges) is densified into points at most
``spacing_m`` apart along its segments, in local metres. A KD-tree query returns the ``k`` nearest
sample points; each names a segment, onto which the position is projected exactly; the closest
projection wins. The result is exact whenever one of the ``k`` samples lies on the nearest
segment, and otherwise within ``spacing_m / 2`` of it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


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
        Largest gap between sample points along a segment.
    """

    def __init__(
        self,
        offsets: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        edges: np.ndarray,
        *,
        spacing_m: float = 8.0,
        k: int = 4,
    ) -> None:
        self.k = k
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
        self.tree = cKDTree(np.column_stack([px, py]), leafsize=16, balanced_tree=False)

    def query(
        self, qx: np.ndarray, qy: np.ndarray, max_distance_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Snap points; returns ``edge`` (-1 when farther than ``max_distance_m``), ``frac``
        along the edge, distance in metres and the snapped ``x``, ``y``."""
        n = len(qx)
        _, idx = self.tree.query(
            np.column_stack([qx, qy]), k=self.k, distance_upper_bound=max_distance_m + 50.0
        )
        idx = idx.reshape(n, self.k)
        valid = idx < len(self.sample_seg)
        seg = self.sample_seg[np.where(valid, idx, 0)]
        ax, ay = self.x[seg], self.y[seg]
        dx, dy = self.x[seg + 1] - ax, self.y[seg + 1] - ay
        norm2 = dx * dx + dy * dy
        px, py = qx[:, None] - ax, qy[:, None] - ay
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.where(norm2 > 0, (px * dx + py * dy) / norm2, 0.0), 0.0, 1.0)
        sx, sy = ax + t * dx, ay + t * dy
        dist = np.hypot(qx[:, None] - sx, qy[:, None] - sy)
        dist = np.where(valid, dist, np.inf)
        best = np.argmin(dist, axis=1)
        rows = np.arange(n)
        d = dist[rows, best]
        s, tb = seg[rows, best], t[rows, best]
        edge = self.coord_edge[s]
        length = self.edge_len_xy[edge]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(length > 0, (self.coord_cum[s] + tb * self.seg_len[s]) / length, 0.0)
        ok = d <= max_distance_m
        return (
            np.where(ok, edge, -1),
            np.clip(frac, 0.0, 1.0),
            np.where(ok, d, np.nan),
            sx[rows, best],
            sy[rows, best],
        )
