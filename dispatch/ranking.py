"""Rank candidate units for an incident by travel time (pure, no I/O).

Road ETAs are computed by the caller (``geo.routing``) and passed in per unit id. A unit whose
region/profile has no road network gets an *estimated* ETA: straight-line distance × the
profile's detour factor at the profile's typical speed (marked ``estimated``, ``eta_kind``
"estimate"; a road ETA is ``eta_kind`` "road"). A unit with no GPS
fix starts from its home station (``position_source="station"``). Units that cannot be reached
(no position at all, or no road path) are listed last with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from dispatch.geodesy import haversine_m
from dispatch.lifecycle import ASSIGNABLE_UNIT_STATUSES
from geo.types import LonLat

#: ``Recommendation.eta_kind`` values.
ETA_ROAD = "road"
ETA_ESTIMATE = "estimate"


@dataclass(frozen=True)
class Candidate:
    """A unit that might be sent, with where it is believed to be (EPSG:4326)."""

    unit_id: int
    call_sign: str
    agency_code: str
    status: str
    profile: str
    capabilities: frozenset[str]
    position: LonLat | None
    position_source: str  # "gps" | "station" | "none"
    position_at: datetime | None = None


@dataclass(frozen=True)
class RoadEstimate:
    """A road-network answer for one unit: ETA in seconds, distance in metres."""

    reachable: bool
    eta_s: float | None = None
    distance_m: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ProfileSpeed:
    """What a straight-line estimate needs from a vehicle profile."""

    name: str
    speed_kmh: float
    detour_factor: float


@dataclass(frozen=True)
class Recommendation:
    unit_id: int
    call_sign: str
    agency_code: str
    status: str
    profile: str
    reachable: bool
    eta_s: float | None
    distance_m: float | None
    straight_line_m: float | None
    estimated: bool
    position_source: str
    position: LonLat | None
    sla_can_be_met: bool | None
    reason: str | None = None
    rank: int = 0
    #: "road" (road network ETA), "estimate" (straight line × detour factor), None (no ETA).
    eta_kind: str | None = None


def straight_line_estimate(
    origin: LonLat, target: LonLat, speed: ProfileSpeed
) -> tuple[float, float]:
    """(eta_s, distance_m): great-circle metres × detour factor at ``speed.speed_kmh``."""
    distance_m = haversine_m(origin, target) * speed.detour_factor
    return distance_m / (speed.speed_kmh / 3.6), distance_m


def rank_units(
    candidates: Iterable[Candidate],
    target: LonLat,
    *,
    road: Mapping[int, RoadEstimate],
    speeds: Mapping[str, ProfileSpeed],
    on_scene_s: float | None = None,
    capabilities: Iterable[str] = (),
    assignable: frozenset[str] = ASSIGNABLE_UNIT_STATUSES,
) -> list[Recommendation]:
    """Order the usable candidates by ETA; unreachable ones follow, with their reason.

    Parameters
    ----------
    road
        Road ETA per ``unit_id``. A unit missing from it gets a straight-line estimate.
    speeds
        Straight-line speed and detour factor per profile name.
    on_scene_s
        The agency's on-scene SLA in seconds; each reachable unit says if its ETA meets it.
    capabilities
        Every one must be among the unit's capabilities.
    """
    needed = frozenset(capabilities)
    reachable: list[Recommendation] = []
    unreachable: list[Recommendation] = []
    for c in candidates:
        if c.status not in assignable or not needed <= c.capabilities:
            continue
        straight = haversine_m(c.position, target) if c.position is not None else None
        if c.position is None:
            unreachable.append(_rec(c, straight, None, None, False, False, "no_position"))
            continue
        est = road.get(c.unit_id)
        distance_m: float | None
        if est is None:
            speed = speeds.get(c.profile)
            if speed is None:
                unreachable.append(_rec(c, straight, None, None, True, False, "unknown_profile"))
                continue
            eta_s, distance_m = straight_line_estimate(c.position, target, speed)
            estimated = True
        elif not est.reachable or est.eta_s is None:
            unreachable.append(_rec(c, straight, None, None, False, False,
                                    est.reason or "unreachable"))
            continue
        else:
            eta_s, distance_m, estimated = est.eta_s, est.distance_m, False
        meets = None if on_scene_s is None else eta_s <= on_scene_s
        reachable.append(_rec(c, straight, eta_s, distance_m, estimated, meets, None))
    # Available before returning at equal ETA; then call sign for a stable order.
    reachable.sort(key=lambda r: (r.eta_s or 0.0, r.status != "available", r.call_sign))
    unreachable.sort(key=lambda r: r.call_sign)
    ordered = reachable + unreachable
    return [_with_rank(r, i + 1) for i, r in enumerate(ordered)]


def _rec(c: Candidate, straight_m: float | None, eta_s: float | None,
         distance_m: float | None, estimated: bool, sla_can_be_met: bool | None,
         reason: str | None) -> Recommendation:
    return Recommendation(
        unit_id=c.unit_id, call_sign=c.call_sign, agency_code=c.agency_code, status=c.status,
        profile=c.profile, reachable=reason is None, eta_s=eta_s, distance_m=distance_m,
        straight_line_m=straight_m, estimated=estimated, position_source=c.position_source,
        position=c.position, sla_can_be_met=sla_can_be_met, reason=reason,
        eta_kind=None if eta_s is None else (ETA_ESTIMATE if estimated else ETA_ROAD))


def _with_rank(r: Recommendation, rank: int) -> Recommendation:
    return replace(r, rank=rank)
