"""SLA report per agency and period (mean and 90th percentile response, met/breached/pending)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from dispatch.incident_records import utcnow
from dispatch.models import Agency, Assignment, Incident, IncidentAgency
from dispatch.perbup import START_RECEIVED
from dispatch.perbup_report_service import perbup_sections
from dispatch.scope import Scope
from dispatch.scoping import check_region, incident_condition
from dispatch.sla import SlaOutcome, SlaSummary, evaluate, summarize
from dispatch.sla_document import AgencyEntry, SlaDocument
from dispatch.sla_rules_service import rule_in_force
from dispatch.timestamp import iso_utc


def clock_start(session: Session, a: Assignment, ia: IncidentAgency) -> datetime | None:
    """When the on-scene clock of an assignment started: the report's receipt when the Perbup
    rule in force at receipt says so (Bangli: on site within 2 h *of the report*; fire SPM: from
    receipt of the information), else the agency's notification (or the dispatch)."""
    incident = session.get(Incident, a.incident_id)
    agency = session.scalar(select(Agency.code).where(Agency.id == ia.agency_id))
    if incident is not None and agency is not None:
        rule = rule_in_force(session, kode_kab=incident.kode_kab, agency=agency,
                             category=incident.category, kind=incident.kind,
                             at=incident.received_at)
        if rule is not None and rule.start == START_RECEIVED:
            return incident.received_at
    return ia.notified_at or a.dispatched_at


def assignment_sla(session: Session, a: Assignment, ia: IncidentAgency,
                   now: datetime) -> dict[str, Any]:
    """On-scene SLA of one assignment, measured from the clock start of the rule in force."""
    start = clock_start(session, a, ia)
    out = evaluate(start, a.arrived_at, ia.on_scene_min, now)
    return {"status": out.status, "deadline": iso_utc(out.deadline),
            "response_s": out.elapsed_s, "on_scene_min": ia.on_scene_min,
            "clock_started_at": iso_utc(start)}


@dataclass(frozen=True)
class AgencySla:
    """One agency's SLA over a period: on-scene response (first arriving unit per incident)
    and acknowledgement."""

    agency: str
    name: str
    on_scene: SlaSummary
    acknowledgement: SlaSummary


def agency_sla(session: Session, *, kode_kab: str, start: datetime, end: datetime,
               now: datetime | None = None, scope: Scope,
               include_drills: bool = False) -> list[AgencySla]:
    """Per agency (by code), for incidents received in ``[start, end)``: the on-scene and
    acknowledgement summaries; drills excluded unless ``include_drills``; cancelled and
    duplicate incidents never count."""
    now = now or utcnow()
    check_region(kode_kab, scope)  # another regency's report: not found
    first_arrival = (select(Assignment.incident_id, Assignment.agency_id,
                            func.min(Assignment.arrived_at).label("arrived_at"))
                     .group_by(Assignment.incident_id, Assignment.agency_id).subquery())
    rows = session.execute(
        select(IncidentAgency, Agency, first_arrival.c.arrived_at)
        .join(Agency, Agency.id == IncidentAgency.agency_id)
        .join(Incident, Incident.id == IncidentAgency.incident_id)
        .outerjoin(first_arrival, (first_arrival.c.incident_id == IncidentAgency.incident_id)
                   & (first_arrival.c.agency_id == IncidentAgency.agency_id))
        .where(Incident.kode_kab == kode_kab, incident_condition(scope),
               true() if scope.agency_code is None else Agency.code == scope.agency_code,
               Incident.received_at >= start,
               Incident.received_at < end, IncidentAgency.notified_at.is_not(None),
               Incident.status.not_in(["cancelled", "duplicate"]),
               true() if include_drills else Incident.drill.is_(False)))
    on_scene: dict[str, list[SlaOutcome]] = defaultdict(list)
    ack: dict[str, list[SlaOutcome]] = defaultdict(list)
    names: dict[str, str] = {}
    for ia, agency, arrived_at in rows:
        names[agency.code] = agency.name
        ack[agency.code].append(evaluate(ia.notified_at, ia.acknowledged_at, ia.ack_min, now))
        if ia.role in ("dispatch", "standby") and (arrived_at is not None or ia.role == "dispatch"):
            on_scene[agency.code].append(evaluate(ia.notified_at, arrived_at, ia.on_scene_min,
                                                  now))
    return [AgencySla(code, names[code], summarize(on_scene.get(code, [])),
                      summarize(ack.get(code, []))) for code in sorted(names)]


def sla_report(session: Session, *, kode_kab: str, start: datetime, end: datetime,
               now: datetime | None = None, scope: Scope, tz: str = "UTC",
               include_drills: bool = False) -> SlaDocument:
    """The SLA report (the API's reply, the monthly report's data): per agency the summaries
    of :func:`agency_sla` with counts, mean and p90 in seconds, plus the Perbup judgement, the
    standard segments and the breakdowns by category, kecamatan, desa and month (months in
    ``tz``) from :func:`dispatch.perbup_report_service.perbup_sections`."""
    now = now or utcnow()
    summaries = {a.agency: a for a in agency_sla(session, kode_kab=kode_kab, start=start,
                                                 end=end, now=now, scope=scope,
                                                 include_drills=include_drills)}
    extra = perbup_sections(session, scope, kode_kab=kode_kab, start=start, end=end, now=now,
                            tz=tz, include_drills=include_drills)
    empty = summarize([])
    agencies = []
    for code in sorted(set(summaries) | set(extra.agencies)):
        a = summaries.get(code)
        name, sections = extra.agencies.get(code, (code, None))
        agencies.append(AgencyEntry(
            agency=code, name=a.name if a else name, on_scene=a.on_scene if a else empty,
            acknowledgement=a.acknowledgement if a else empty, sections=sections))
    return SlaDocument(kode_kab=kode_kab, start=start, end=end, evaluated_at=now,
                       agencies=agencies, breakdown=extra.breakdown,
                       breakdown_desa=extra.breakdown_desa,
                       drills_excluded=extra.drills_excluded, include_drills=include_drills,
                       timezone=extra.timezone, rule_versions=extra.rule_versions)
