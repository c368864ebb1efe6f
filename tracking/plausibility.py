"""The shared plausibility check run on every decoded fix (pure).

Stateless checks (:func:`check_fix`): finite numbers, latitude/longitude range, the (0, 0)
"null island" of trackers without a lock, and a fix time neither too far in the future (device
clock wrong) nor too far in the past (GNSS week roll-over, dead RTC). The stateful check
(:class:`JumpGuard`) compares a fix with the device's previous accepted fix and rejects (or flags)
jumps whose implied speed exceeds a limit. Distances: haversine metres (:mod:`tracking.geodesy`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tracking.fix import Fix
from tracking.geodesy import haversine_m


@dataclass(frozen=True)
class Problem:
    """Why an input was rejected: a machine ``code`` and a human message (id + en)."""

    code: str
    message: str
    message_en: str


@dataclass(frozen=True)
class PlausibilityLimits:
    """Limits of the plausibility check.

    Attributes
    ----------
    max_future_s : float
        A fix time more than this many seconds after the server clock is rejected.
    max_age_s : float
        A fix time more than this many seconds before the server clock is rejected.
    max_speed_mps : float
        Cap on the *reported* ground speed (``Fix.speed_mps``), m/s; same name, meaning and
        default as in the bridge (``gps_firmware_bridge.plausibility``).
    max_jump_speed_mps : float
        Implied speed (metres per second) from the previous fix above which a fix is a jump.
    min_interval_s : float
        Time floor used when two fixes are closer in time than this (avoids dividing by ~0).
    flag_jumps : bool
        ``True``: store implausible jumps with a flag; ``False``: reject them.
    """

    max_future_s: float = 300.0
    max_age_s: float = 365.0 * 86400.0
    max_speed_mps: float = 100.0
    max_jump_speed_mps: float = 90.0
    min_interval_s: float = 1.0
    flag_jumps: bool = False


def check_coordinates(lon: float, lat: float) -> Problem | None:
    """Range, finiteness and (0, 0) check of a WGS 84 position in degrees."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return Problem("not_finite", f"Koordinat bukan bilangan berhingga (lon={lon}, lat={lat}).",
                       f"Coordinates are not finite numbers (lon={lon}, lat={lat}).")
    if not -90.0 <= lat <= 90.0:
        return Problem("lat_out_of_range", f"Lintang {lat} di luar -90..90 derajat.",
                       f"Latitude {lat} is outside -90..90 degrees.")
    if not -180.0 <= lon <= 180.0:
        return Problem("lon_out_of_range", f"Bujur {lon} di luar -180..180 derajat.",
                       f"Longitude {lon} is outside -180..180 degrees.")
    if lat == 0.0 and lon == 0.0:
        return Problem("null_island", "Posisi (0, 0): pelacak belum mendapat fix GPS.",
                       "Position (0, 0): the tracker has no GPS fix yet.")
    return None


def check_fix_time(fix_time: datetime, *, now: datetime,
                   limits: PlausibilityLimits) -> Problem | None:
    """Reject fix times too far in the future or the past relative to the server clock ``now``."""
    ahead_s = (fix_time - now).total_seconds()
    if ahead_s > limits.max_future_s:
        return Problem("fix_time_future",
                       f"Waktu fix {fix_time.isoformat()} {ahead_s:.0f} detik di masa depan.",
                       f"Fix time {fix_time.isoformat()} is {ahead_s:.0f} s in the future.")
    if -ahead_s > limits.max_age_s:
        days = -ahead_s / 86400
        return Problem("fix_time_too_old",
                       f"Waktu fix {fix_time.isoformat()} terlalu lama ({days:.0f} hari).",
                       f"Fix time {fix_time.isoformat()} is too old ({days:.0f} days).")
    return None


def check_reported_speed(speed_mps: float | None, *,
                         limits: PlausibilityLimits) -> Problem | None:
    """A reported ground speed that is negative, not finite or above ``limits.max_speed_mps``."""
    if speed_mps is None or (math.isfinite(speed_mps) and 0.0 <= speed_mps <= limits.max_speed_mps):
        return None
    return Problem("speed_out_of_range",
                   f"Kecepatan {speed_mps} m/s di luar 0..{limits.max_speed_mps:.0f} m/s.",
                   f"Speed {speed_mps} m/s is outside 0..{limits.max_speed_mps:.0f} m/s.")


def check_fix(fix: Fix, *, now: datetime, limits: PlausibilityLimits,
              previous: Fix | None = None) -> Problem | None:
    """All plausibility checks of one fix; ``previous`` is the device's previous accepted fix."""
    problem = (check_coordinates(fix.lon, fix.lat)
               or check_fix_time(fix.fix_time, now=now, limits=limits)
               or check_reported_speed(fix.speed_mps, limits=limits))
    if problem is None and previous is not None:
        problem = check_jump(previous, fix, limits=limits)
    return problem


def implied_speed_mps(a: Fix, b: Fix, *, min_interval_s: float = 1.0) -> float:
    """Speed in m/s needed to move from fix ``a`` to fix ``b`` (either order in time)."""
    dt_s = max(abs((b.fix_time - a.fix_time).total_seconds()), min_interval_s)
    return haversine_m(a.lon, a.lat, b.lon, b.lat) / dt_s


def check_jump(previous: Fix, fix: Fix, *, limits: PlausibilityLimits) -> Problem | None:
    """A jump whose implied speed from ``previous`` exceeds ``limits.max_jump_speed_mps``."""
    speed = implied_speed_mps(previous, fix, min_interval_s=limits.min_interval_s)
    if speed > limits.max_jump_speed_mps:
        return Problem("implied_speed",
                       f"Lompatan tidak mungkin: kecepatan tersirat {speed:.0f} m/s "
                       f"> {limits.max_jump_speed_mps:.0f} m/s dari fix sebelumnya.",
                       f"Impossible jump: implied speed {speed:.0f} m/s "
                       f"> {limits.max_jump_speed_mps:.0f} m/s from the previous fix.")
    return None


class JumpGuard:
    """Remembers each device's newest accepted fix and screens new fixes for impossible jumps.

    Pure in-memory state (no I/O); seed it with :meth:`seed` from stored latest positions.
    Fixes of one call are screened in time order, each against the newest accepted fix so far.
    """

    def __init__(self, limits: PlausibilityLimits) -> None:
        self.limits = limits
        self._last: dict[str, Fix] = {}

    def seed(self, fixes: Iterable[Fix]) -> None:
        for fix in fixes:
            self._remember(fix)

    def previous(self, device_id: str) -> Fix | None:
        return self._last.get(device_id)

    def _remember(self, fix: Fix) -> None:
        last = self._last.get(fix.device_id)
        if last is None or fix.fix_time >= last.fix_time:
            self._last[fix.device_id] = fix

    def screen(
        self, fixes: list[Fix]
    ) -> tuple[list[Fix], dict[int, Problem], list[tuple[Fix, Problem]]]:
        """Split ``fixes`` into (kept, flags by index into kept, rejected with their problem)."""
        kept: list[Fix] = []
        flags: dict[int, Problem] = {}
        rejected: list[tuple[Fix, Problem]] = []
        order = sorted(range(len(fixes)), key=lambda i: fixes[i].fix_time)
        verdict: dict[int, Problem | None] = {}
        for i in order:
            fix = fixes[i]
            prev = self._last.get(fix.device_id)
            problem = check_jump(prev, fix, limits=self.limits) if prev is not None else None
            verdict[i] = problem
            if problem is None:
                self._remember(fix)
        for i, fix in enumerate(fixes):
            problem = verdict[i]
            if problem is None:
                kept.append(fix)
            elif self.limits.flag_jumps:
                flags[len(kept)] = problem
                kept.append(fix)
            else:
                rejected.append((fix, problem))
        return kept, flags, rejected


def latest_by_device(fixes: Iterable[Fix]) -> Mapping[str, Fix]:
    """The newest fix (by ``fix_time``) of each device."""
    out: dict[str, Fix] = {}
    for fix in fixes:
        cur = out.get(fix.device_id)
        if cur is None or fix.fix_time > cur.fix_time:
            out[fix.device_id] = fix
    return out
