"""Arrival on scene from a track: geofence + dwell + hysteresis (pure).

Rule, with distances in metres by haversine (:mod:`tracking.geodesy`, WGS 84 degrees in):

* Fixes are taken in ``fix_time`` order (input may be unsorted, e.g. a late store-and-forward
  batch); fixes before ``since`` are ignored.
* A fix's speed is its reported ``speed_mps``, or, when absent, the speed implied by the
  previous fix. A fix is *slow* when that speed is ``<= rule.max_speed_mps``.
* A dwell **starts** at a slow fix within ``radius_m`` of the target.
* While in a dwell, a fix farther than ``exit_radius_m`` or a fast fix **ends** the dwell.
  A slow fix between ``radius_m`` and ``exit_radius_m`` (GPS drift at the fence edge) keeps the
  dwell alive but is not counted as a fix inside, and never starts a dwell.
* A dwell **qualifies** once it has ``>= min_fixes`` counted fixes (slow, inside ``radius_m``) or
  lasts ``>= min_dwell_s`` from its first fix. The arrival time is the first fix of the earliest
  qualifying dwell; ``last_fix`` is the fix at which it qualified.

A drive-by at speed never starts a dwell; drift around the fence neither creates nor breaks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from geo.types import LonLat
from tracking.fix import Fix
from tracking.geodesy import haversine_m


@dataclass(frozen=True)
class ArrivalRule:
    """Geofence and dwell parameters (metres, seconds, metres per second)."""

    radius_m: float = 100.0
    exit_radius_m: float = 150.0
    min_fixes: int = 3
    min_dwell_s: float = 30.0
    max_speed_mps: float = 3.0

    def __post_init__(self) -> None:
        if self.radius_m <= 0 or self.exit_radius_m < self.radius_m:
            raise ValueError("need 0 < radius_m <= exit_radius_m")
        if self.min_fixes < 1 or self.min_dwell_s < 0 or self.max_speed_mps < 0:
            raise ValueError("need min_fixes >= 1, min_dwell_s >= 0, max_speed_mps >= 0")


@dataclass(frozen=True)
class Arrival:
    """A detected arrival: ``arrived_at`` is ``first_fix.fix_time``."""

    arrived_at: datetime
    first_fix: Fix
    last_fix: Fix
    fixes_in_dwell: int
    dwell_s: float
    rule: ArrivalRule


def sort_fixes(fixes: Sequence[Fix]) -> list[Fix]:
    """Fixes in time order (ties by sequence number), one per (fix_time, seq)."""
    seen: set[tuple[datetime, int | None]] = set()
    out: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: (f.fix_time, -1 if f.seq is None else f.seq)):
        key = (fix.fix_time, fix.seq)
        if key not in seen:
            seen.add(key)
            out.append(fix)
    return out


def _speed_mps(fix: Fix, previous: Fix | None) -> float:
    if fix.speed_mps is not None:
        return fix.speed_mps
    if previous is None:
        return 0.0
    dt_s = (fix.fix_time - previous.fix_time).total_seconds()
    if dt_s <= 0:
        return 0.0
    return haversine_m(previous.lon, previous.lat, fix.lon, fix.lat) / dt_s


def distance_to_m(fix: Fix, target: LonLat) -> float:
    """Haversine distance in metres from a fix to the target (EPSG:4326 degrees)."""
    return haversine_m(fix.lon, fix.lat, target.lon, target.lat)


def detect_arrival(fixes: Sequence[Fix], target: LonLat, rule: ArrivalRule, *,
                   since: datetime | None = None) -> Arrival | None:
    """The earliest qualifying dwell at ``target`` (see the module docstring), or ``None``.

    Parameters
    ----------
    fixes : sequence of Fix
        One device's fixes, any order.
    target : LonLat
        Scene position, WGS 84 degrees.
    rule : ArrivalRule
        Geofence radii (m), dwell thresholds and the low-speed limit (m/s).
    since : datetime, optional
        Ignore fixes before this time (e.g. the dispatch time), aware UTC.
    """
    ordered = sort_fixes(fixes)
    if since is not None:
        ordered = [f for f in ordered if f.fix_time >= since]
    previous: Fix | None = None
    first: Fix | None = None
    counted = 0
    for fix in ordered:
        distance_m = distance_to_m(fix, target)
        slow = _speed_mps(fix, previous) <= rule.max_speed_mps
        previous = fix
        if first is not None and (distance_m > rule.exit_radius_m or not slow):
            first, counted = None, 0
        if first is None:
            if slow and distance_m <= rule.radius_m:
                first, counted = fix, 0
            else:
                continue
        if distance_m <= rule.radius_m:
            counted += 1
        dwell_s = (fix.fix_time - first.fix_time).total_seconds()
        if counted >= rule.min_fixes or dwell_s >= rule.min_dwell_s:
            return Arrival(arrived_at=first.fix_time, first_fix=first, last_fix=fix,
                           fixes_in_dwell=counted, dwell_s=dwell_s, rule=rule)
    return None
