"""GPS verification of arrival on scene, run after each committed batch of fixes.

For every assignment whose unit's tracker is in the batch, the unit's track since dispatch is
loaded from storage (so late, out-of-order fixes are included in time order) and the geofence +
dwell rule of ``tracking.arrival`` is applied around the incident, with the radius configured for
the incident's category. A new arrival sets ``arrived_at`` (the first fix of the qualifying
dwell), ``arrival_source='gps'`` and is audited; a GPS arrival already recorded may move
**earlier** when older fixes arrive late (audited with before/after), never later. The evidence
(GeoJSON track from dispatch to the end of the dwell + the rule) and its digest are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.arrival_evidence import DEFAULT_RULE, evidence_meta, rule_for
from dispatch.assignment_service import get_assignment, get_unit, record_arrival
from dispatch.config import DispatchConfig
from dispatch.events import DomainEvent
from dispatch.evidence_check import check_evidence
from dispatch.exceptions import AssignmentNotFound
from dispatch.incident_records import point_of, utcnow
from dispatch.models import Assignment, Incident, IncidentAgency, Unit
from dispatch.report_service import assignment_sla
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING
from dispatch.timestamp import iso_utc
from tracking.arrival import ArrivalRule, detect_arrival
from tracking.evidence import build_evidence, evidence_digest
from tracking.fix import Fix
from tracking.service import fixes_between

GPS_ACTOR = "system:gps"
__all__ = ["DEFAULT_RULE", "GPS_ACTOR", "assignment_evidence", "rule_for", "verify_arrivals"]


def _candidates(session: Session, fixes: Sequence[Fix]) -> list[tuple[Assignment, Unit, Incident]]:
    spans: dict[str, tuple[datetime, datetime]] = {}
    for f in fixes:
        lo, hi = spans.get(f.device_id, (f.fix_time, f.fix_time))
        spans[f.device_id] = (min(lo, f.fix_time), max(hi, f.fix_time))
    if not spans:
        return []
    rows = session.execute(
        select(Assignment, Unit, Incident)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Incident, Incident.id == Assignment.incident_id)
        .where(Unit.device_id.in_(list(spans)), Assignment.status != "cancelled",
               or_(Assignment.arrival_source.is_(None), Assignment.arrival_source == "gps"))
        .order_by(Assignment.id))
    out = []
    for a, u, i in rows:
        if u.device_id is None:
            continue
        lo, hi = spans[u.device_id]
        if a.dispatched_at <= hi and (a.cleared_at is None or a.cleared_at >= lo):
            out.append((a, u, i))
    return out


def verify_arrivals(session: Session, fixes: Sequence[Fix], *, config: DispatchConfig | None,
                    now: datetime | None = None,
                    base_rule: ArrivalRule = DEFAULT_RULE) -> list[DomainEvent]:
    """Detect (or move earlier) GPS arrivals for the assignments touched by ``fixes``."""
    now = now or utcnow()
    events: list[DomainEvent] = []
    for a, unit, incident in _candidates(session, fixes):
        target = point_of(incident.geom)
        if target is None or unit.device_id is None:
            continue
        rule = rule_for(config, incident.category, base_rule)
        end = a.cleared_at or max(now, max(f.fix_time for f in fixes))
        track = fixes_between(session, unit.device_id, a.dispatched_at, end)
        arrival = detect_arrival(track, target, rule, since=a.dispatched_at)
        if arrival is None:
            continue
        previous = a.arrived_at
        if previous is not None and arrival.arrived_at >= previous:
            continue  # already recorded at this time or earlier: never move later
        a = get_assignment(session, a.id, lock=True, scope=EVERYTHING)
        evidence_track = [f for f in track if a.dispatched_at <= f.fix_time
                          <= arrival.last_fix.fix_time]
        evidence = build_evidence(evidence_track, target, rule, arrival,
                                  meta=evidence_meta(a, unit))
        if previous is None:
            if a.status != "active":
                continue
            unit = get_unit(session, unit.id, lock=True, scope=EVERYTHING)
            events.extend(record_arrival(session, a, unit, at=arrival.arrived_at, source="gps",
                                         actor=GPS_ACTOR, now=now, evidence=evidence))
            action = "arrived"
        else:
            before = {"arrived_at": previous, "evidence_digest": a.evidence_digest}
            a.arrived_at = arrival.arrived_at
            a.evidence, a.evidence_digest = evidence, evidence_digest(evidence)
            action = "arrival_revised"
        if action == "arrival_revised":
            audit.record(session, actor=GPS_ACTOR, at=now, entity="assignment", entity_id=a.id,
                         action="arrival_revised", before=before,
                         after={"arrived_at": a.arrived_at, "evidence_digest": a.evidence_digest,
                                "reason": "late fixes"}, kode_kab=a.kode_kab)
        ia = session.scalars(select(IncidentAgency).where(
            IncidentAgency.incident_id == a.incident_id,
            IncidentAgency.agency_id == a.agency_id)).first()
        payload: dict[str, Any] = {
            "action": action, "assignment_id": a.id, "incident_id": a.incident_id,
            "unit_id": unit.id, "call_sign": unit.call_sign, "device_id": unit.device_id,
            "kode_kab": a.kode_kab, "arrived_at": iso_utc(arrival.arrived_at),
            "previous_arrived_at": iso_utc(previous),
            "evidence_digest": a.evidence_digest, "dwell_s": arrival.dwell_s,
            "fixes_in_dwell": arrival.fixes_in_dwell,
            "sla": assignment_sla(session, a, ia, now) if ia is not None else None,
        }
        events.append(DomainEvent("arrival", payload))
    session.flush()
    return events


def assignment_evidence(session: Session, assignment_id: int, *,
                        config: DispatchConfig | None = None, now: datetime | None = None,
                        scope: Scope) -> dict[str, Any]:
    """The stored evidence and digest, with ``digest_valid`` recomputed (tamper check), and
    ``check``: the arrival recomputed from the stored positions with the recorded rule and the
    audit chain's record of it, with every disagreement listed. Without stored evidence, the
    track since dispatch is returned with no arrival (nothing stored). A row outside ``scope``
    is not found."""
    now = now or utcnow()
    a = get_assignment(session, assignment_id, scope=scope)  # outside the scope: not found
    unit = session.get(Unit, a.unit_id)
    incident = session.get(Incident, a.incident_id)
    if unit is None or incident is None:
        raise AssignmentNotFound(f"assignment {assignment_id} has lost its unit or incident.")
    check = check_evidence(session, a, unit, incident, config=config, now=now)
    if a.evidence is not None:
        return {"assignment_id": a.id, "arrival_source": a.arrival_source,
                "arrived_at": iso_utc(a.arrived_at),
                "digest": a.evidence_digest,
                "digest_valid": evidence_digest(a.evidence) == a.evidence_digest,
                "evidence": a.evidence, "check": check}
    target = point_of(incident.geom)
    track = (fixes_between(session, unit.device_id, a.dispatched_at,
                           max(a.cleared_at or now, a.dispatched_at)) if unit.device_id else [])
    evidence = None
    if target is not None:
        rule = rule_for(config, incident.category)
        evidence = build_evidence(track, target, rule, None, meta=evidence_meta(a, unit))
    return {"assignment_id": a.id, "arrival_source": a.arrival_source,
            "arrived_at": iso_utc(a.arrived_at),
            "digest": evidence_digest(evidence) if evidence else None, "digest_valid": None,
            "evidence": evidence, "check": check}
