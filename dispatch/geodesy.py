"""Great-circle distance on WGS 84 coordinates (pure, no I/O)."""

from __future__ import annotations

import math

from geo.types import LonLat

#: Mean Earth radius in metres (IUGG), adequate for dispatch distances (< 0.5 % error).
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(a: LonLat, b: LonLat) -> float:
    """Great-circle distance in metres between two EPSG:4326 positions."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
