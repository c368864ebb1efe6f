"""The plausibility check applied by every decoder to every decoded fix.

A fix is implausible when its coordinates are out of range, not finite, exactly (0, 0) (the
classic "no fix yet" output of cheap trackers), its time is too far in the future or the past
relative to the receiving clock, or its speed/heading/hdop/battery are out of range.

:func:`drop_bad_optionals` is the lenient alternative for the optional measurements: it removes
an out-of-range or non-finite speed, heading, altitude, hdop, accuracy, satellite count or battery
level from a fix (with a note per dropped value) and keeps the position, as Traccar does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gps_firmware_bridge.fix import DEVICE_ID_RE, Fix, Rejection


@dataclass(frozen=True, slots=True)
class PlausibilityLimits:
    """Bounds of a plausible fix.

    Attributes
    ----------
    max_future_s : float
        How far ahead of the receiving clock a fix time may be (device clock skew), seconds.
    max_age_s : float
        How old a fix may be when received, seconds (store-and-forward backlogs of trackers can be
        days old; the default is 365 days, as in ``tracking.plausibility``).
    max_speed_mps : float
        Cap on the *reported* ground speed, m/s (default 100 m/s = 360 km/h, beyond any road
        vehicle); same name and meaning as in ``tracking.plausibility``.

    The limits and their meanings are pinned, with the platform's, by the shared vectors in
    ``tests/vectors/plausibility/``.
    """

    max_future_s: float = 300.0
    max_age_s: float = 365.0 * 86400.0
    max_speed_mps: float = 100.0


DEFAULT_LIMITS = PlausibilityLimits()
MAX_SATELLITES = 255
"""More satellites than any receiver tracks (GPS + GLONASS + Galileo + BeiDou are ~130)."""


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


def check_fix(
    fix: Fix, now: datetime, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> Rejection | None:
    """Return a :class:`Rejection` when the fix is implausible, else ``None``.

    Parameters
    ----------
    fix : Fix
        The decoded fix (WGS84 degrees, aware UTC time).
    now : datetime
        The receiving clock, aware UTC.
    limits : PlausibilityLimits
        The bounds.
    """

    def bad(detail: str) -> Rejection:
        return Rejection("implausible", detail, fix.device_id)

    if not DEVICE_ID_RE.match(fix.device_id):
        return bad(f"device id {fix.device_id!r} is not allowed in a topic")
    if not (math.isfinite(fix.lat) and math.isfinite(fix.lon)):
        return bad("coordinate is not a finite number")
    if not (-90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0):
        return bad(f"coordinate out of range: lat={fix.lat} lon={fix.lon}")
    if fix.lat == 0.0 and fix.lon == 0.0:
        return bad("position (0, 0) means the tracker has no fix")
    if fix.fix_time.tzinfo is None:
        return bad("fix time has no time zone")
    if fix.fix_time - now > timedelta(seconds=limits.max_future_s):
        return bad(f"fix time {fix.fix_time.isoformat()} is in the future")
    if now - fix.fix_time > timedelta(seconds=limits.max_age_s):
        return bad(f"fix time {fix.fix_time.isoformat()} is too old")
    for name in ("speed_mps", "heading_deg", "altitude_m", "hdop", "accuracy_m", "battery_pct"):
        if not _finite(getattr(fix, name)):
            return bad(f"{name} is not a finite number")
    if fix.speed_mps is not None and not (0.0 <= fix.speed_mps <= limits.max_speed_mps):
        return bad(f"speed {fix.speed_mps} m/s outside 0..{limits.max_speed_mps}")
    if fix.heading_deg is not None and not (0.0 <= fix.heading_deg <= 360.0):
        return bad(f"heading {fix.heading_deg} outside 0..360")
    if fix.hdop is not None and fix.hdop < 0:
        return bad("negative hdop")
    if fix.accuracy_m is not None and fix.accuracy_m < 0:
        return bad("negative accuracy")
    if fix.satellites is not None and not (0 <= fix.satellites <= MAX_SATELLITES):
        return bad(f"satellite count {fix.satellites} outside 0..{MAX_SATELLITES}")
    if fix.battery_pct is not None and not (0.0 <= fix.battery_pct <= 100.0):
        return bad(f"battery {fix.battery_pct}% outside 0..100")
    return None


MIN_ALTITUDE_M = -1000.0
MAX_ALTITUDE_M = 50_000.0
"""Altitudes outside this range (metres) are no vehicle or phone on the ground or in the air."""


def _optional_bounds(limits: PlausibilityLimits) -> dict[str, tuple[float, float]]:
    return {
        "speed_mps": (0.0, limits.max_speed_mps),
        "heading_deg": (0.0, 360.0),
        "altitude_m": (MIN_ALTITUDE_M, MAX_ALTITUDE_M),
        "hdop": (0.0, math.inf),
        "accuracy_m": (0.0, math.inf),
        "satellites": (0.0, float(MAX_SATELLITES)),
        "battery_pct": (0.0, 100.0),
    }


def drop_bad_optionals(
    fix: Fix, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> tuple[Fix, tuple[Rejection, ...]]:
    """Remove optional measurements that are not finite or out of range; keep the position.

    Parameters
    ----------
    fix : Fix
        A decoded fix.
    limits : PlausibilityLimits
        ``max_speed_mps`` bounds the speed.

    Returns
    -------
    tuple
        The fix without the bad values, and one ``Rejection("dropped_field", ...)`` note per
        removed value (Bahasa Indonesia first, then English).
    """
    changes: dict[str, Any] = {}
    notes: list[Rejection] = []
    for name, (low, high) in _optional_bounds(limits).items():
        value = getattr(fix, name)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            ok = False
        else:
            ok = low <= value <= high
        if not ok:
            changes[name] = None
            notes.append(
                Rejection(
                    "dropped_field",
                    f"{name}={value!r} diabaikan (di luar {low:g}..{high:g}) / "
                    f"{name}={value!r} dropped (outside {low:g}..{high:g})",
                    fix.device_id,
                )
            )
    return (replace(fix, **changes) if changes else fix), tuple(notes)


def screen(
    fixes: list[Fix], now: datetime, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> tuple[tuple[Fix, ...], tuple[Rejection, ...]]:
    """Split fixes into the plausible ones and the rejections."""
    good: list[Fix] = []
    rejected: list[Rejection] = []
    for fix in fixes:
        rej = check_fix(fix, now, limits)
        if rej is None:
            good.append(fix)
        else:
            rejected.append(rej)
    return tuple(good), tuple(rejected)
