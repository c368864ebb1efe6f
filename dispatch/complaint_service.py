"""Follow-up of public-service complaints forwarded to an OPD: tickets, deadlines, statuses.

When triage forwards a complaint to an OPD (role ``forward``), :func:`open_tickets` gives it a
ticket the citizen can quote (``5106-000123-7``: regency, number, a Luhn check digit that catches
a mistyped digit), and a follow-up deadline from the Perbup rule in force when the complaint was
received (the regency's rule set, else the minutes copied at triage). The OPD moves it through
``received → in_progress → done``, or ``rejected`` with a reason; :func:`overdue` lists, per OPD,
the open tickets past their deadline.

Functions take ``*, session`` and a :class:`~dispatch.scope.Scope` (an agency desk sees and moves
only its own agency's tickets), never commit, and audit every change. A ticket outside the
caller's scope is not found (404).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.exceptions import DispatchNotFound, DispatchValidationError, IllegalTransition
from dispatch.incident_records import utcnow
from dispatch.judgement import clock_start
from dispatch.models import Agency, Incident, IncidentAgency
from dispatch.perbup import in_force
from dispatch.rule_models import ComplaintTicket
from dispatch.scope import Scope
from dispatch.sla_rules_service import rule_sets_by_region
from dispatch.timestamp import iso_utc

STATUSES = ("received", "in_progress", "done", "rejected")
CLOSED = frozenset({"done", "rejected"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"in_progress", "done", "rejected"}),
    "in_progress": frozenset({"done", "rejected"}),
    "done": frozenset(),
    "rejected": frozenset(),
}
#: Status labels for the citizen and the desk (Bahasa Indonesia, English).
STATUS_LABELS = {
    "received": ("Diterima", "Received"),
    "in_progress": ("Sedang ditindaklanjuti", "In progress"),
    "done": ("Selesai", "Done"),
    "rejected": ("Ditolak", "Rejected"),
}


class TicketNotFound(DispatchNotFound):
    """No ticket with that number (or not in the caller's scope, or a mistyped number)."""


def luhn_digit(digits: str) -> int:
    """The Luhn check digit of a string of digits."""
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return (10 - total % 10) % 10


def ticket_number(kode_kab: str, ticket_id: int) -> str:
    """``5106-000123-7`` for ticket 123 of regency 51.06."""
    body = f"{kode_kab.replace('.', '')}{ticket_id:06d}"
    return f"{body[:4]}-{body[4:]}-{luhn_digit(body)}"


def normalize_ticket_number(value: str) -> str | None:
    """The canonical form of a quoted number (spaces, dots and dashes ignored), ``None`` when it
    is malformed or its check digit is wrong."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) < 11 or len(digits) != len("".join(c for c in value if c.isalnum())):
        return None
    body, check = digits[:-1], int(digits[-1])
    if luhn_digit(body) != check:
        return None
    return f"{body[:4]}-{body[4:]}-{check}"


def _due(session: Session, incident: Incident, ia: IncidentAgency, code: str) -> datetime:
    versions = rule_sets_by_region(session, Scope.everything(), [incident.kode_kab])
    rule_set = in_force(versions.get(incident.kode_kab, []), incident.received_at)
    if rule_set is not None:
        rule = rule_set.rule_for(code, incident.category, incident.kind)
        start = clock_start(rule, incident.received_at, ia.notified_at) or incident.received_at
        return start + timedelta(minutes=rule.limit_min)
    return (ia.notified_at or incident.received_at) + timedelta(minutes=ia.on_scene_min)


def open_tickets(session: Session, incident: Incident, *, actor: str,
                 now: datetime | None = None) -> list[ComplaintTicket]:
    """One ticket per OPD the complaint is forwarded to (idempotent; run after triage). A
    ticket still ``received`` whose OPD a re-triage removed is withdrawn."""
    now = now or utcnow()
    rows = session.execute(
        select(IncidentAgency, Agency.code).join(Agency, Agency.id == IncidentAgency.agency_id)
        .where(IncidentAgency.incident_id == incident.id, IncidentAgency.role == "forward"))
    existing = {t.agency_id: t for t in session.scalars(
        select(ComplaintTicket).where(ComplaintTicket.incident_id == incident.id))}
    created = []
    forwarded = set()
    for ia, code in rows:
        forwarded.add(ia.agency_id)
        if ia.agency_id in existing:
            continue
        ticket_id = session.scalar(text("SELECT nextval('complaint_ticket_id_seq')"))
        ticket = ComplaintTicket(
            id=ticket_id, kode_kab=incident.kode_kab,
            ticket_no=ticket_number(incident.kode_kab, int(ticket_id)),
            incident_id=incident.id, agency_id=ia.agency_id, status="received",
            due_at=_due(session, incident, ia, code), created_at=now, updated_at=now,
            updated_by=actor)
        session.add(ticket)
        created.append(ticket)
    for agency_id, ticket in existing.items():
        if agency_id not in forwarded and ticket.status == "received":
            session.delete(ticket)
    session.flush()
    for ticket in created:
        audit.record(session, actor=actor, at=now, entity="complaint_ticket",
                     entity_id=ticket.id, action="open", before=None, after=_state(ticket),
                     kode_kab=ticket.kode_kab)
    return created


def _state(t: ComplaintTicket) -> dict[str, Any]:
    return audit.snapshot(t, ("ticket_no", "status", "reason", "due_at", "closed_at"))


def _find(session: Session, scope: Scope, ticket_no: str, *,
          lock: bool = False) -> tuple[ComplaintTicket, Agency, Incident]:
    canonical = normalize_ticket_number(ticket_no)
    missing = TicketNotFound(f"Tiket {ticket_no} tidak ditemukan / ticket {ticket_no} not found.")
    if canonical is None:
        raise missing
    stmt = (select(ComplaintTicket, Agency, Incident)
            .join(Agency, Agency.id == ComplaintTicket.agency_id)
            .join(Incident, Incident.id == ComplaintTicket.incident_id)
            .where(ComplaintTicket.ticket_no == canonical))
    if lock:
        stmt = stmt.with_for_update(of=ComplaintTicket)
    row = session.execute(stmt).first()
    if row is None or not scope.allows(row[0].kode_kab) or not scope.allows_agency(row[1].code):
        raise missing
    return row[0], row[1], row[2]


def ticket_out(t: ComplaintTicket, agency: Agency, incident: Incident,
               now: datetime) -> dict[str, Any]:
    label_id, label_en = STATUS_LABELS[t.status]
    return {"ticket_no": t.ticket_no, "kode_kab": t.kode_kab, "incident_id": t.incident_id,
            "category": incident.category, "agency": agency.code, "agency_name": agency.name,
            "status": t.status, "status_label": label_id, "status_label_en": label_en,
            "reason": t.reason, "due_at": iso_utc(t.due_at),
            "overdue": t.closed_at is None and now > t.due_at,
            "created_at": iso_utc(t.created_at), "updated_at": iso_utc(t.updated_at),
            "closed_at": iso_utc(t.closed_at)}


def get_ticket(session: Session, scope: Scope, ticket_no: str,
               now: datetime | None = None) -> dict[str, Any]:
    """The ticket's status as the citizen is told it (and the desk sees it)."""
    t, agency, incident = _find(session, scope, ticket_no)
    return ticket_out(t, agency, incident, now or utcnow())


def tickets_of_incident(session: Session, scope: Scope, incident_id: int,
                        now: datetime | None = None) -> list[dict[str, Any]]:
    """The tickets of one complaint (what the call-taker reads out to the citizen); an
    incident outside the scope has none."""
    now = now or utcnow()
    rows = session.execute(
        select(ComplaintTicket, Agency, Incident)
        .join(Agency, Agency.id == ComplaintTicket.agency_id)
        .join(Incident, Incident.id == ComplaintTicket.incident_id)
        .where(ComplaintTicket.incident_id == incident_id).order_by(ComplaintTicket.id))
    return [ticket_out(t, a, i, now) for t, a, i in rows
            if scope.allows(t.kode_kab) and scope.allows_agency(a.code)]


def set_status(session: Session, scope: Scope, ticket_no: str, status: str, *, actor: str,
               reason: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Move a ticket (audited). ``rejected`` needs a reason; ``done`` and ``rejected`` are
    final and stop its clock."""
    now = now or utcnow()
    if status not in STATUSES:
        raise DispatchValidationError(f"Status harus salah satu dari / status must be one of "
                                      f"{', '.join(STATUSES)}.")
    reason = (reason or "").strip() or None
    if status == "rejected" and reason is None:
        raise DispatchValidationError("Penolakan wajib disertai alasan / a rejection needs a "
                                      "reason.")
    t, agency, incident = _find(session, scope, ticket_no, lock=True)
    if status not in TRANSITIONS[t.status]:
        raise IllegalTransition("complaint_ticket", t.status, status)
    before = _state(t)
    t.status, t.updated_at, t.updated_by = status, now, actor
    if reason is not None:
        t.reason = reason
    if status in CLOSED:
        t.closed_at = now
    session.flush()
    audit.record(session, actor=actor, at=now, entity="complaint_ticket", entity_id=t.id,
                 action=f"status:{status}", before=before, after=_state(t),
                 kode_kab=t.kode_kab)
    return ticket_out(t, agency, incident, now)


def overdue(session: Session, scope: Scope, *, kode_kab: str, now: datetime | None = None,
            agency: str | None = None) -> list[dict[str, Any]]:
    """Per OPD of the regency, its open tickets past their deadline (most overdue first)."""
    now = now or utcnow()
    if not scope.allows(kode_kab):
        raise TicketNotFound(f"Wilayah {kode_kab} tidak ditemukan / region {kode_kab} not found.")
    stmt = (select(ComplaintTicket, Agency, Incident)
            .join(Agency, Agency.id == ComplaintTicket.agency_id)
            .join(Incident, Incident.id == ComplaintTicket.incident_id)
            .where(ComplaintTicket.kode_kab == kode_kab, ComplaintTicket.closed_at.is_(None),
                   ComplaintTicket.due_at < now)
            .order_by(ComplaintTicket.due_at, ComplaintTicket.id))
    if scope.agency_code is not None:
        stmt = stmt.where(Agency.code == scope.agency_code)
    if agency is not None:
        stmt = stmt.where(Agency.code == agency)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names: dict[str, str] = {}
    for t, a, incident in session.execute(stmt):
        names[a.code] = a.name
        item = ticket_out(t, a, incident, now)
        item["overdue_s"] = (now - t.due_at).total_seconds()
        groups[a.code].append(item)
    return [{"agency": code, "name": names[code], "overdue": len(groups[code]),
             "tickets": groups[code]} for code in sorted(groups)]
