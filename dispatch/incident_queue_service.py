"""The incident queue of a regency: its open incidents with their running clocks, read from the
database and ordered by :mod:`dispatch.incident_queue` (priority, then SLA time left).

The on-scene clock of an agency starts as the live SLA of an assignment does
(:func:`dispatch.report_service.clock_start`): at the report when the Perbup rule in force at
receipt says so, else at the agency's notification (or its first dispatch); it stops at the
agency's first arrival. Scoped: another regency is not found; an agency desk sees the incidents
its agency takes part in, and only its own agency's clocks.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.incident_queue import AckClock, OnSceneClock, QueueEntry, QueueInput, build_queue
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES
from dispatch.models import Agency, Assignment, Incident, IncidentAgency
from dispatch.perbup import START_RECEIVED, RuleSet, in_force
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING, check_region, incident_condition
from dispatch.sla_rules_service import rule_sets

__all__ = ["incident_queue"]

#: Roles whose agency is only informed: no clock of its own.
_NO_CLOCK = frozenset({"informed"})


def incident_queue(session: Session, *, scope: Scope, kode_kab: str, now: datetime,
                   limit: int = 200) -> list[tuple[Incident, QueueEntry]]:
    """Open incidents of ``kode_kab`` (real and drills, newest ``limit``), most urgent first."""
    check_region(kode_kab, scope)
    incidents = {i.id: i for i in session.scalars(
        select(Incident).where(Incident.kode_kab == kode_kab, incident_condition(scope),
                               Incident.status.in_(OPEN_INCIDENT_STATUSES))
        .order_by(Incident.id.desc()).limit(limit))}
    agencies: dict[int, list[tuple[IncidentAgency, str]]] = defaultdict(list)
    for ia, code in session.execute(
            select(IncidentAgency, Agency.code).join(Agency, Agency.id == IncidentAgency.agency_id)
            .where(IncidentAgency.incident_id.in_(list(incidents)))):
        if scope.allows_agency(code):
            agencies[ia.incident_id].append((ia, code))
    dispatched: dict[tuple[int, int], datetime] = {}
    arrived: set[tuple[int, int]] = set()
    for a in session.scalars(select(Assignment).where(
            Assignment.incident_id.in_(list(incidents)))):
        key = (a.incident_id, a.agency_id)
        if a.arrived_at is not None:
            arrived.add(key)
        if key not in dispatched or a.dispatched_at < dispatched[key]:
            dispatched[key] = a.dispatched_at
    regency_rules = rule_sets(session, EVERYTHING, kode_kab)  # the scope was checked above
    items = []
    for incident in incidents.values():
        on_scene, acks = [], []
        for ia, code in agencies[incident.id]:
            if ia.role in _NO_CLOCK or ia.resolved_at is not None:
                continue
            if ia.notified_at is not None and ia.acknowledged_at is None:
                acks.append(AckClock(code, ia.notified_at, ia.ack_min, ia.escalated_at))
            key = (incident.id, ia.agency_id)
            start = _clock_start(regency_rules, incident, ia, code, dispatched.get(key))
            if key not in arrived and start is not None and ia.on_scene_min is not None:
                on_scene.append(OnSceneClock(code, start, ia.on_scene_min))
        items.append(QueueInput(incident.id, incident.priority, incident.received_at,
                                tuple(on_scene), tuple(acks)))
    return [(incidents[e.incident_id], e) for e in build_queue(items, now)]


def _clock_start(regency_rules: list[RuleSet], incident: Incident, ia: IncidentAgency,
                 code: str, first_dispatch: datetime | None) -> datetime | None:
    """When the agency's on-scene clock started (``None``: not yet): at the report when the
    rule in force at receipt says so (fire SPM: from receipt), else at the notification."""
    found = in_force(regency_rules, incident.received_at)
    rule = None if found is None else found.rule_for(code, incident.category, incident.kind)
    if rule is not None and rule.start == START_RECEIVED:
        return incident.received_at
    return ia.notified_at or first_dispatch
