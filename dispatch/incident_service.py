"""Incident services after intake: agency acknowledgements and hand-offs, status changes
(resolve, close, cancel, duplicate), queries and the timeline.

Intake and triage live in :mod:`dispatch.intake`, the shared lookups in
:mod:`dispatch.incident_records`; both are re-exported here, so this module remains the one
entry point of the incident services for the API and the CLI. Functions never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.assignment_service import cancel_assignments, lock_active_assignments
from dispatch.events import DomainEvent, Outcome
from dispatch.exceptions import AgencyNotFound, DispatchValidationError, IllegalTransition
from dispatch.incident_records import (
    agency_by_code,
    fetch_by_id,
    get_incident,
    incident_agencies,
    incident_event,
    incident_state,
    point_of,
    set_incident_status,
    sla_minutes,
    to_geom,
    utcnow,
)
from dispatch.intake import CHANNELS, CLOCK_AT_TRIAGE, create_incident, triage_incident
from dispatch.lifecycle import incident_transition
from dispatch.models import Assignment, Incident, IncidentAgency
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING, incident_condition, incident_ids_of_agency
from dispatch.timestamp import iso_utc

__all__ = [
    "CHANNELS", "CLOCK_AT_TRIAGE", "acknowledge_agency", "agency_by_code",
    "change_incident_status", "create_incident", "fetch_by_id", "get_incident",
    "incident_agencies", "incident_event", "incident_involves_agency", "incident_state",
    "list_incidents", "point_of", "record_handoff", "set_incident_status", "sla_minutes",
    "timeline", "to_geom", "triage_incident", "utcnow",
]

#: Status moves that need the dispatcher's reason.
REASON_REQUIRED = frozenset({"closed", "cancelled"})


def _incident_agency(session: Session, incident: Incident, code: str) -> IncidentAgency:
    agency = agency_by_code(session, incident.kode_kab, code, scope=EVERYTHING)
    ia = session.scalars(select(IncidentAgency).where(
        IncidentAgency.incident_id == incident.id, IncidentAgency.agency_id == agency.id)
        .with_for_update()).first()
    if ia is None:
        raise AgencyNotFound(f"Instansi {code} tidak terlibat dalam kejadian {incident.id} / "
                             f"agency {code} is not part of incident {incident.id}.")
    return ia


#: The audited fields of an agency's part in an incident.
INCIDENT_AGENCY_FIELDS = ("agency_id", "role", "notified_at", "acknowledged_at",
                          "acknowledged_by", "escalated_at", "escalation_count", "handoff_ref",
                          "handoff_at", "resolved_at")


def _ia_state(ia: IncidentAgency) -> dict[str, Any]:
    return audit.snapshot(ia, INCIDENT_AGENCY_FIELDS)


def acknowledge_agency(session: Session, incident_id: int, agency_code: str, *, actor: str,
                       now: datetime | None = None,
                       scope: Scope) -> Outcome[IncidentAgency]:
    """The agency's standby line confirmed it has taken the incident (stops its ack clock)."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, scope=scope)
    ia = _incident_agency(session, incident, agency_code)
    if ia.acknowledged_at is not None:
        raise IllegalTransition("incident_agency", "acknowledged", "acknowledged")
    before = _ia_state(ia)
    ia.acknowledged_at, ia.acknowledged_by = now, actor
    if ia.notified_at is None:
        ia.notified_at = now
    audit.record(session, actor=actor, at=now, entity="incident_agency", entity_id=ia.id,
                 action="acknowledge", before=before, after=_ia_state(ia),
                 kode_kab=incident.kode_kab)
    return Outcome(ia, [DomainEvent("sla", {"action": "acknowledged", "incident_id": incident.id,
                                            "agency": agency_code, "at": iso_utc(now)})])


def record_handoff(session: Session, incident_id: int, agency_code: str, *, reference: str,
                   actor: str, now: datetime | None = None,
                   scope: Scope) -> Outcome[IncidentAgency]:
    """Record the hand-off to an external line (110, 117, 119) with its reference number."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, scope=scope)
    agency = agency_by_code(session, incident.kode_kab, agency_code, scope=EVERYTHING)
    if agency.kind != "external":
        raise DispatchValidationError(
            f"{agency_code} bukan saluran eksternal / {agency_code} is not an external hand-off.")
    ia = _incident_agency(session, incident, agency_code)
    if not reference.strip():
        raise DispatchValidationError("Nomor referensi wajib diisi / reference is required.")
    before = _ia_state(ia)
    ia.handoff_ref, ia.handoff_at, ia.handoff_by = reference.strip(), now, actor
    ia.handoff_number = agency.handoff_number
    if ia.acknowledged_at is None:
        ia.acknowledged_at, ia.acknowledged_by = now, actor
    audit.record(session, actor=actor, at=now, entity="incident_agency", entity_id=ia.id,
                 action="handoff", before=before, after=_ia_state(ia), kode_kab=incident.kode_kab)
    return Outcome(ia, [DomainEvent("incident", {
        "action": "handoff", "incident_id": incident.id, "agency": agency_code,
        "handoff_number": agency.handoff_number, "reference": ia.handoff_ref})])


def change_incident_status(session: Session, incident_id: int, target: str, *, actor: str,
                           duplicate_of: int | None = None, reason: str = "",
                           now: datetime | None = None,
                           scope: Scope) -> Outcome[Incident]:
    """Resolve, close, cancel or mark as duplicate (of ``duplicate_of``), per the lifecycle.
    Closing and cancelling need a ``reason`` (kept in the audit entry's ``after``).

    Cancelling ends the incident's active assignments (status ``cancelled``, with the reason)
    and releases their units (dispatched → available, en route → returning), all audited, in
    the same transaction."""
    now = now or utcnow()
    get_incident(session, incident_id, scope=scope)  # outside the scope: not found, no locks
    if target == "cancelled":
        lock_active_assignments(session, incident_id)  # lock order: assignment, unit, incident
    incident = get_incident(session, incident_id, lock=True, scope=scope)
    if target in REASON_REQUIRED:
        incident_transition(incident.status, target)  # an illegal move answers 409 first
        if not reason.strip():
            raise DispatchValidationError(
                "Alasan wajib diisi untuk menutup atau membatalkan / a reason is required to "
                "close or cancel.")
    if target == "duplicate":
        if duplicate_of is None or duplicate_of == incident.id:
            raise DispatchValidationError("duplicate_of must name another incident.")
        get_incident(session, duplicate_of, scope=scope)
        incident_transition(incident.status, target)
        incident.duplicate_of = duplicate_of
    if target == "resolved":
        active = session.scalars(select(Assignment.id).where(
            Assignment.incident_id == incident.id, Assignment.status == "active")).first()
        if active is not None:
            raise IllegalTransition("incident", f"{incident.status} (units still assigned)",
                                    target)
    set_incident_status(session, incident, target, actor=actor, now=now,
                        reason=reason.strip() or None)
    events = [incident_event(incident, target)]
    if target == "cancelled":
        events += cancel_assignments(session, incident, actor=actor, now=now,
                                     reason=f"incident {incident.id} cancelled")
    if target in ("resolved", "cancelled", "duplicate"):
        for ia, _ in incident_agencies(session, incident.id):
            ia.resolved_at = ia.resolved_at or now
    return Outcome(incident, events)


def list_incidents(
    session: Session,
    *,
    kode_kab: str | None = None,
    status: Sequence[str] | None = None,
    kind: str | None = None,
    category: str | None = None,
    kode_kec: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    agency_code: str | None = None,
    drill: bool | None = None,
    scope: Scope,
) -> list[Incident]:
    """Incidents newest first; ``agency_code`` keeps only those that agency takes part in;
    ``drill`` True/False keeps only drill (latihan) or only real incidents (None: both)."""
    stmt = select(Incident).where(incident_condition(scope))  # the caller's regencies/agency
    if drill is not None:
        stmt = stmt.where(Incident.drill.is_(drill))
    if agency_code:
        stmt = stmt.where(Incident.id.in_(incident_ids_of_agency(agency_code)))
    if kode_kab:
        stmt = stmt.where(Incident.kode_kab == kode_kab)
    if status:
        stmt = stmt.where(Incident.status.in_(list(status)))
    if kind:
        stmt = stmt.where(Incident.kind == kind)
    if category:
        stmt = stmt.where(Incident.category == category)
    if kode_kec:
        stmt = stmt.where(Incident.kode_kec == kode_kec)
    if start:
        stmt = stmt.where(Incident.received_at >= start)
    if end:
        stmt = stmt.where(Incident.received_at < end)
    stmt = stmt.order_by(Incident.received_at.desc(), Incident.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def incident_involves_agency(session: Session, incident_id: int, agency_code: str) -> bool:
    """Whether ``agency_code`` is one of the incident's agencies (after triage)."""
    stmt = incident_ids_of_agency(agency_code).where(IncidentAgency.incident_id == incident_id)
    return session.scalar(stmt.limit(1)) is not None


def timeline(session: Session, incident_id: int, *, scope: Scope) -> list[Any]:
    """Audit entries of the incident, its agencies and its assignments, oldest first (the
    incident must be visible to ``scope``)."""
    get_incident(session, incident_id, scope=scope)
    ia_ids = session.scalars(select(IncidentAgency.id).where(
        IncidentAgency.incident_id == incident_id)).all()
    as_ids = session.scalars(select(Assignment.id).where(
        Assignment.incident_id == incident_id)).all()
    refs = ([("incident", incident_id)] + [("incident_agency", i) for i in ia_ids]
            + [("assignment", i) for i in as_ids])
    return audit.entries(session, refs)
