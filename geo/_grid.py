"""Exact lookup grid of one region: most reverse-geocode points need array indexing only.

The lon/lat plane around a region (EPSG:4326 degrees) is cut into square cells.

* **Boundary cells**: a polygon ring may cross them. Every ring is sampled at spacing ≤ half a
  cell and the cells holding a sample are dilated by one cell (3×3), which covers every cell a
  ring crosses. Each boundary cell keeps its *cover candidates*: the polygons with a ring sample
  in its 3×3 neighbourhood, plus those covering its centre (a polygon covering any point of the
  cell is one or the other).
* All other cells are grouped into 4-connected components (``scipy.ndimage.label``). No ring
  crosses a component, so every point of it is covered by the same polygons, found once by testing
  one cell centre: the component is "inside polygon i" (smallest index) or "outside".
* ``clear_m``: per cell, a lower bound of the distance in metres from any point of the cell to any
  ring (Euclidean distance transform over the boundary cells with conservative metres-per-degree
  factors, then tightened with the exact segment distances below).
* **Near cells** (boundary cells, and outside cells within ``near_m`` of a ring) keep their
  *nearest candidates*: every ring segment whose distance from the cell centre is at most
  ``d_min + 2 r + TIE_EPSILON_M`` (``d_min``: nearest segment from the centre, ``r``: bound of the
  centre-to-corner distance), which contains, for any point of the cell, its nearest segment and
  every segment within the tie epsilon of it. Distances are in metres on the region's transverse
  Mercator projection, the same projection and segments as the exact shapely path.

:meth:`CellGrid.resolve` answers a point from these tables alone (``shapely.intersects_xy`` on
1–3 prepared polygons for boundary cells, vectorised segment distances for near cells) and leaves
only points off the grid, or farther than ``near_m`` yet within the tolerance, to the caller.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Transformer
from scipy import ndimage

from geo._segment import expand_pairs, ring_segments, segment_distance

#: Component codes (besides polygon indices >= 0).
BOUNDARY, OUTSIDE = -1, -2
#: Batch match codes (``geo.geocode.MATCH_*``) and the nearest tie epsilon, metres.
MATCH_EXACT, MATCH_NEAREST, MATCH_OUTSIDE = 0, 1, 2
TIE_EPSILON_M = 0.01
MAX_CELLS = 4_000_000
MIN_CELL_DEG = 0.0004
PAD_DEG = 0.01
#: Upper bound of metres per degree (latitude or longitude) on the WGS 84 ellipsoid, with
#: transverse Mercator scale error included.
_M_PER_DEG_MAX = 111_700.0
_MARGIN_M = 0.01
_CHUNK = 50_000


def _ring_samples(geoms: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points on every ring of ``geoms`` at most ``spacing`` apart (every vertex included).

    Returns the points (n, 2), the index of the ring segment each lies on (numbered by
    :func:`geo._segment.ring_segments`) and the index of its geometry in ``geoms``.
    """
    a, b, owner = ring_segments(geoms)
    seg_len = np.hypot(*(b - a).T)
    n = np.maximum(np.ceil(seg_len / spacing).astype(np.int64), 1)
    seg = np.repeat(np.arange(a.shape[0]), n)
    start = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(seg.shape[0]) - start) / n[seg]
    pts = a[seg] + (b[seg] - a[seg]) * t[:, None]
    # Closed rings: each segment's end point is the next segment's start point, already sampled.
    return pts, seg, owner[seg]


def _approx_distance(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Point-to-segment distance (metres) within ~1e-6 m of GEOS's; for bounds only."""
    ax, ay, bx, by = seg.T
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0)
    t[len2 == 0.0] = 0.0
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _csr(group: np.ndarray, n_groups: int) -> np.ndarray:
    """CSR offsets of a non-decreasing ``group`` array."""
    ptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(group, minlength=n_groups), out=ptr[1:])
    return ptr


class CellGrid:
    """Lookup grid of one region (see module docstring).

    Parameters
    ----------
    tree : shapely.STRtree
        Tree over every desa polygon (lon/lat degrees); its indices are the answers.
    prepared : numpy.ndarray of shapely geometries
        The same polygons, prepared (``shapely.prepare``), in tree order.
    polygon_index : numpy.ndarray of int64
        Tree indices of the region's polygons.
    bounds : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` of the region, degrees.
    to_metric : pyproj.Transformer
        lon/lat → the region's transverse Mercator (metres).
    seg_xy : numpy.ndarray of float64, shape (n, 4)
        Ring segments ``(ax, ay, bx, by)`` in that projection, metres.
    seg_polygon : numpy.ndarray of int64
        Tree index of the polygon of each segment.
    seg_tree : shapely.STRtree
        Tree over the segments as 2-point LineStrings (metres).
    near_m : float
        Outside cells within this distance of a ring (metres) get nearest candidates.
    """

    def __init__(self, tree: shapely.STRtree, prepared: np.ndarray, polygon_index: np.ndarray,
                 bounds: tuple[float, float, float, float], to_metric: Transformer,
                 seg_xy: np.ndarray, seg_polygon: np.ndarray, seg_tree: shapely.STRtree,
                 near_m: float) -> None:
        x0, y0, x1, y1 = bounds
        x0, y0, x1, y1 = x0 - PAD_DEG, y0 - PAD_DEG, x1 + PAD_DEG, y1 + PAD_DEG
        cell = max(MIN_CELL_DEG, math.sqrt((x1 - x0) * (y1 - y0) / MAX_CELLS))
        nx, ny = int(math.ceil((x1 - x0) / cell)), int(math.ceil((y1 - y0) / cell))
        self.x0, self.y0, self.cell, self.nx, self.ny = x0, y0, cell, nx, ny
        self.prepared, self.to_metric = prepared, to_metric
        self.seg_xy, self.seg_polygon = seg_xy, seg_polygon
        if np.any(np.diff(seg_polygon) < 0):
            raise ValueError("segments must be numbered polygon by polygon in index order")

        samples, sample_seg, sample_poly = _ring_samples(prepared[polygon_index], cell / 2.0)
        ix = np.clip(((samples[:, 0] - x0) / cell).astype(np.int64), 0, nx - 1)
        iy = np.clip(((samples[:, 1] - y0) / cell).astype(np.int64), 0, ny - 1)
        boundary = np.zeros((ny, nx), dtype=bool)
        boundary[iy, ix] = True
        boundary = ndimage.binary_dilation(boundary, structure=np.ones((3, 3), dtype=bool))

        labels, n_comp = ndimage.label(~boundary)
        flat = labels.ravel()
        # One cell of each component (any cell will do: the coverage is the same throughout).
        some_cell = np.zeros(n_comp + 1, dtype=np.int64)
        some_cell[flat] = np.arange(flat.shape[0])
        code = np.full(n_comp + 1, OUTSIDE, dtype=np.int64)
        code[0] = BOUNDARY
        comp_ids = np.arange(1, n_comp + 1)
        cy, cx = np.divmod(some_cell[1:], nx)
        centres = shapely.points(x0 + (cx + 0.5) * cell, y0 + (cy + 0.5) * cell)
        pi, gi = tree.query(centres, predicate="covered_by")
        if pi.size:
            best = np.full(comp_ids.shape[0], np.iinfo(np.int64).max)
            np.minimum.at(best, pi, gi)
            hit = best != np.iinfo(np.int64).max
            code[comp_ids[hit]] = best[hit]
        self.cell_code = code[flat].astype(np.int32)

        # Conservative metres per degree (lower bounds) over the grid's latitude range.
        max_abs_lat = min(max(abs(y0), abs(y1 + cell)), 89.0)
        m_lat = 110_574.0 * 0.999
        m_lon = 111_320.0 * math.cos(math.radians(max_abs_lat)) * 0.999
        edt = np.asarray(ndimage.distance_transform_edt(
            ~boundary, sampling=(cell * m_lat, cell * m_lon))).ravel()
        diag_m = cell * math.hypot(_M_PER_DEG_MAX, _M_PER_DEG_MAX) * 1.001
        self.clear_m = (edt - diag_m).astype(np.float32)
        self._build_cover(tree, np.flatnonzero(boundary.ravel()), iy * nx + ix,
                          polygon_index[sample_poly])
        near = np.flatnonzero((self.cell_code < 0) & (self.clear_m <= near_m))
        # Per cell, a ring segment sampled in the nearest cell holding a sample: its distance
        # from the cell centre bounds the centre's nearest-segment distance from above.
        seed_seg = np.full(nx * ny, -1, dtype=np.int64)
        seed_seg[iy * nx + ix] = sample_seg
        feat = ndimage.distance_transform_edt(
            seed_seg.reshape(ny, nx) < 0, return_distances=False, return_indices=True)
        seed = seed_seg[(feat[0] * nx + feat[1]).ravel()[near]]
        self._build_near(seg_tree, near, seed, diag_m)

    def _centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cy, cx = np.divmod(flat, self.nx)
        return self.x0 + (cx + 0.5) * self.cell, self.y0 + (cy + 0.5) * self.cell

    def _build_cover(self, tree: shapely.STRtree, cells: np.ndarray, sample_cell: np.ndarray,
                     sample_poly: np.ndarray) -> None:
        """Cover candidates of the boundary cells.

        A polygon covering a point of cell X either has a ring crossing X — then one of its ring
        samples (spacing ≤ cell / 2) lies in X's 3×3 neighbourhood — or contains all of X,
        including its centre. Candidates: ring owners around X, plus polygons covering its centre.
        """
        n_poly = len(tree.geometries)
        keys = [np.unique(sample_cell * n_poly + sample_poly)]
        cell_y, cell_x = np.divmod(keys[0] // n_poly, self.nx)
        poly = keys[0] % n_poly
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = cell_y + dy, cell_x + dx
                ok = (yy >= 0) & (yy < self.ny) & (xx >= 0) & (xx < self.nx)
                keys.append((yy[ok] * self.nx + xx[ok]) * n_poly + poly[ok])
        cx, cy = self._centres(cells)
        ci, gi = tree.query(shapely.points(cx, cy))  # bounding boxes only
        inside = shapely.intersects_xy(self.prepared[gi], cx[ci], cy[ci])
        keys.append(cells[ci[inside]] * n_poly + gi[inside])
        key = np.unique(np.concatenate(keys))  # sorted by (cell, polygon)
        cell_of, poly = key // n_poly, key % n_poly
        self.cover_slot = np.full(self.nx * self.ny, -1, dtype=np.int32)
        self.cover_slot[cells] = np.arange(cells.shape[0], dtype=np.int32)
        rank = self.cover_slot[cell_of]
        keep = rank >= 0
        self.cover_ptr = _csr(rank[keep], cells.shape[0])
        self.cover_poly = poly[keep].astype(np.int64)

    def _build_near(self, seg_tree: shapely.STRtree, cells: np.ndarray, seed: np.ndarray,
                    diag_m: float) -> None:
        """Nearest candidates of the near cells (see module docstring), in chunks.

        ``seed`` holds one ring segment per cell, close to it: its distance from the centre is an
        upper bound of ``d_min``, so querying the segments within that bound + 2 r + the tie
        epsilon finds every candidate.
        """
        r_m = diag_m / 2.0 + _MARGIN_M
        kept_cell, kept_seg = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        clear = self.clear_m.copy()
        for lo in range(0, cells.shape[0], _CHUNK):
            chunk = cells[lo:lo + _CHUNK]
            lon, lat = self._centres(chunk)
            x, y = self.to_metric.transform(lon, lat)
            s = self.seg_xy[seed[lo:lo + _CHUNK]]
            bound = segment_distance(x, y, s[:, 0], s[:, 1], s[:, 2], s[:, 3])
            reach_m = bound + 2.0 * r_m + TIE_EPSILON_M + _MARGIN_M
            # Segments whose bounding box meets the square of half-side reach_m: a superset of
            # those within reach_m, filtered with exact distances below.
            qi, si = seg_tree.query(shapely.box(x - reach_m, y - reach_m, x + reach_m, y + reach_m))
            if np.any(qi[1:] < qi[:-1]):
                order = np.argsort(qi, kind="stable")
                qi, si = qi[order], si[order]
            d = _approx_distance(x[qi], y[qi], self.seg_xy[si])
            # Every cell has a pair (its seed segment lies within reach_m).
            d_min = np.minimum.reduceat(d, np.searchsorted(qi, np.arange(chunk.shape[0])))
            keep = d <= d_min[qi] + 2.0 * r_m + TIE_EPSILON_M + 2.0 * _MARGIN_M
            kept_cell.append(qi[keep] + lo)
            kept_seg.append(si[keep])
            clear[chunk] = np.maximum(clear[chunk], d_min - r_m - _MARGIN_M)
        # Segments are numbered polygon by polygon in index order, so sorting by (cell, segment)
        # also sorts each cell's candidates by polygon.
        n_seg = self.seg_xy.shape[0]
        key = np.sort(np.concatenate(kept_cell) * n_seg + np.concatenate(kept_seg))
        cell_rank, seg = np.divmod(key, n_seg)
        has = np.bincount(cell_rank, minlength=cells.shape[0]) > 0
        self.near_slot = np.full(self.nx * self.ny, -1, dtype=np.int32)
        self.near_slot[cells[has]] = np.flatnonzero(has).astype(np.int32)
        self.near_ptr = _csr(cell_rank, cells.shape[0])
        self.near_seg = seg.astype(np.int32)
        boundary = self.cell_code == BOUNDARY
        self.clear_m = np.where(boundary, self.clear_m, clear).astype(np.float32)

    def nbytes(self) -> int:
        """Memory held by the grid's arrays, bytes."""
        arrays = (self.cell_code, self.clear_m, self.cover_slot, self.cover_ptr, self.cover_poly,
                  self.near_slot, self.near_ptr, self.near_seg)
        return int(sum(a.nbytes for a in arrays))

    def resolve(self, lons: np.ndarray, lats: np.ndarray, tolerance_m: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Answer points (lon/lat degrees) from the tables; see :meth:`ReverseIndex.query`.

        Returns
        -------
        area, match, distance_m, done : numpy.ndarray
            Polygon index (-1 none), match code, metres (0 exact, NaN outside), and whether the
            point was answered (False: off the grid or beyond the near cells — use the exact path).
        """
        n = lons.shape[0]
        area = np.full(n, -1, dtype=np.int64)
        match = np.full(n, MATCH_OUTSIDE, dtype=np.int8)
        dist = np.full(n, np.nan)
        fx = (lons - self.x0) / self.cell
        fy = (lats - self.y0) / self.cell
        done = (fx >= 0) & (fy >= 0) & (fx < self.nx) & (fy < self.ny)
        w = np.flatnonzero(done)
        flat = fy[w].astype(np.int64) * self.nx + fx[w].astype(np.int64)
        code = self.cell_code[flat]
        ex = code >= 0
        area[w[ex]] = code[ex]
        match[w[ex]] = MATCH_EXACT
        dist[w[ex]] = 0.0
        uncovered = code == OUTSIDE
        bd = np.flatnonzero(code == BOUNDARY)
        if bd.size:
            poly = self._cover(lons[w[bd]], lats[w[bd]], self.cover_slot[flat[bd]])
            hit = poly >= 0
            area[w[bd[hit]]] = poly[hit]
            match[w[bd[hit]]] = MATCH_EXACT
            dist[w[bd[hit]]] = 0.0
            uncovered[bd[~hit]] = True
        if tolerance_m > 0.0:
            uncovered &= self.clear_m[flat] <= tolerance_m
            nr = np.flatnonzero(uncovered)
            slot = self.near_slot[flat[nr]]
            done[w[nr[slot < 0]]] = False
            nr, slot = nr[slot >= 0], slot[slot >= 0]
            if nr.size:
                g, d = self._nearest(lons[w[nr]], lats[w[nr]], slot, tolerance_m)
                hit = g >= 0
                area[w[nr[hit]]] = g[hit]
                match[w[nr[hit]]] = MATCH_NEAREST
                dist[w[nr[hit]]] = d[hit]
        return area, match, dist, done

    def _cover(self, lons: np.ndarray, lats: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Smallest covering polygon per point among its cell's candidates, -1 if none."""
        out = np.full(lons.shape[0], -1, dtype=np.int64)
        rep, pos, _ = expand_pairs(self.cover_ptr, slot)
        poly = self.cover_poly[pos]
        hit = shapely.intersects_xy(self.prepared[poly], lons[rep], lats[rep])
        rep, poly = rep[hit], poly[hit]
        # Candidates are sorted by polygon index within a cell: the first hit is the smallest.
        first = np.ones(rep.shape[0], dtype=bool)
        first[1:] = rep[1:] != rep[:-1]
        out[rep[first]] = poly[first]
        return out

    def _nearest(self, lons: np.ndarray, lats: np.ndarray, slot: np.ndarray, tolerance_m: float
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest polygon (tie rule) and its distance (metres) per point, -1 beyond tolerance."""
        x, y = self.to_metric.transform(lons, lats)
        rep, pos, starts = expand_pairs(self.near_ptr, slot)
        seg = self.near_seg[pos]
        s = self.seg_xy[seg]
        d = segment_distance(x[rep], y[rep], s[:, 0], s[:, 1], s[:, 2], s[:, 3])
        d_min = np.minimum.reduceat(d, starts)
        poly = self.seg_polygon[seg]
        tie = (d <= d_min[rep] + TIE_EPSILON_M) & (d <= tolerance_m)
        big = np.iinfo(np.int64).max
        best = np.minimum.reduceat(np.where(tie, poly, big), starts)
        d_best = np.minimum.reduceat(np.where(tie & (poly == best[rep]), d, np.inf), starts)
        within = d_min <= tolerance_m
        return np.where(within, best, -1), np.where(within, d_best, np.nan)
