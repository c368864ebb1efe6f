"""Distances between WGS 84 positions (pure).

Haversine on a sphere of radius 6,371,008.8 m (the IUGG mean Earth radius). The error against
the ellipsoid is below 0.5 %, far below GNSS noise at geofence scale (tens to hundreds of metres).
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two positions given in degrees (EPSG:4326)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
