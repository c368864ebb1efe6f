"""SLA report per agency and period (mean and 90th percentile response, met/breached/pending)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.incident_records import utcnow
from dispatch.models import Agency, Assignment, Incident, IncidentAgency
from dispatch.sla import SlaOutcome, evaluate, summarize
from dispatch.timestamp import iso_utc


def assignment_sla(a: Assignment, ia: IncidentAgency, now: datetime) -> dict[str, Any]:
    """On-scene SLA of one assignment, measured from the agency's clock start."""
    start = ia.notified_at or a.dispatched_at
    out = evaluate(start, a.arrived_at, ia.on_scene_min, now)
    return {"status": out.status, "deadline": iso_utc(out.deadline),
            "response_s": out.elapsed_s, "on_scene_min": ia.on_scene_min,
            "clock_started_at": iso_utc(start)}


def sla_report(session: Session, *, kode_kab: str, start: datetime, end: datetime,
               now: datetime | None = None) -> dict[str, Any]:
    """Per agency, for incidents received in ``[start, end)``: on-scene response (first
    arriving unit of the agency per incident) and acknowledgement, each with counts, mean and
    p90 in seconds."""
    now = now or utcnow()
    first_arrival = (select(Assignment.incident_id, Assignment.agency_id,
                            func.min(Assignment.arrived_at).label("arrived_at"))
                     .group_by(Assignment.incident_id, Assignment.agency_id).subquery())
    rows = session.execute(
        select(IncidentAgency, Agency, first_arrival.c.arrived_at)
        .join(Agency, Agency.id == IncidentAgency.agency_id)
        .join(Incident, Incident.id == IncidentAgency.incident_id)
        .outerjoin(first_arrival, (first_arrival.c.incident_id == IncidentAgency.incident_id)
                   & (first_arrival.c.agency_id == IncidentAgency.agency_id))
        .where(Incident.kode_kab == kode_kab, Incident.received_at >= start,
               Incident.received_at < end, IncidentAgency.notified_at.is_not(None),
               Incident.status.not_in(["cancelled", "duplicate"])))
    on_scene: dict[str, list[SlaOutcome]] = defaultdict(list)
    ack: dict[str, list[SlaOutcome]] = defaultdict(list)
    names: dict[str, str] = {}
    for ia, agency, arrived_at in rows:
        names[agency.code] = agency.name
        ack[agency.code].append(evaluate(ia.notified_at, ia.acknowledged_at, ia.ack_min, now))
        if ia.role in ("dispatch", "standby") and (arrived_at is not None or ia.role == "dispatch"):
            on_scene[agency.code].append(evaluate(ia.notified_at, arrived_at, ia.on_scene_min,
                                                  now))
    agencies = []
    for code in sorted(names):
        agencies.append({"agency": code, "name": names[code],
                         "on_scene": _summary(on_scene.get(code, [])),
                         "acknowledgement": _summary(ack.get(code, []))})
    return {"kode_kab": kode_kab, "from": iso_utc(start), "to": iso_utc(end),
            "evaluated_at": iso_utc(now), "percentile_method": "nearest-rank",
            "agencies": agencies}


def _summary(outcomes: list[SlaOutcome]) -> dict[str, Any]:
    s = summarize(outcomes)
    return {"count": s.count, "met": s.met, "breached": s.breached, "pending": s.pending,
            "mean_response_s": s.mean_response_s, "p90_response_s": s.p90_response_s,
            "compliance_pct": s.compliance_pct}
