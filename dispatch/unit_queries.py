"""Read-only queries of units, agencies and the assignments of an incident, each filtered by
the caller's tenancy :class:`~dispatch.scope.Scope` (re-exported by
:mod:`dispatch.assignment_service`). Functions never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Agency, Assignment, IncidentAgency, Unit
from dispatch.scope import Scope
from dispatch.scoping import agency_condition, assignment_condition, unit_condition


def list_units(session: Session, *, kode_kab: str | None = None, agency: str | None = None,
               status: str | None = None,
               scope: Scope) -> list[tuple[Unit, Agency]]:
    """Units of ``scope`` (a desk: its agency's) with their agency, by region and call sign."""
    stmt = (select(Unit, Agency).join(Agency, Agency.id == Unit.agency_id)
            .where(unit_condition(scope)))
    if kode_kab:
        stmt = stmt.where(Unit.kode_kab == kode_kab)
    if agency:
        stmt = stmt.where(Agency.code == agency)
    if status:
        stmt = stmt.where(Unit.status == status)
    return [(r[0], r[1]) for r in session.execute(stmt.order_by(Unit.kode_kab, Unit.call_sign))]


def incident_assignments(session: Session, incident_id: int, *,
                         scope: Scope) -> list[tuple[Assignment, Unit]]:
    """The incident's assignments visible to ``scope`` (a desk: its agency's), oldest first."""
    rows = session.execute(select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id)
                           .where(Assignment.incident_id == incident_id,
                                  assignment_condition(scope)).order_by(Assignment.id))
    return [(r[0], r[1]) for r in rows]


def agency_clock(session: Session, a: Assignment) -> IncidentAgency | None:
    """The incident-agency row (SLA clocks) an assignment belongs to."""
    return session.scalars(select(IncidentAgency).where(
        IncidentAgency.incident_id == a.incident_id,
        IncidentAgency.agency_id == a.agency_id)).first()


def list_agencies(session: Session, *, kode_kab: str | None = None,
                  scope: Scope) -> list[Agency]:
    """Agencies of ``scope``'s regencies, by region and code."""
    stmt = select(Agency).where(agency_condition(scope)).order_by(Agency.kode_kab, Agency.code)
    if kode_kab:
        stmt = stmt.where(Agency.kode_kab == kode_kab)
    return list(session.scalars(stmt))


def on_duty_devices(session: Session) -> set[str]:
    """Tracker ids of units on duty (any status but out of service): the devices whose silence
    is a stale-tracker event (``tracking.ingest.IngestWorker(on_duty=...)``)."""
    return set(session.scalars(select(Unit.device_id).where(
        Unit.device_id.is_not(None), Unit.status != "out_of_service")))
