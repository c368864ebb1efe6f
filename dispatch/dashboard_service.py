"""The Bupati's dashboard figures for one regency and period (read-only, scoped).

* **calls**: incidents received (every kind and status; duplicates are separate calls), drills
  (latihan) excluded, plus the calls that were not incidents (prank, silent, information, wrong
  number, dropped: ``dispatch.call_log``), also given apart;
* **emergencies** / **complaints**: kind ``emergency`` / ``public_service``, cancelled and
  duplicate incidents excluded;
* **response**: total response time (NFPA 1710 naming: from receipt of the call to the first unit
  on scene) of the emergencies that had an arrival: mean and 90th percentile (nearest rank,
  like the SLA report), overall and per kecamatan;
* **SLA compliance**: the on-scene outcomes of the SLA report (``dispatch.report_service``),
  met ÷ (met + breached) over every agency;
* **population covered**: from :mod:`dispatch.coverage_service` (the caller passes it in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.call_log import call_counts
from dispatch.models import Assignment, Incident
from dispatch.report_service import agency_sla
from dispatch.scope import Scope
from dispatch.scoping import check_region, incident_condition

__all__ = ["DashboardFigures", "KecamatanResponse", "dashboard_figures", "nearest_rank_p90"]


def nearest_rank_p90(values: list[float]) -> float | None:
    """90th percentile by nearest rank (the SLA report's method); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@dataclass(frozen=True)
class KecamatanResponse:
    kode_kec: str
    nama_kec: str
    emergencies: int
    arrived: int
    mean_response_s: float | None
    p90_response_s: float | None


@dataclass(frozen=True)
class DashboardFigures:
    kode_kab: str
    start: datetime
    end: datetime
    calls: int
    non_incident_calls: int
    emergencies: int
    complaints: int
    arrived: int
    mean_response_s: float | None
    p90_response_s: float | None
    sla_met: int
    sla_breached: int
    sla_pending: int
    kecamatan: tuple[KecamatanResponse, ...]

    @property
    def sla_compliance_pct(self) -> float | None:
        judged = self.sla_met + self.sla_breached
        return round(100.0 * self.sla_met / judged, 1) if judged else None


def dashboard_figures(session: Session, *, scope: Scope, kode_kab: str, start: datetime,
                      end: datetime) -> DashboardFigures:
    check_region(kode_kab, scope)
    base = [Incident.kode_kab == kode_kab, incident_condition(scope),
            Incident.received_at >= start, Incident.received_at < end, Incident.drill.is_(False)]
    non_incident = sum(call_counts(session, scope=scope, kode_kab=kode_kab, start=start,
                                   end=end).values())
    calls = (session.scalar(select(func.count()).select_from(Incident).where(*base)) or 0) \
        + non_incident
    counted = [*base, Incident.status.not_in(["cancelled", "duplicate"]),
               Incident.duplicate_of.is_(None)]
    kinds = dict(session.execute(select(Incident.kind, func.count()).where(*counted)
                                 .group_by(Incident.kind)).all())
    first = (select(Assignment.incident_id, func.min(Assignment.arrived_at).label("arrived_at"))
             .group_by(Assignment.incident_id).subquery())
    rows = session.execute(
        select(Incident.kode_kec, Incident.nama_kec, Incident.received_at, first.c.arrived_at)
        .outerjoin(first, first.c.incident_id == Incident.id)
        .where(*counted, Incident.kind == "emergency")).all()
    per_kec: dict[str, tuple[str, int, list[float]]] = {}
    every: list[float] = []
    for kode_kec, nama_kec, received, arrived in rows:
        key = kode_kec or "-"
        name, n, times = per_kec.get(key, (nama_kec or "-", 0, []))
        if arrived is not None and arrived >= received:
            seconds = (arrived - received).total_seconds()
            times.append(seconds)
            every.append(seconds)
        per_kec[key] = (name, n + 1, times)
    kec = tuple(
        KecamatanResponse(code, name, n, len(times),
                          round(sum(times) / len(times), 1) if times else None,
                          nearest_rank_p90(times))
        for code, (name, n, times) in sorted(per_kec.items()))
    on_scene = [a.on_scene for a in agency_sla(session, kode_kab=kode_kab, start=start,
                                                end=end, scope=scope)]
    met = sum(s.met for s in on_scene)
    breached = sum(s.breached for s in on_scene)
    pending = sum(s.pending for s in on_scene)
    return DashboardFigures(
        kode_kab=kode_kab, start=start, end=end, calls=int(calls),
        non_incident_calls=non_incident,
        emergencies=int(kinds.get("emergency", 0)), complaints=int(kinds.get("public_service", 0)),
        arrived=len(every), mean_response_s=round(sum(every) / len(every), 1) if every else None,
        p90_response_s=nearest_rank_p90(every), sla_met=met, sla_breached=breached,
        sla_pending=pending, kecamatan=kec)
