"""The position fix: one GNSS sample of one device (pure value type).

Coordinates are WGS 84 degrees (EPSG:4326). ``fix_time`` is the device/GNSS clock and
``received_at`` the server clock, both aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo.types import LonLat


@dataclass(frozen=True)
class Fix:
    """One position of one device.

    Attributes
    ----------
    device_id : str
        Tracker id (IMEI or configured id; ``owntracks:{user}:{device}`` for OwnTracks phones).
    fix_time : datetime
        Time of the fix by the device clock, aware UTC.
    lon, lat : float
        WGS 84 degrees.
    speed_mps : float, optional
        Ground speed in metres per second.
    heading_deg : float, optional
        Course over ground, degrees clockwise from true north.
    altitude_m, hdop, accuracy_m, satellites, seq, battery_pct, ignition
        Optional tracker data; ``seq`` is the per-device sequence number.
    source : str
        Originating protocol (``native``, ``owntracks``, ``nmea``, ``gt06`` ...).
    received_at : datetime, optional
        When the server received the message carrying this fix, aware UTC.
    """

    device_id: str
    fix_time: datetime
    lon: float
    lat: float
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    hdop: float | None = None
    accuracy_m: float | None = None
    satellites: int | None = None
    seq: int | None = None
    battery_pct: float | None = None
    ignition: bool | None = None
    source: str = "native"
    received_at: datetime | None = None

    @property
    def lonlat(self) -> LonLat:
        """The position as a :class:`geo.types.LonLat` (EPSG:4326 degrees)."""
        return LonLat(self.lon, self.lat)
