"""Probable duplicate incidents (pure): same category, close in space and time to an open one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dispatch.geodesy import haversine_m
from geo.types import LonLat

DEFAULT_RADIUS_M = 300.0
DEFAULT_WINDOW_S = 3600.0


@dataclass(frozen=True)
class IncidentSnapshot:
    incident_id: int | None
    category: str
    location: LonLat | None
    received_at: datetime


@dataclass(frozen=True)
class DuplicateCandidate:
    incident_id: int
    distance_m: float
    gap_s: float


def find_duplicates(
    new: IncidentSnapshot,
    open_incidents: Iterable[IncidentSnapshot],
    *,
    radius_m: float = DEFAULT_RADIUS_M,
    window_s: float = DEFAULT_WINDOW_S,
) -> list[DuplicateCandidate]:
    """Open incidents of the same category within ``radius_m`` metres and ``window_s`` seconds
    of ``new`` (either side in time), nearest first. An incident without a location matches
    nothing."""
    if new.location is None:
        return []
    found = []
    for other in open_incidents:
        if other.incident_id is None or other.incident_id == new.incident_id:
            continue
        if other.category != new.category or other.location is None:
            continue
        gap_s = abs((new.received_at - other.received_at).total_seconds())
        if gap_s > window_s:
            continue
        d = haversine_m(new.location, other.location)
        if d <= radius_m:
            found.append(DuplicateCandidate(other.incident_id, d, gap_s))
    found.sort(key=lambda c: (c.distance_m, c.gap_s))
    return found
