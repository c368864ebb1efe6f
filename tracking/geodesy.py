"""Distances between WGS 84 positions (pure): :mod:`geo.geodesy`, the platform's one copy.

``haversine_m(lon1, lat1, lon2, lat2)`` in metres on a sphere of radius :data:`EARTH_RADIUS_M`
(6,371,008.8 m, the IUGG mean Earth radius); positions in EPSG:4326 degrees.
"""

from __future__ import annotations

from geo.geodesy import EARTH_RADIUS_M, haversine_m

__all__ = ["EARTH_RADIUS_M", "haversine_m"]
