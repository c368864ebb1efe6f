"""Distances between WGS 84 positions: the platform's one geodesy module (pure, no I/O).

Haversine on a sphere of radius :data:`EARTH_RADIUS_M` = 6,371,008.8 m (the IUGG mean Earth
radius). Against the ellipsoid the error is below 0.5 %, far below GNSS noise at geofence and
dispatch scale (tens to thousands of metres). Positions are EPSG:4326 degrees, distances metres.

``tracking.geodesy`` and ``dispatch.geodesy`` re-export these functions under their historical
signatures. The GPS bridge (``gps_firmware_bridge.roads``) installs alone and keeps its own copy,
pinned to this one by shared test vectors (``tests/unit/geo/test_geodesy.py``).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

__all__ = ["EARTH_RADIUS_M", "M_PER_DEG", "distance_m", "haversine_m", "haversine_matrix_m"]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Metres per degree of latitude (and of longitude at the equator) on that sphere.
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0


class _Position(Protocol):
    @property
    def lon(self) -> float: ...

    @property
    def lat(self) -> float: ...


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two positions given in degrees (EPSG:4326)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_m(a: _Position, b: _Position) -> float:
    """:func:`haversine_m` between two positions with ``lon``/``lat`` attributes (``LonLat``)."""
    return haversine_m(a.lon, a.lat, b.lon, b.lat)


def haversine_matrix_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle metres from every ``(lon, lat)`` row of ``a`` to every row of ``b``.

    Returns an ``(len(a), len(b))`` float64 array; the same formula as :func:`haversine_m`.
    """
    p = np.radians(np.asarray(a, dtype=np.float64).reshape(-1, 2))
    q = np.radians(np.asarray(b, dtype=np.float64).reshape(-1, 2))
    dphi = q[None, :, 1] - p[:, None, 1]
    dlmb = q[None, :, 0] - p[:, None, 0]
    h = (np.sin(dphi / 2.0) ** 2
         + np.cos(p[:, None, 1]) * np.cos(q[None, :, 1]) * np.sin(dlmb / 2.0) ** 2)
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
