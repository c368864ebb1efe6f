"""Vectorised helpers of the reverse-geocoding fast path (private to :mod:`geo._grid`).

* :func:`segment_distance` — planar point-to-segment distance with **the same floating-point
  operations as GEOS** ``Distance::pointToSegment`` (used by ``shapely.distance`` for a point and a
  2-point LineString), so that the fast path reports bit-identical distances to the shapely path.
* :func:`expand_pairs` — (item, candidate) pairs from a CSR table of per-cell candidate lists.
* :func:`ring_segments` — the ring segments of polygons, in the one numbering that both the grid
  and the shapely path use.
"""

from __future__ import annotations

import numpy as np
import shapely


def ring_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ring segment of ``geoms`` (exterior and interior rings of every part).

    Returns the start points (n, 2), the end points (n, 2) and the index in ``geoms`` of the
    geometry each segment belongs to. Segment ``k`` is the same segment for every caller: the grid
    (:mod:`geo._grid`) and the exact path (:mod:`geo._reverse`) refer to segments by this number.
    """
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[1:] == ring_idx[:-1]
    owner = part_geom[ring_part[ring_idx[:-1][same]]]
    return coords[:-1][same], coords[1:][same], owner


def segment_distance(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Distance from points ``p`` to segments ``a``–``b``, element-wise (projected metres).

    Parameters
    ----------
    px, py : numpy.ndarray of float64
        Point coordinates, metres (any planar CRS).
    ax, ay, bx, by : numpy.ndarray of float64
        Segment end points in the same CRS, one segment per point.

    Returns
    -------
    numpy.ndarray of float64
        Metres; bit-identical to ``shapely.distance(Point(p), LineString([a, b]))``.
    """
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ((px - ax) * dx + (py - ay) * dy) / len2
        s = ((ay - py) * dx - (ax - px) * dy) / len2
    pax, pay = px - ax, py - ay
    pbx, pby = px - bx, py - by
    to_a = np.sqrt(pax * pax + pay * pay)
    to_b = np.sqrt(pbx * pbx + pby * pby)
    perp = np.abs(s) * np.sqrt(len2)
    # GEOS: A == B -> distance to A; r <= 0 -> A; r >= 1 -> B; else perpendicular.
    use_a = (len2 == 0.0) | (r <= 0.0)
    return np.where(use_a, to_a, np.where(r >= 1.0, to_b, perp))


def expand_pairs(ptr: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand per-item CSR slots into (item, candidate position) pairs.

    Parameters
    ----------
    ptr : numpy.ndarray of int64
        CSR offsets: the candidates of slot ``s`` are positions ``ptr[s]:ptr[s + 1]``.
    slots : numpy.ndarray of int
        One slot per item (every slot valid).

    Returns
    -------
    rep : numpy.ndarray of int64
        Item index of each pair (non-decreasing).
    pos : numpy.ndarray of int64
        Candidate position of each pair (into the CSR value array).
    starts : numpy.ndarray of int64
        First pair of each item (for ``np.ufunc.reduceat``; only valid for items with ≥ 1 pair).
    """
    start = ptr[slots]
    count = ptr[slots + 1] - start
    starts = np.cumsum(count) - count
    rep = np.repeat(np.arange(slots.shape[0]), count)
    pos = np.arange(rep.shape[0]) - np.repeat(starts - start, count)
    return rep, pos, starts
