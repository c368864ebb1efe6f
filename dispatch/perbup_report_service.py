"""The Perbup, segment and breakdown sections of the SLA report (storage side).

:func:`perbup_sections` reads the agency records of a regency's incidents received in a period
(drills excluded unless asked), the first arriving unit of each agency, the complaint tickets,
and the rule set in force when each incident was received; :mod:`dispatch.sla_breakdown` does
the arithmetic. :func:`dispatch.report_service.sla_report` merges the result into its output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import Agency, Assignment, Incident, IncidentAgency
from dispatch.perbup import START_NOTIFIED, RuleSet, SlaRuleSpec, in_force
from dispatch.rule_models import ComplaintTicket
from dispatch.scope import Scope
from dispatch.segments import Timeline
from dispatch.sla_breakdown import (
    AgencySections,
    BreakdownRow,
    ResponseRecord,
    agency_sections,
    breakdown,
)
from dispatch.sla_document import RuleVersionRef
from dispatch.sla_rules_service import RuleSetNotFound, rule_sets_by_region

#: Roles whose records are judged: units sent (dispatch), units that came anyway (standby),
#: complaints followed up (forward). Hand-offs to external lines are not the regency's to judge.
JUDGED_ROLES = ("dispatch", "standby", "forward")
EXCLUDED_STATUSES = ("cancelled", "duplicate")


@dataclass(frozen=True)
class PerbupSections:
    """The Perbup, segment and breakdown sections of a period (see :mod:`dispatch.sla_breakdown`):
    per agency code its name and sections, the breakdowns, the drills left out and the rule
    versions that judged records."""

    agencies: dict[str, tuple[str, AgencySections]]
    breakdown: list[BreakdownRow]
    breakdown_desa: list[BreakdownRow]
    drills_excluded: int
    include_drills: bool
    timezone: str
    rule_versions: list[RuleVersionRef]


def _first_units() -> Any:
    """Per (incident, agency): the first arriving unit's assignment (else the first sent)."""
    a = Assignment
    rank = func.row_number().over(
        partition_by=(a.incident_id, a.agency_id),
        order_by=(a.arrived_at.asc().nulls_last(), a.dispatched_at.asc(), a.id.asc()))
    ranked = (select(a.incident_id, a.agency_id, a.dispatched_at, a.departed_at, a.arrived_at,
                     a.arrival_source, rank.label("rank"))
              .where(a.status != "cancelled").subquery())
    return select(ranked).where(ranked.c.rank == 1).subquery()


def _legacy_rule(ia: IncidentAgency) -> SlaRuleSpec:
    """Regencies without stored rules: the minutes copied at triage, from the notification."""
    return SlaRuleSpec(limit_min=ia.on_scene_min, start=START_NOTIFIED, ack_min=ia.ack_min,
                       label="incident_agency")


def perbup_sections(session: Session, scope: Scope, *, kode_kab: str, start: datetime,
                    end: datetime, now: datetime, tz: str = "UTC",
                    include_drills: bool = False) -> PerbupSections:
    """The Perbup, segment and breakdown sections for incidents received in ``[start, end)``
    (see :mod:`dispatch.sla_breakdown`)."""
    if not scope.allows(kode_kab):
        raise RuleSetNotFound(f"Wilayah {kode_kab} tidak ditemukan / region {kode_kab} not "
                              f"found.")
    zone = ZoneInfo(tz)
    first = _first_units()
    stmt = (
        select(Incident, IncidentAgency, Agency.code, Agency.name, first.c.dispatched_at,
               first.c.departed_at, first.c.arrived_at, first.c.arrival_source,
               ComplaintTicket.closed_at)
        .join(IncidentAgency, IncidentAgency.incident_id == Incident.id)
        .join(Agency, Agency.id == IncidentAgency.agency_id)
        .outerjoin(first, (first.c.incident_id == IncidentAgency.incident_id)
                   & (first.c.agency_id == IncidentAgency.agency_id))
        .outerjoin(ComplaintTicket, (ComplaintTicket.incident_id == IncidentAgency.incident_id)
                   & (ComplaintTicket.agency_id == IncidentAgency.agency_id))
        .where(Incident.kode_kab == kode_kab, Incident.received_at >= start,
               Incident.received_at < end, Incident.status.not_in(EXCLUDED_STATUSES),
               IncidentAgency.role.in_(JUDGED_ROLES))
        .order_by(Incident.received_at, Incident.id, Agency.code))
    if scope.agency_code is not None:
        stmt = stmt.where(Agency.code == scope.agency_code)
    if not include_drills:
        stmt = stmt.where(Incident.drill.is_(False))
    versions: list[RuleSet] = rule_sets_by_region(session, scope, [kode_kab]).get(kode_kab, [])
    records: list[ResponseRecord] = []
    names: dict[str, str] = {}
    used: set[int] = set()
    for (incident, ia, code, name, dispatched_at, departed_at, arrived_at, source,
         closed_at) in session.execute(stmt):
        if ia.role == "standby" and arrived_at is None:
            continue  # notified to stand by, sent no one: not an on-scene response
        names[code] = name
        rule_set = in_force(versions, incident.received_at)
        if rule_set is None:
            rule, version = _legacy_rule(ia), None
        else:
            rule = rule_set.rule_for(code, incident.category, incident.kind)
            version = rule_set.version
            used.add(version or 0)
        done_at = arrived_at if ia.role != "forward" else (closed_at or ia.resolved_at)
        records.append(ResponseRecord(
            incident_id=incident.id, agency=code, category=incident.category,
            kind=incident.kind, rule=rule, rule_version=version, done_at=done_at,
            timeline=Timeline(received_at=incident.received_at, notified_at=ia.notified_at,
                              dispatched_at=dispatched_at, departed_at=departed_at,
                              arrived_at=arrived_at, arrival_source=source),
            month=incident.received_at.astimezone(zone).strftime("%Y-%m"),
            kode_kec=incident.kode_kec, nama_kec=incident.nama_kec,
            kode_desa=incident.kode_desa, nama_desa=incident.nama_desa))
    drills = 0
    if not include_drills:
        drills = session.scalar(select(func.count()).select_from(Incident).where(
            Incident.kode_kab == kode_kab, Incident.received_at >= start,
            Incident.received_at < end, Incident.drill.is_(True))) or 0
    return PerbupSections(
        agencies={code: (names[code], sections)
                  for code, sections in agency_sections(records, now).items()},
        breakdown=breakdown(records, now), breakdown_desa=breakdown(records, now, by_desa=True),
        drills_excluded=drills, include_drills=include_drills, timezone=tz,
        rule_versions=[RuleVersionRef(v.version, v.effective_from, v.reference)
                       for v in versions if (v.version or 0) in used])
