"""Great-circle distance on WGS 84 coordinates (pure): :mod:`geo.geodesy`, the platform's one copy.

``haversine_m(a, b)`` takes two :class:`geo.types.LonLat` (EPSG:4326 degrees) and returns metres.
"""

from __future__ import annotations

from geo.geodesy import EARTH_RADIUS_M
from geo.geodesy import distance_m as haversine_m

__all__ = ["EARTH_RADIUS_M", "haversine_m"]
