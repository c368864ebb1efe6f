"""The evidence stored with an arrival, GPS or manual, before the arrival is audited.

Both kinds store a GeoJSON track (``tracking.evidence``) and its digest on the assignment, so the
arrival's audit entry (and with it the audit hash chain) carries the digest from the first
record on. A GPS arrival's evidence holds the track from dispatch to the end of the qualifying
dwell and the rule that fired; a manual arrival's holds the track from dispatch to the moment
it was confirmed, the rule that would apply, and who confirmed it at what time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dispatch.config import DispatchConfig
from dispatch.incident_records import point_of
from dispatch.models import Assignment, Incident, Unit
from dispatch.timestamp import iso_utc
from tracking.arrival import ArrivalRule
from tracking.evidence import build_evidence
from tracking.service import fixes_between

DEFAULT_RULE = ArrivalRule()


def rule_for(config: DispatchConfig | None, category: str,
             base: ArrivalRule = DEFAULT_RULE) -> ArrivalRule:
    """The arrival rule with the category's geofence radius (exit radius 1.5× and ≥ +50 m)."""
    if config is None or category not in config.categories:
        return base
    radius_m = config.categories[category].geofence_radius_m
    return replace(base, radius_m=radius_m, exit_radius_m=max(radius_m * 1.5, radius_m + 50.0))


def evidence_meta(a: Assignment, unit: Unit) -> dict[str, Any]:
    """The ``meta`` block of an assignment's evidence (ids, unit, regency, dispatch time)."""
    return {"assignment_id": a.id, "incident_id": a.incident_id, "unit_id": unit.id,
            "call_sign": unit.call_sign, "device_id": unit.device_id, "kode_kab": a.kode_kab,
            "dispatched_at": iso_utc(a.dispatched_at)}


def manual_evidence(session: Session, a: Assignment, unit: Unit, *, at: datetime, actor: str,
                    now: datetime, config: DispatchConfig | None = None) -> dict | None:
    """Evidence of a manual arrival at ``at`` confirmed by ``actor`` at ``now``: the unit's
    stored track since dispatch (empty without a tracker), or ``None`` when the incident has no
    position to measure against."""
    incident = session.get(Incident, a.incident_id)
    target = None if incident is None else point_of(incident.geom)
    if target is None or incident is None:
        return None
    end = max(now, at, a.dispatched_at)
    track = fixes_between(session, unit.device_id, a.dispatched_at, end) if unit.device_id else []
    meta = evidence_meta(a, unit)
    meta["manual_arrival"] = {"arrived_at": iso_utc(at), "confirmed_by": actor,
                              "confirmed_at": iso_utc(now)}
    return build_evidence(track, target, rule_for(config, incident.category), None, meta=meta)
