"""Vectorised reverse-geocoding index (private to :mod:`geo.geocode`).

* ``exact``: one bulk ``STRtree.query(points, predicate="covered_by")`` over the desa polygons in
  lon/lat degrees (planar, like PostGIS ``ST_Covers`` on ``geometry(4326)``).
* ``nearest``: per region (kabupaten/kota), the polygons are projected **once** to a transverse
  Mercator centred on the region (WGS 84 ellipsoid, metres); the remaining points near the region
  are projected with pyproj and queried in bulk with ``predicate="dwithin"``; exact distances of
  the candidate pairs come from ``shapely.distance``.

Ties: smallest polygon index, and the polygons are sorted by ``kode_desa`` by the caller; the
distance of a ``nearest`` answer is the smallest distance from the point to that polygon's segments.

Fast path: a point near a single region is answered by the region's :class:`geo._grid.CellGrid`
(array indexing, plus exact tests against 1–3 candidate polygons or a few candidate segments per
cell); the rest (off the grid, several regions, or tolerance beyond ``FAST_TOLERANCE_M`` of the
grid's near cells) takes the exact path above. Both paths give bit-identical answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely import STRtree

from geo._grid import MATCH_EXACT, MATCH_NEAREST, MATCH_OUTSIDE, TIE_EPSILON_M, CellGrid
from geo._segment import ring_segments

MATCH_INVALID = 3
#: Outside cells within this distance (metres) of a ring get nearest candidates in the grid;
#: the fast path covers tolerances up to this value.
FAST_TOLERANCE_M = 500.0

#: Metres per degree of latitude, lower bound on the WGS 84 ellipsoid.
_M_PER_DEG_LAT_MIN = 110_574.0
#: Metres per degree of longitude at the equator (multiplied by cos(lat)).
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass
class _Region:
    kode_kab: str
    indices: np.ndarray  # global polygon indices (sorted)
    bounds: tuple[float, float, float, float]  # lon/lat bbox of the region
    to_metric: Transformer
    seg_tree: STRtree  # boundary segments in metres
    segments: np.ndarray  # 2-point LineStrings (metres)
    seg_polygon: np.ndarray  # global polygon index of each segment
    grid: CellGrid

    def margin_deg(self, tolerance_m: float) -> tuple[float, float]:
        """Conservative (lon, lat) degree margins that contain every point within tolerance."""
        max_abs_lat = min(max(abs(self.bounds[1]), abs(self.bounds[3])) + 1.0, 89.0)
        lon = tolerance_m / (_M_PER_DEG_LON_EQ * math.cos(math.radians(max_abs_lat)))
        lat = tolerance_m / _M_PER_DEG_LAT_MIN
        return lon * 1.05 + 1e-9, lat * 1.05 + 1e-9


def _metric_transformer(bounds: tuple[float, float, float, float]) -> Transformer:
    lon0 = (bounds[0] + bounds[2]) / 2.0
    lat0 = (bounds[1] + bounds[3]) / 2.0
    crs = (
        f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _project(transformer: Transformer, geoms: np.ndarray) -> np.ndarray:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ring segments of ``geoms``: 2-point LineStrings, ``(ax, ay, bx, by)``, geometry index."""
    a, b, owner = ring_segments(geoms)
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    return lines, np.ascontiguousarray(np.hstack([a, b])), owner


def _first_per_group(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Positions of the first row of each ``group`` after sorting by (group, *keys)."""
    order = np.lexsort(tuple(reversed(keys)) + (group,))
    g = group[order]
    first = np.ones(g.shape[0], dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]


class ReverseIndex:
    """Bulk point-in-polygon and nearest-polygon queries over desa polygons."""

    def __init__(self, areas: Sequence, geometries: np.ndarray) -> None:
        self.geoms = geometries
        self.tree = STRtree(geometries)
        shapely.prepare(geometries)
        self.regions: list[_Region] = []
        by_kab: dict[str, list[int]] = {}
        for i, area in enumerate(areas):
            by_kab.setdefault(area.kode_kab, []).append(i)
        for kode_kab, idx in sorted(by_kab.items()):
            indices = np.asarray(idx, dtype=np.int64)
            x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geometries[indices]))
            bounds = (x0, y0, x1, y1)
            transformer = _metric_transformer(bounds)
            geoms_m = _project(transformer, geometries[indices])
            segments, seg_xy, seg_local = _segments(geoms_m)
            seg_tree = STRtree(segments)
            seg_polygon = indices[seg_local]
            grid = CellGrid(self.tree, geometries, indices, bounds, transformer, seg_xy,
                            seg_polygon, seg_tree, FAST_TOLERANCE_M)
            self.regions.append(_Region(kode_kab, indices, bounds, transformer, seg_tree,
                                        segments, seg_polygon, grid))

    def query(
        self, lons: np.ndarray, lats: np.ndarray, tolerance_m: float, *, fast: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Polygon index (-1 none), match code and distance (metres) per lon/lat point.

        ``fast=False`` skips the lookup grids (the exact path only; used to test the grids).
        """
        n = lons.shape[0]
        area = np.full(n, -1, dtype=np.int64)
        match = np.full(n, MATCH_OUTSIDE, dtype=np.int8)
        dist = np.full(n, np.nan, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            valid = (
                np.isfinite(lons) & np.isfinite(lats)
                & (np.abs(lats) <= 90.0) & (np.abs(lons) <= 180.0)
            )
        match[~valid] = MATCH_INVALID
        if n == 0 or not self.regions:
            return area, match, dist

        # Per region: points within its bbox widened by the tolerance ("near").
        near_masks = []
        for region in self.regions:
            x0, y0, x1, y1 = region.bounds
            mlon, mlat = region.margin_deg(tolerance_m)
            with np.errstate(invalid="ignore"):
                near_masks.append(
                    valid & (lons >= x0 - mlon) & (lons <= x1 + mlon)
                    & (lats >= y0 - mlat) & (lats <= y1 + mlat)
                )
        near_count = np.sum(near_masks, axis=0)

        # Fast path: the lookup grid of the only region a point is near.
        resolved = np.zeros(n, dtype=bool)
        for region, near in zip(self.regions, near_masks, strict=True):
            if not fast:
                break
            sel = np.flatnonzero(near & (near_count == 1))
            if not sel.size:
                continue
            g_area, g_match, g_dist, done = region.grid.resolve(lons[sel], lats[sel], tolerance_m)
            sel = sel[done]
            area[sel], match[sel], dist[sel] = g_area[done], g_match[done], g_dist[done]
            resolved[sel] = True

        # Exact path for the rest.
        cand = np.flatnonzero((near_count > 0) & ~resolved)
        if cand.size:
            pts = shapely.points(lons[cand], lats[cand])
            pi, gi = self.tree.query(pts, predicate="covered_by")
            if pi.size:
                first = _first_per_group(pi, gi)
                hit = cand[pi[first]]
                area[hit] = gi[first]
                match[hit] = MATCH_EXACT
                dist[hit] = 0.0
            resolved[hit if pi.size else cand[:0]] = True

        if tolerance_m > 0.0:
            pending = (near_count > 0) & ~resolved
            self._nearest(lons, lats, tolerance_m, pending, near_masks, area, match, dist)
        return area, match, dist

    def _nearest(self, lons, lats, tolerance_m, pending, near_masks, area, match, dist) -> None:
        all_p, all_g, all_d = [], [], []
        for region, near in zip(self.regions, near_masks, strict=True):
            cand = np.flatnonzero(near & pending)
            if not cand.size:
                continue
            x, y = region.to_metric.transform(lons[cand], lats[cand])
            pts = shapely.points(x, y)
            # Nearest boundary segment within the tolerance, then every segment within
            # (that distance + tie epsilon), so that near-ties are all seen.
            (pi, _), d0 = region.seg_tree.query_nearest(
                pts, max_distance=tolerance_m + 1.0, return_distance=True
            )
            if not pi.size:
                continue
            sub = np.unique(pi)
            reach = np.full(pts.shape[0], np.inf)
            np.minimum.at(reach, pi, d0)
            qi, si = region.seg_tree.query(
                pts[sub], predicate="dwithin", distance=reach[sub] + TIE_EPSILON_M
            )
            d = shapely.distance(pts[sub][qi], region.segments[si])
            keep = d <= tolerance_m
            all_p.append(cand[sub[qi[keep]]])
            all_g.append(region.seg_polygon[si[keep]])
            all_d.append(d[keep])
        if not all_p:
            return
        p = np.concatenate(all_p)
        g = np.concatenate(all_g)
        d = np.concatenate(all_d)
        if not p.size:
            return
        best = _first_per_group(p, d)
        min_d = np.zeros(match.shape[0])
        min_d[p[best]] = d[best]
        tie = d <= min_d[p] + TIE_EPSILON_M
        p, g, d = p[tie], g[tie], d[tie]
        first = _first_per_group(p, g, d)
        hit = p[first]
        area[hit] = g[first]
        match[hit] = MATCH_NEAREST
        dist[hit] = d[first]
