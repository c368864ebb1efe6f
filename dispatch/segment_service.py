"""The standard time segments of one incident: every agency record and every assignment.

For each agency taking part, :func:`incident_segments` gives the rule in force when the incident
was received (:mod:`dispatch.perbup`), its outcome (met / breached / pending, clock from the
report or from the notification as the rule says), the segments of its first arriving unit and
those of each of its assignments (:mod:`dispatch.segments`). Scoped like every read: an incident
outside the caller's scope is not found; an agency desk sees its own agency only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.incident_records import get_incident, utcnow
from dispatch.judgement import clock_start, judge_response
from dispatch.models import Agency, Assignment, IncidentAgency, Unit
from dispatch.perbup import START_NOTIFIED, SlaRuleSpec, in_force
from dispatch.rule_models import ComplaintTicket
from dispatch.scope import Scope
from dispatch.segments import Segments, Timeline, segments
from dispatch.sla_rules_service import rule_sets_by_region
from dispatch.timestamp import iso_utc


def _segments_out(s: Segments) -> dict[str, Any]:
    return s.as_dict() | {"gps_verified": s.gps_verified, "inconsistent": list(s.inconsistent)}


def _first_arrival(assignments: list[Assignment]) -> Assignment | None:
    live = [a for a in assignments if a.status != "cancelled"]
    arrived = sorted((a for a in live if a.arrived_at is not None), key=lambda a: a.arrived_at)
    if arrived:
        return arrived[0]
    return min(live, key=lambda a: a.dispatched_at, default=None)


def incident_segments(session: Session, scope: Scope, incident_id: int,
                      now: datetime | None = None) -> dict[str, Any]:
    """Per agency record: rule, outcome and segments; per assignment: its segments."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, scope=scope)
    versions = rule_sets_by_region(session, scope, [incident.kode_kab]).get(incident.kode_kab, [])
    rule_set = in_force(versions, incident.received_at)
    rows = session.execute(
        select(IncidentAgency, Agency).join(Agency, Agency.id == IncidentAgency.agency_id)
        .where(IncidentAgency.incident_id == incident.id).order_by(Agency.code))
    by_agency: dict[int, list[tuple[Assignment, str]]] = {}
    for a, call_sign in session.execute(
            select(Assignment, Unit.call_sign).join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.incident_id == incident.id).order_by(Assignment.id)):
        by_agency.setdefault(a.agency_id, []).append((a, call_sign))
    closed = dict(session.execute(select(ComplaintTicket.agency_id, ComplaintTicket.closed_at)
                                  .where(ComplaintTicket.incident_id == incident.id)).all())
    agencies = []
    for ia, agency in rows:
        if not scope.allows_agency(agency.code):
            continue
        assignments = by_agency.get(agency.id, [])
        first = _first_arrival([a for a, _ in assignments])
        rule = (rule_set.rule_for(agency.code, incident.category, incident.kind)
                if rule_set is not None else
                SlaRuleSpec(limit_min=ia.on_scene_min, start=START_NOTIFIED, ack_min=ia.ack_min))
        done_at = (closed.get(agency.id) or ia.resolved_at) if ia.role == "forward" else (
            first.arrived_at if first is not None else None)
        # hand-offs are the external line's; a standby agency that sent no one is not judged
        judged = ia.role != "handoff" and not (ia.role == "standby" and done_at is None)
        outcome = (judge_response(rule, incident.received_at, ia.notified_at, done_at, now)
                   if judged else None)
        record = Timeline(received_at=incident.received_at, notified_at=ia.notified_at,
                          dispatched_at=first.dispatched_at if first else None,
                          departed_at=first.departed_at if first else None,
                          arrived_at=first.arrived_at if first else None,
                          arrival_source=first.arrival_source if first else None)
        agencies.append({
            "agency": agency.code, "role": ia.role, "notified_at": iso_utc(ia.notified_at),
            "rule": rule.as_document(),
            "rule_version": rule_set.version if rule_set is not None else None,
            "outcome": None if outcome is None else {
                "status": outcome.status, "deadline": iso_utc(outcome.deadline),
                "elapsed_s": outcome.elapsed_s,
                "clock_started_at": iso_utc(clock_start(rule, incident.received_at,
                                                        ia.notified_at))},
            "segments": _segments_out(segments(record)),
            "assignments": [
                {"assignment_id": a.id, "call_sign": call_sign, "status": a.status,
                 "segments": _segments_out(segments(Timeline(
                     received_at=incident.received_at, dispatched_at=a.dispatched_at,
                     departed_at=a.departed_at, arrived_at=a.arrived_at,
                     arrival_source=a.arrival_source)))}
                for a, call_sign in assignments],
        })
    return {"incident_id": incident.id, "kode_kab": incident.kode_kab,
            "received_at": iso_utc(incident.received_at), "evaluated_at": iso_utc(now),
            "agencies": agencies}
