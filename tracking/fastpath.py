"""The common-case shortcut of the native contract parser (pure).

Almost every native item a tracker sends is well formed. :func:`native_fix` accepts exactly such an
item with straight-line checks (no exceptions, no helper calls per field) and builds its
:class:`~tracking.fix.Fix`; for anything it is not sure about it returns ``None`` and
:func:`tracking.contract.parse_message` runs the full checks, which name the reason. So the
shortcut never rejects and never accepts what the full path would reject:
``tests/unit/tracking/test_contract.py`` checks both paths give the same result on valid items and
on every edge (bool numbers, NaN, infinities, integral floats, lower-case ``t``/``z``, offsets,
the fix-time window bounds, null island).

JSON input only: the values are the types :func:`json.loads` produces (``type(x) is int`` excludes
``bool`` there). Coordinates are WGS 84 degrees; times aware UTC.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tracking.fix import Fix

_REQUIRED = frozenset({"v", "device_id", "fix_time", "lat", "lon"})
_ALLOWED = _REQUIRED | {"speed_mps", "heading_deg", "altitude_m", "hdop", "accuracy_m",
                        "battery_pct", "seq", "satellites", "ignition", "source"}
#: the canonical RFC 3339 UTC form trackers send: ``2026-11-23T02:15:30Z`` or ``...30.123Z``
_UTC_Z_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z", re.ASCII)
#: ``source`` names taken without the full text checks (others are checked there)
_PLAIN_SOURCE_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_INT8_MAX = 2**63 - 1
_INT4_MAX = 2**31 - 1
#: keep clear of the exact window edges (the full path decides those to the microsecond)
_EDGE = timedelta(milliseconds=1)
_fromisoformat = datetime.fromisoformat
_FIELDS = ("device_id", "fix_time", "lon", "lat", "speed_mps", "heading_deg", "altitude_m",
           "hdop", "accuracy_m", "satellites", "seq", "battery_pct", "ignition", "source",
           "received_at")
_new = object.__new__
_set = object.__setattr__


def _make_fix(device_id: str, fix_time: datetime, lon: float, lat: float,
              speed_mps: float | None, heading_deg: float | None, altitude_m: float | None,
              hdop: float | None, accuracy_m: float | None, satellites: int | None,
              seq: int | None, battery_pct: float | None, ignition: bool | None, source: str,
              received_at: datetime) -> Fix:
    """``Fix(...)`` without the frozen dataclass's 15 ``object.__setattr__`` calls (2.5x faster).

    Sets the instance ``__dict__`` in one go; the result compares and hashes equal to
    ``Fix(...)`` with the same values (unit-tested). Falls back to the constructor if ``Fix``
    ever gains fields, slots or a ``__post_init__``.
    """
    fix = _new(Fix)
    _set(fix, "__dict__", {
        "device_id": device_id, "fix_time": fix_time, "lon": lon, "lat": lat,
        "speed_mps": speed_mps, "heading_deg": heading_deg, "altitude_m": altitude_m,
        "hdop": hdop, "accuracy_m": accuracy_m, "satellites": satellites, "seq": seq,
        "battery_pct": battery_pct, "ignition": ignition, "source": source,
        "received_at": received_at})
    return fix


if (tuple(f.name for f in dataclasses.fields(Fix)) != _FIELDS or hasattr(Fix, "__slots__")
        or hasattr(Fix, "__post_init__")):
    _make_fix = Fix  # type: ignore[assignment]  # noqa: F811


class Window:
    """The accepted fix-time interval around one receive time (see ``check_fix_time``)."""

    __slots__ = ("earliest", "latest")

    def __init__(self, received_at: datetime, max_future_s: float, max_age_s: float) -> None:
        try:
            self.earliest = received_at - timedelta(seconds=max_age_s) + _EDGE
        except OverflowError:
            self.earliest = datetime.min.replace(tzinfo=UTC) + _EDGE
        try:
            self.latest = received_at + timedelta(seconds=max_future_s) - _EDGE
        except OverflowError:
            self.latest = datetime.max.replace(tzinfo=UTC) - _EDGE


def _optional(value: Any, lo: float | None, hi: float | None) -> float | None | bool:
    """A float, or ``None`` if absent/null, or ``False`` if the full path must judge it."""
    if value is None:
        return None
    kind = type(value)
    if kind is not float:
        if kind is not int or not -1e300 < value < 1e300:
            return False
        value = float(value)
    # ``value - value`` is 0.0 only for finite numbers (NaN and infinities are not stored)
    if value - value != 0.0 or (lo is not None and value < lo) or (hi is not None and value > hi):
        return False
    return value


def native_fix(obj: Any, device_id: str, received_at: datetime, window: Window) -> Fix | None:
    """The fix of a plainly valid native item, or ``None`` to defer to the full checks.

    ``device_id`` is the topic's device id (already matched against the id pattern).
    """
    if type(obj) is not dict:
        return None
    keys = obj.keys()
    if not (keys >= _REQUIRED and keys <= _ALLOWED):
        return None
    v = obj["v"]
    if obj["device_id"] != device_id or v != 1 or (type(v) is not int and type(v) is not float):
        return None
    value = obj["fix_time"]
    if type(value) is not str or _UTC_Z_RE.fullmatch(value) is None:
        return None
    try:
        fix_time = _fromisoformat(value)
    except ValueError:
        return None
    if not window.earliest < fix_time < window.latest:
        return None
    lat, lon = obj["lat"], obj["lon"]
    if type(lat) is not float:
        if type(lat) is not int or not -90 <= lat <= 90:
            return None
        lat = float(lat)
    if type(lon) is not float:
        if type(lon) is not int or not -180 <= lon <= 180:
            return None
        lon = float(lon)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or (lat == 0.0 and lon == 0.0):
        return None
    seq = obj.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0 or seq > _INT8_MAX):
        return None
    if len(keys) == 6 and seq is not None:  # v, device_id, fix_time, lat, lon, seq
        return _make_fix(device_id, fix_time, lon, lat, None, None, None, None, None, None, seq,
                   None, None, "native", received_at)
    sats = obj.get("satellites")
    if sats is not None and (type(sats) is not int or sats < 0 or sats > _INT4_MAX):
        return None
    ignition = obj.get("ignition")
    if ignition is not None and type(ignition) is not bool:
        return None
    source = obj.get("source", "native")
    if type(source) is not str or (source != "native"
                                   and _PLAIN_SOURCE_RE.fullmatch(source) is None):
        return None
    speed = _optional(obj.get("speed_mps"), 0.0, None)
    heading = _optional(obj.get("heading_deg"), 0.0, 360.0)
    altitude = _optional(obj.get("altitude_m"), None, None)
    hdop = _optional(obj.get("hdop"), 0.0, None)
    accuracy = _optional(obj.get("accuracy_m"), 0.0, None)
    battery = _optional(obj.get("battery_pct"), 0.0, 100.0)
    if (speed is False or heading is False or altitude is False or hdop is False
            or accuracy is False or battery is False):
        return None
    return _make_fix(device_id, fix_time, lon, lat, speed, heading, altitude, hdop, accuracy,  # type: ignore[arg-type]
               sats, seq, battery, ignition, source, received_at)  # type: ignore[arg-type]
