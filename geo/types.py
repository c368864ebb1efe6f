"""Small value types shared by every layer.

Coordinates are always WGS 84 (EPSG:4326) and always named: ``LonLat(lon=..., lat=...)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from geo.exceptions import InvalidCoordinateError


class LonLat(NamedTuple):
    """A WGS 84 position in degrees, longitude first (GeoJSON / shapely order)."""

    lon: float
    lat: float

    @classmethod
    def checked(cls, lon: float, lat: float) -> LonLat:
        """Build a position, raising :class:`InvalidCoordinateError` if it is impossible."""
        validate_lonlat(lon, lat)
        return cls(float(lon), float(lat))


def validate_lonlat(lon: float, lat: float) -> None:
    """Raise :class:`InvalidCoordinateError` for NaN/inf or out-of-range degrees."""
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise InvalidCoordinateError(
            f"coordinates must be numbers, got lon={lon!r} lat={lat!r}"
        ) from exc
    if not (math.isfinite(lon_f) and math.isfinite(lat_f)):
        raise InvalidCoordinateError(
            f"coordinates must be finite numbers, got lon={lon!r} lat={lat!r}"
        )
    if not -90.0 <= lat_f <= 90.0:
        raise InvalidCoordinateError(f"latitude {lat_f} is outside -90..90 degrees")
    if not -180.0 <= lon_f <= 180.0:
        raise InvalidCoordinateError(f"longitude {lon_f} is outside -180..180 degrees")
