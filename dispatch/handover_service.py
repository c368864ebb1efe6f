"""The shift handover of one regency, read under the caller's :class:`~dispatch.scope.Scope`
(an agency desk sees its own incidents, tickets and units only); the summary itself is the pure
:func:`dispatch.handover.summarize`. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import complaint_service
from dispatch.handover import (
    AgencyPart,
    Handover,
    OpenIncident,
    OverdueTicket,
    UnitState,
    summarize,
)
from dispatch.incident_records import utcnow
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES
from dispatch.models import Agency, Assignment, Incident, IncidentAgency
from dispatch.perbup import START_RECEIVED, in_force
from dispatch.scope import Scope
from dispatch.scoping import check_region, incident_condition
from dispatch.sla_rules_service import rule_sets
from dispatch.unit_queries import list_units
from tracking.service import latest_positions

#: The most open incidents one handover lists (a regency has tens; a disaster hundreds).
MAX_OPEN = 1000


def _open_incidents(session: Session, kode_kab: str, scope: Scope) -> list[OpenIncident]:
    rows = list(session.scalars(
        select(Incident).where(incident_condition(scope), Incident.kode_kab == kode_kab,
                               Incident.status.in_(sorted(OPEN_INCIDENT_STATUSES)))
        .order_by(Incident.received_at, Incident.id).limit(MAX_OPEN)))
    if not rows:
        return []
    ids = [i.id for i in rows]
    first = (select(Assignment.incident_id, Assignment.agency_id,
                    func.min(Assignment.arrived_at).label("arrived_at"))
             .where(Assignment.incident_id.in_(ids))
             .group_by(Assignment.incident_id, Assignment.agency_id).subquery())
    stmt = (select(IncidentAgency, Agency, first.c.arrived_at)
            .join(Agency, Agency.id == IncidentAgency.agency_id)
            .outerjoin(first, (first.c.incident_id == IncidentAgency.incident_id)
                       & (first.c.agency_id == IncidentAgency.agency_id))
            .where(IncidentAgency.incident_id.in_(ids))
            .order_by(IncidentAgency.incident_id, Agency.code))
    if scope.agency_code is not None:  # a desk: its own part only
        stmt = stmt.where(Agency.code == scope.agency_code)
    by_id = {i.id: i for i in rows}
    sets = rule_sets(session, scope, kode_kab)
    parts: dict[int, list[AgencyPart]] = {i: [] for i in ids}
    for ia, agency, arrived_at in session.execute(stmt):
        incident = by_id[ia.incident_id]
        found = in_force(sets, incident.received_at)
        rule = None if found is None else found.rule_for(agency.code, incident.category,
                                                         incident.kind)
        start = (incident.received_at if rule is not None and rule.start == START_RECEIVED
                 else ia.notified_at)
        parts[ia.incident_id].append(AgencyPart(
            agency.code, ia.role, agency.kind, ia.notified_at, ia.acknowledged_at, ia.ack_min,
            ia.on_scene_min, start, arrived_at, ia.handoff_at))
    return [OpenIncident(i.id, i.category, i.status, i.priority, i.received_at,
                         i.nama_desa or i.place_text or "", bool(i.drill),
                         tuple(parts[i.id])) for i in rows]


def _tickets(session: Session, kode_kab: str, scope: Scope,
             now: datetime) -> list[OverdueTicket]:
    out = []
    for group in complaint_service.overdue(session, scope, kode_kab=kode_kab, now=now):
        for t in group["tickets"]:
            due = datetime.fromisoformat(t["due_at"])  # ISO 8601 UTC from ticket_out
            out.append(OverdueTicket(t["ticket_no"], t["incident_id"], group["agency"], due))
    return out


def _units(session: Session, kode_kab: str, scope: Scope) -> list[UnitState]:
    units = list_units(session, kode_kab=kode_kab, scope=scope)
    devices = {u.device_id for u, _ in units if u.device_id}
    fixes = latest_positions(session, devices, kode_kabs=scope.kode_kabs) if devices else {}
    return [UnitState(u.id, u.call_sign, a.code, u.status, u.device_id,
                      fixes[u.device_id].fix_time if u.device_id in fixes else None)
            for u, a in units]


def shift_handover(session: Session, *, kode_kab: str, scope: Scope,
                   now: datetime | None = None, stale_after_s: float = 600.0) -> Handover:
    """The handover of regency ``kode_kab`` at ``now``: open incidents with SLA state, overdue
    follow-ups, units out of service or with stale trackers. Another regency: not found."""
    check_region(kode_kab, scope)
    now = now or utcnow()
    return summarize(_open_incidents(session, kode_kab, scope),
                     _tickets(session, kode_kab, scope, now),
                     _units(session, kode_kab, scope), now=now, stale_after_s=stale_after_s)
