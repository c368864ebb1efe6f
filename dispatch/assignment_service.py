"""Units and assignments: assign (with a row lock), acknowledge, depart, arrive, clear; unit
status changes (escalation of unacknowledged agencies: ``dispatch.escalation_service``).

Assigning first checks the unit without a lock (a unit already taken is refused at once), then
locks the unit row (``SELECT ... FOR UPDATE``) and then the incident row: of many dispatchers
assigning the same unit at once, one wins and the others wait for its commit, then see the unit
taken and get :class:`UnitUnavailable`. A partial unique index (one active assignment per unit)
backs this up in the database. Lock order everywhere: assignment, unit, incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.arrival_evidence import manual_evidence
from dispatch.config import DispatchConfig
from dispatch.events import DomainEvent, Outcome
from dispatch.exceptions import (
    AssignmentNotFound,
    DispatchValidationError,
    IllegalTransition,
    UnitNotFound,
    UnitUnavailable,
)
from dispatch.incident_records import (
    fetch_by_id,
    get_incident,
    incident_event,
    point_of,
    set_incident_status,
    sla_minutes,
    utcnow,
)
from dispatch.lifecycle import (
    ASSIGNABLE_UNIT_STATUSES,
    check_manual_arrival,
    unit_transition,
)
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, Unit
from dispatch.notification_service import enqueue
from dispatch.ports import RoadNetworks
from dispatch.recommend_service import predict_for_unit
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING, assignment_condition, unit_condition
from dispatch.timestamp import iso_utc
from dispatch.unit_queries import (
    agency_clock,
    incident_assignments,
    list_agencies,
    list_units,
    on_duty_devices,
)
from tracking.evidence import evidence_digest

__all__ = ["agency_clock", "incident_assignments", "list_agencies", "list_units",  # re-exported
           "on_duty_devices", "utcnow"]

ASSIGNABLE_INCIDENT_STATUSES = frozenset({"triaged", "dispatched", "on_scene"})


def get_unit(session: Session, unit_id: int, *, lock: bool = False,
             scope: Scope) -> Unit:
    """The unit if ``scope`` may see it, else :class:`UnitNotFound`."""
    unit = fetch_by_id(session, Unit, unit_id, lock=lock, where=unit_condition(scope))
    if unit is None:
        raise UnitNotFound(f"Unit {unit_id} tidak ditemukan / unit {unit_id} not found.")
    return unit


def get_assignment(session: Session, assignment_id: int, *, lock: bool = False,
                   scope: Scope) -> Assignment:
    """The assignment if ``scope`` may see it (a desk: its agency's), else not found."""
    a = fetch_by_id(session, Assignment, assignment_id, lock=lock,
                    where=assignment_condition(scope))
    if a is None:
        raise AssignmentNotFound(f"Penugasan {assignment_id} tidak ditemukan / assignment "
                                 f"{assignment_id} not found.")
    return a


#: The audited fields of an assignment.
ASSIGNMENT_FIELDS = ("status", "unit_id", "agency_id", "dispatched_at", "acknowledged_at",
                     "departed_at", "arrived_at", "cleared_at", "arrival_source", "arrived_by",
                     "evidence_digest")


def assignment_state(a: Assignment) -> dict[str, Any]:
    return audit.snapshot(a, ASSIGNMENT_FIELDS)


def unit_event(u: Unit, action: str, **extra: Any) -> DomainEvent:
    return DomainEvent("unit", {"action": action, "unit_id": u.id, "call_sign": u.call_sign,
                                "kode_kab": u.kode_kab, "status": u.status, **extra})


def _move_unit(session: Session, unit: Unit, target: str, *, actor: str, now: datetime,
               reason: str) -> None:
    before = unit.status
    unit.status = unit_transition(unit.status, target)
    unit.status_changed_at = now
    audit.record(session, actor=actor, at=now, entity="unit", entity_id=unit.id,
                 action=f"status:{target}", before={"status": before},
                 after={"status": target, "reason": reason}, kode_kab=unit.kode_kab)


def _active_assignment(session: Session, unit_id: int) -> Assignment | None:
    return session.scalars(select(Assignment).where(
        Assignment.unit_id == unit_id, Assignment.status == "active")).first()


def _check_assignable(session: Session, unit: Unit) -> None:
    """Raise UnitUnavailable unless the unit may take a new assignment."""
    if unit.status not in ASSIGNABLE_UNIT_STATUSES:
        raise UnitUnavailable(
            f"Unit {unit.call_sign} sedang '{unit.status}', tidak bisa ditugaskan / unit "
            f"{unit.call_sign} is '{unit.status}' and cannot be assigned.")
    busy = _active_assignment(session, unit.id)
    if busy is not None:
        raise UnitUnavailable(
            f"Unit {unit.call_sign} masih punya penugasan aktif #{busy.id} (kejadian "
            f"#{busy.incident_id}) / unit {unit.call_sign} still has active assignment "
            f"#{busy.id} (incident #{busy.incident_id}).")


def _check_incident_open(incident: Incident) -> None:
    if incident.status not in ASSIGNABLE_INCIDENT_STATUSES:
        raise IllegalTransition("incident", incident.status, "dispatched")


def assign_unit(
    session: Session,
    incident_id: int,
    unit_id: int,
    *,
    config: DispatchConfig,
    actor: str,
    road_networks: RoadNetworks | None = None,
    profiles: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    scope: Scope,
) -> Outcome[Assignment]:
    """Send a unit: lock it, check it is free, record the predicted ETA, start the agency's SLA
    clock, move unit → dispatched and incident → dispatched. Raises UnitUnavailable (taken),
    IllegalTransition (incident not triaged or already closed)."""
    now = now or utcnow()
    # Without locks first: a unit already taken (the usual loser of a race) is refused at once.
    unit = get_unit(session, unit_id, scope=scope)
    incident = get_incident(session, incident_id, scope=scope)
    _check_assignable(session, unit)
    _check_incident_open(incident)
    if unit.kode_kab != incident.kode_kab:
        raise DispatchValidationError(
            f"Unit {unit.call_sign} milik wilayah {unit.kode_kab} / unit belongs to region "
            f"{unit.kode_kab}, the incident to {incident.kode_kab}.")
    target = point_of(incident.geom)
    prediction = (predict_for_unit(session, unit, target, road_networks=road_networks,
                                   profiles=profiles) if target is not None else None)
    # Then under the row locks (unit before incident): the state may have changed meanwhile.
    unit = get_unit(session, unit_id, lock=True, scope=EVERYTHING)
    _check_assignable(session, unit)
    incident = get_incident(session, incident_id, lock=True, scope=EVERYTHING)
    _check_incident_open(incident)
    ia = session.scalars(select(IncidentAgency).where(
        IncidentAgency.incident_id == incident.id, IncidentAgency.agency_id == unit.agency_id)
        .with_for_update()).first()
    if ia is None:  # an agency the rules did not name: the dispatcher adds it by sending a unit
        agency = session.get_one(Agency, unit.agency_id)
        ack_min, on_scene_min = sla_minutes(session, config, agency, incident.category)
        ia = IncidentAgency(kode_kab=incident.kode_kab, incident_id=incident.id,
                            agency_id=unit.agency_id, role="dispatch", required=False,
                            capabilities=[], units_required=0, ack_min=ack_min,
                            on_scene_min=on_scene_min)
        session.add(ia)
    if ia.notified_at is None:
        ia.notified_at = now
    assignment = Assignment(
        kode_kab=incident.kode_kab, incident_id=incident.id, unit_id=unit.id,
        agency_id=unit.agency_id, status="active", dispatched_at=now, dispatched_by=actor,
        eta_s=prediction.eta_s if prediction and prediction.reachable else None,
        distance_m=prediction.distance_m if prediction and prediction.reachable else None,
        estimated=bool(prediction and prediction.estimated),
        position_source=prediction.position_source if prediction else None,
    )
    _move_unit(session, unit, "dispatched", actor=actor, now=now,
               reason=f"incident {incident.id}")
    session.add(assignment)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise UnitUnavailable(f"Unit {unit.call_sign} sudah punya penugasan aktif / already has "
                              "an active assignment.") from exc
    audit.record(session, actor=actor, at=now, entity="assignment", entity_id=assignment.id,
                 action="assign", before=None, after=assignment_state(assignment)
                 | {"eta_s": assignment.eta_s, "estimated": assignment.estimated},
                 kode_kab=incident.kode_kab)
    agency_code = session.scalar(select(Agency.code).where(Agency.id == unit.agency_id))
    enqueue(session, kind="assignment", kode_kab=incident.kode_kab, agency_code=agency_code,
            incident_id=incident.id, now=now,
            data={"call_sign": unit.call_sign, "eta_s": assignment.eta_s,
                  "place": incident.nama_desa or incident.place_text or ""})
    events = [unit_event(unit, "dispatched", incident_id=incident.id)]
    if incident.status == "triaged":
        set_incident_status(session, incident, "dispatched", actor=actor, now=now)
        events.append(incident_event(incident, "dispatched"))
    return Outcome(assignment, events)


def _active(session: Session, assignment_id: int, *,
            scope: Scope) -> tuple[Assignment, Unit]:
    get_assignment(session, assignment_id, scope=scope)  # outside the scope: not found
    a = get_assignment(session, assignment_id, lock=True, scope=EVERYTHING)
    if a.status != "active":
        raise IllegalTransition("assignment", a.status, "active")
    return a, get_unit(session, a.unit_id, lock=True, scope=EVERYTHING)


def _audit_assignment(session: Session, a: Assignment, before: dict, action: str, *,
                      actor: str, now: datetime) -> None:
    audit.record(session, actor=actor, at=now, entity="assignment", entity_id=a.id,
                 action=action, before=before, after=assignment_state(a), kode_kab=a.kode_kab)


def acknowledge(session: Session, assignment_id: int, *, actor: str,
                now: datetime | None = None, scope: Scope) -> Outcome[Assignment]:
    """The unit/agency confirmed the tasking (also stops the agency's acknowledgement clock)."""
    now = now or utcnow()
    a, unit = _active(session, assignment_id, scope=scope)
    if a.acknowledged_at is not None:
        raise IllegalTransition("assignment", "acknowledged", "acknowledged")
    before = assignment_state(a)
    a.acknowledged_at = now
    _audit_assignment(session, a, before, "acknowledge", actor=actor, now=now)
    ia = session.scalars(select(IncidentAgency).where(
        IncidentAgency.incident_id == a.incident_id,
        IncidentAgency.agency_id == a.agency_id)).first()
    if ia is not None and ia.acknowledged_at is None:
        ia.acknowledged_at, ia.acknowledged_by = now, actor
    return Outcome(a, [unit_event(unit, "acknowledged", assignment_id=a.id)])


def depart(session: Session, assignment_id: int, *, actor: str,
           now: datetime | None = None, scope: Scope) -> Outcome[Assignment]:
    now = now or utcnow()
    a, unit = _active(session, assignment_id, scope=scope)
    before = assignment_state(a)
    _move_unit(session, unit, "en_route", actor=actor, now=now, reason=f"assignment {a.id}")
    a.departed_at = now
    _audit_assignment(session, a, before, "depart", actor=actor, now=now)
    return Outcome(a, [unit_event(unit, "en_route", assignment_id=a.id)])


def record_arrival(session: Session, a: Assignment, unit: Unit, *, at: datetime, source: str,
                   actor: str, now: datetime, evidence: dict | None = None) -> list[DomainEvent]:
    """Mark the unit on scene at ``at`` (GPS or manual); a unit still 'dispatched' passes
    through 'en_route' so every step stays legal and audited. The evidence (and its digest)
    is stored first, so the audited arrival carries the digest into the chain."""
    before = assignment_state(a)
    if evidence is not None:
        a.evidence, a.evidence_digest = evidence, evidence_digest(evidence)
    if unit.status == "dispatched":
        _move_unit(session, unit, "en_route", actor=actor, now=now, reason="arrival")
    _move_unit(session, unit, "on_scene", actor=actor, now=now, reason=f"arrival ({source})")
    a.arrived_at, a.arrival_source, a.arrived_by = at, source, actor
    _audit_assignment(session, a, before, f"arrive:{source}", actor=actor, now=now)
    events = [unit_event(unit, "on_scene", assignment_id=a.id, arrived_at=iso_utc(at),
                         arrival_source=source)]
    incident = get_incident(session, a.incident_id, lock=True, scope=EVERYTHING)
    if incident.status == "dispatched":
        set_incident_status(session, incident, "on_scene", actor=actor, now=now)
        events.append(incident_event(incident, "on_scene"))
    return events


def arrive(session: Session, assignment_id: int, *, actor: str, at: datetime | None = None,
           now: datetime | None = None, scope: Scope) -> Outcome[Assignment]:
    """Manual arrival confirmed by ``actor`` (radio call, console button)."""
    now = now or utcnow()
    a, unit = _active(session, assignment_id, scope=scope)
    if a.arrived_at is not None:
        raise IllegalTransition("assignment", "arrived", "arrived")
    at = now if at is None else check_manual_arrival(at, dispatched_at=a.dispatched_at, now=now)
    evidence = manual_evidence(session, a, unit, at=at, actor=actor, now=now)
    return Outcome(a, record_arrival(session, a, unit, at=at, source="manual",
                                     actor=actor, now=now, evidence=evidence))


def clear(session: Session, assignment_id: int, *, actor: str,
          now: datetime | None = None, scope: Scope) -> Outcome[Assignment]:
    """The unit leaves the incident: on scene → returning; dispatched → available (stood down
    before leaving); en route → returning."""
    now = now or utcnow()
    a, unit = _active(session, assignment_id, scope=scope)
    before = assignment_state(a)
    target = "available" if unit.status == "dispatched" else "returning"
    _move_unit(session, unit, target, actor=actor, now=now, reason=f"cleared {a.id}")
    a.status, a.cleared_at = "cleared", now
    _audit_assignment(session, a, before, "clear", actor=actor, now=now)
    return Outcome(a, [unit_event(unit, target, assignment_id=a.id)])


def lock_active_assignments(session: Session, incident_id: int) -> list[Assignment]:
    """Lock the incident's active assignments, then their units (before the incident row)."""
    rows = list(session.scalars(
        select(Assignment).where(Assignment.incident_id == incident_id,
                                 Assignment.status == "active")
        .order_by(Assignment.id).with_for_update().execution_options(populate_existing=True)))
    for unit_id in sorted({a.unit_id for a in rows}):
        get_unit(session, unit_id, lock=True, scope=EVERYTHING)
    return rows


def cancel_assignments(session: Session, incident: Incident, *, actor: str, now: datetime,
                       reason: str) -> list[DomainEvent]:
    """End every active assignment of ``incident`` (status ``cancelled``) and release its unit:
    dispatched → available, en route / on scene → returning. Audited; returns unit events."""
    events: list[DomainEvent] = []
    for a in lock_active_assignments(session, incident.id):
        unit = get_unit(session, a.unit_id, lock=True, scope=EVERYTHING)
        before = assignment_state(a)
        target = "available" if unit.status == "dispatched" else "returning"
        if unit.status in ("dispatched", "en_route", "on_scene"):
            _move_unit(session, unit, target, actor=actor, now=now, reason=reason)
        a.status, a.cleared_at = "cancelled", now
        audit.record(session, actor=actor, at=now, entity="assignment", entity_id=a.id,
                     action="cancel", before=before,
                     after=assignment_state(a) | {"reason": reason}, kode_kab=a.kode_kab)
        events.append(unit_event(unit, unit.status, assignment_id=a.id, reason=reason))
    return events


def set_unit_status(session: Session, unit_id: int, status: str, *, actor: str,
                    reason: str = "", now: datetime | None = None,
                    scope: Scope) -> Outcome[Unit]:
    """Manual status change (out of service, back in service, back at base). Statuses that
    belong to an assignment (dispatched, en route, on scene) change only through it."""
    now = now or utcnow()
    unit = get_unit(session, unit_id, lock=True, scope=scope)
    if status in ("dispatched", "en_route", "on_scene"):
        raise IllegalTransition("unit", unit.status, f"{status} (use an assignment)")
    unit_transition(unit.status, status)  # an illegal change is refused as such first
    busy = _active_assignment(session, unit.id)
    if busy is not None:
        # The dispatch centre ends a tasking explicitly (clear, or cancel the incident), so the
        # SLA record and the audit trail say why; a status change never ends one silently.
        raise UnitUnavailable(
            f"Unit {unit.call_sign} masih bertugas pada penugasan #{busy.id} (kejadian "
            f"#{busy.incident_id}); selesaikan penugasan (clear) atau batalkan kejadian dulu / "
            f"unit {unit.call_sign} still has active assignment #{busy.id} (incident "
            f"#{busy.incident_id}); clear the assignment or cancel the incident first.")
    _move_unit(session, unit, status, actor=actor, now=now, reason=reason or "manual")
    return Outcome(unit, [unit_event(unit, status)])
