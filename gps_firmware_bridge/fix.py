"""The decoded fix, typed rejections and the MQTT position contract (``position.v1``).

A :class:`Fix` is what every decoder produces; :func:`fix_payload` turns it, with its per-device
sequence number, into the exact JSON object of ``schemas/mqtt/position.v1.json``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TOPIC_PREFIX = "siaga/v1/pos/"
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
KNOT_MPS = 1852.0 / 3600.0
KMH_MPS = 1000.0 / 3600.0


@dataclass(frozen=True, slots=True)
class Fix:
    """One position of one device.

    Attributes
    ----------
    device_id : str
        Tracker id (IMEI or configured id); matches ``^[A-Za-z0-9_.:-]{1,64}$``.
    fix_time : datetime
        Time of the fix by the device/GNSS clock, aware UTC.
    lon, lat : float
        WGS84 (EPSG:4326) degrees (same field order as the platform's ``tracking.fix.Fix``).
    speed_mps, heading_deg, altitude_m, hdop, accuracy_m, satellites, battery_pct, ignition
        Optional measurements, ``None`` when the device did not report them.
    source : str
        Originating protocol: ``nmea``, ``gt06``, ``teltonika``, ``osmand``, ``sim``.
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
    battery_pct: float | None = None
    ignition: bool | None = None
    source: str = "native"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an input (frame, sentence, request or fix) was not turned into a fix.

    ``reason`` is a stable machine code (``bad_checksum``, ``truncated``, ``no_fix``,
    ``implausible``...); ``detail`` is for people.
    """

    reason: str
    detail: str = ""
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What a framer/decoder produced from one frame or request.

    Attributes
    ----------
    fixes : tuple of Fix
        Plausible fixes, in device order.
    rejections : tuple of Rejection
        Frames or records that were dropped, with the reason.
    reply : bytes
        Bytes the server must send back to the device (ACK), possibly empty.
    device_id : str or None
        Device identified by this frame (login, IMEI handshake), if any.
    notes : tuple of Rejection
        Caveats on what was kept: optional values dropped from a fix (out of range, not a
        number), or a frame decoded despite a wrong CRC or length field (``crc_mismatch``,
        ``length_mismatch``, see :mod:`gps_firmware_bridge.integrity`).
    """

    fixes: tuple[Fix, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    reply: bytes = b""
    device_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    notes: tuple[Rejection, ...] = ()


def topic_for(device_id: str) -> str:
    """MQTT topic of a device's positions: ``siaga/v1/pos/{device_id}``."""
    return TOPIC_PREFIX + device_id


def format_time(value: datetime) -> str:
    """UTC ISO 8601 with 'Z', whole seconds unless the value has a fraction (then milliseconds)."""
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value: float | None, ndigits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), ndigits)


def fix_payload(fix: Fix, seq: int | None) -> dict[str, Any]:
    """The ``position.v1`` JSON object of a fix; optional fields that are unknown are omitted.

    Parameters
    ----------
    fix : Fix
        The fix.
    seq : int or None
        Per-device sequence number given by the outbox.

    Returns
    -------
    dict
        Keys in contract order: v, device_id, seq, fix_time, lat, lon, then the optional fields.
    """
    out: dict[str, Any] = {"v": 1, "device_id": fix.device_id}
    if seq is not None:
        out["seq"] = int(seq)
    out["fix_time"] = format_time(fix.fix_time)
    out["lat"] = round(fix.lat, 7)
    out["lon"] = round(fix.lon, 7)
    optional: list[tuple[str, Any]] = [
        ("speed_mps", _clean(fix.speed_mps, 2)),
        ("heading_deg", _clean(fix.heading_deg, 1)),
        ("altitude_m", _clean(fix.altitude_m, 1)),
        ("hdop", _clean(fix.hdop, 2)),
        ("accuracy_m", _clean(fix.accuracy_m, 1)),
        ("satellites", fix.satellites),
        ("battery_pct", _clean(fix.battery_pct, 1)),
        ("ignition", fix.ignition),
    ]
    for key, value in optional:
        if value is not None:
            out[key] = value
    out["source"] = fix.source
    return out


def fix_from_payload(obj: dict[str, Any]) -> Fix:
    """Inverse of :func:`fix_payload` (used by the outbox and tests); ``seq`` is ignored."""
    fix_time = datetime.fromisoformat(str(obj["fix_time"]).replace("Z", "+00:00"))
    return Fix(
        device_id=str(obj["device_id"]),
        fix_time=fix_time.astimezone(UTC),
        lat=float(obj["lat"]),
        lon=float(obj["lon"]),
        speed_mps=obj.get("speed_mps"),
        heading_deg=obj.get("heading_deg"),
        altitude_m=obj.get("altitude_m"),
        hdop=obj.get("hdop"),
        accuracy_m=obj.get("accuracy_m"),
        satellites=obj.get("satellites"),
        battery_pct=obj.get("battery_pct"),
        ignition=obj.get("ignition"),
        source=str(obj.get("source", "native")),
    )
