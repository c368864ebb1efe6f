"""Exact lookup grid that answers most reverse-geocode points with array indexing only.

For one region, the lon/lat plane around it is cut into square cells. A cell is a *boundary
cell* when a polygon ring may cross it: every ring is sampled at spacing ≤ half a cell and the
cells holding a sample are dilated by one cell (3×3), which covers every cell a ring crosses.
All other cells are grouped into 4-connected components (``scipy.ndimage.label``); no ring
crosses a component, so every point of a component is covered by the same polygons, found once
by testing one cell centre. A distance transform over the boundary cells gives, per cell, a lower
bound of the distance in metres from any point of the cell to any ring (centre distance minus
one cell diagonal, with conservative metres-per-degree factors).

Lookup: a point in an "inside polygon i" component is ``exact`` i (no geometry operation); a point
in an "outside" component whose lower bound exceeds the tolerance is ``outside``; every other
point (boundary cells, near the polygons) is left to the exact shapely path.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy import ndimage

#: Component codes (besides polygon indices >= 0).
BOUNDARY, OUTSIDE = -1, -2
MAX_CELLS = 1_500_000
MIN_CELL_DEG = 0.0004
PAD_DEG = 0.02


def _ring_samples(geoms: np.ndarray, spacing: float) -> np.ndarray:
    rings = shapely.get_rings(shapely.get_parts(geoms))
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[1:] == ring_idx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    seg_len = np.hypot(*(b - a).T)
    n = np.maximum(np.ceil(seg_len / spacing).astype(np.int64), 1)
    seg = np.repeat(np.arange(a.shape[0]), n)
    start = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(seg.shape[0]) - start) / n[seg]
    pts = a[seg] + (b[seg] - a[seg]) * t[:, None]
    return np.vstack([pts, coords])


class CellGrid:
    """Lookup grid of one region (see module docstring)."""

    def __init__(self, tree: shapely.STRtree, geoms: np.ndarray,
                 bounds: tuple[float, float, float, float]) -> None:
        x0, y0, x1, y1 = bounds
        x0, y0, x1, y1 = x0 - PAD_DEG, y0 - PAD_DEG, x1 + PAD_DEG, y1 + PAD_DEG
        cell = max(MIN_CELL_DEG, math.sqrt((x1 - x0) * (y1 - y0) / MAX_CELLS))
        nx, ny = int(math.ceil((x1 - x0) / cell)), int(math.ceil((y1 - y0) / cell))
        self.x0, self.y0, self.cell, self.nx, self.ny = x0, y0, cell, nx, ny

        samples = _ring_samples(geoms, cell / 2.0)
        ix = np.clip(((samples[:, 0] - x0) / cell).astype(np.int64), 0, nx - 1)
        iy = np.clip(((samples[:, 1] - y0) / cell).astype(np.int64), 0, ny - 1)
        boundary = np.zeros((ny, nx), dtype=bool)
        boundary[iy, ix] = True
        boundary = ndimage.binary_dilation(boundary, structure=np.ones((3, 3), dtype=bool))

        labels, n_comp = ndimage.label(~boundary)
        flat = labels.ravel()
        comp_ids, first = np.unique(flat, return_index=True)
        code = np.full(n_comp + 1, OUTSIDE, dtype=np.int64)
        code[0] = BOUNDARY
        keep = comp_ids > 0
        comp_ids, first = comp_ids[keep], first[keep]
        cy, cx = np.divmod(first, nx)
        centres = shapely.points(x0 + (cx + 0.5) * cell, y0 + (cy + 0.5) * cell)
        pi, gi = tree.query(centres, predicate="covered_by")
        if pi.size:
            best = np.full(comp_ids.shape[0], np.iinfo(np.int64).max)
            np.minimum.at(best, pi, gi)
            hit = best != np.iinfo(np.int64).max
            code[comp_ids[hit]] = best[hit]
        self.cell_code = code[labels].astype(np.int32)

        # Conservative metres per degree (lower bounds) over the grid's latitude range.
        max_abs_lat = min(max(abs(y0), abs(y1 + cell)), 89.0)
        m_lat = 110_574.0 * 0.999
        m_lon = 111_320.0 * math.cos(math.radians(max_abs_lat)) * 0.999
        edt = ndimage.distance_transform_edt(~boundary, sampling=(cell * m_lat, cell * m_lon))
        diag_m = cell * math.hypot(111_700.0, 111_320.0) * 1.001
        self.clear_m = (np.asarray(edt) - diag_m).astype(np.float32)

    def lookup(self, lons: np.ndarray, lats: np.ndarray, tolerance_m: float
               ) -> tuple[np.ndarray, np.ndarray]:
        """(polygon index or code, in-grid mask) per point; codes per the module docstring.

        Returns polygon index >= 0 for exact, OUTSIDE for resolved outside, BOUNDARY for
        "use the exact path" (also for points off the grid).
        """
        fx = (lons - self.x0) / self.cell
        fy = (lats - self.y0) / self.cell
        ok = (fx >= 0) & (fy >= 0) & (fx < self.nx) & (fy < self.ny)
        out = np.full(lons.shape[0], BOUNDARY, dtype=np.int64)
        w = np.flatnonzero(ok)
        ix, iy = fx[w].astype(np.int64), fy[w].astype(np.int64)
        code = self.cell_code[iy, ix].astype(np.int64)
        resolved = code >= 0
        far = (code == OUTSIDE) & (self.clear_m[iy, ix] > tolerance_m)
        out[w[resolved]] = code[resolved]
        out[w[far]] = OUTSIDE
        return out, ok
