"""Recorded-style synthetic tracks around a scene (metres east/north of a target)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from geo.types import LonLat
from tracking.fix import Fix

TARGET = LonLat(110.3650, -7.8010)  # Kota Yogyakarta
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
_M_PER_DEG = 6_371_008.8 * math.pi / 180.0


def at(east_m: float, north_m: float, target: LonLat = TARGET) -> LonLat:
    """The position ``east_m``/``north_m`` metres from ``target`` (small offsets)."""
    return LonLat(target.lon + east_m / (_M_PER_DEG * math.cos(math.radians(target.lat))),
                  target.lat + north_m / _M_PER_DEG)


def fix(t_s: float, east_m: float, north_m: float = 0.0, speed_mps: float | None = 0.5,
        device_id: str = "AMB-1", seq: int | None = None) -> Fix:
    pos = at(east_m, north_m)
    return Fix(device_id=device_id, fix_time=T0 + timedelta(seconds=t_s), lon=pos.lon,
               lat=pos.lat, speed_mps=speed_mps, seq=int(t_s) if seq is None else seq)
