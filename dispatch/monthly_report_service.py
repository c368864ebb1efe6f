"""Gathers one regency's monthly report from the database (incident register, agency clocks,
kecamatan polygons, the SLA report, the audit chain head) into a pure
:class:`~dispatch.reporting.model.MonthlyReport`. Read-only; scoped by :class:`Scope`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.audit_chain_service import month_head
from dispatch.call_log import call_counts
from dispatch.incident_records import utcnow
from dispatch.models import Agency, Assignment, Incident, IncidentAgency
from dispatch.report_service import sla_report
from dispatch.reporting.model import (
    AgencyRow,
    IncidentRow,
    KecamatanArea,
    MonthlyReport,
    parse_month,
)
from dispatch.scope import Scope
from dispatch.scoping import incident_condition
from dispatch.sla import evaluate
from geo.exceptions import RegionNotFoundError
from geo.models import Kecamatan, Region


def monthly_report(session: Session, *, scope: Scope, kode_kab: str, month: str, tz: str,
                   tz_label: str, now: datetime | None = None) -> MonthlyReport:
    """The report of ``month`` (``YYYY-MM`` in zone ``tz``) for regency ``kode_kab``.

    Drills are left out. A regency outside ``scope`` or not loaded raises
    :class:`RegionNotFoundError` (404: another regency's existence is not revealed).
    """
    now = now or utcnow()
    start, end = parse_month(month, tz)
    region = session.get(Region, kode_kab) if scope.allows(kode_kab) else None
    if region is None:
        raise RegionNotFoundError(
            f"wilayah {kode_kab} tidak ditemukan / region {kode_kab} not found")
    sla = sla_report(session, kode_kab=kode_kab, start=start, end=end, now=now, scope=scope,
                     tz=tz)
    incidents = _incidents(session, scope, kode_kab, start, end)
    agency_rows = [r for r in _agency_rows(session, scope, kode_kab, start, end, now)
                   if scope.allows_agency(r.agency)]
    names = {a.code: a.name for a in session.scalars(
        select(Agency).where(Agency.kode_kab == kode_kab))}
    return MonthlyReport(
        kode_kab=kode_kab, region_name=region.nama_kab, month=month, tz=tz, tz_label=tz_label,
        generated_at=now, sla=sla, incidents=incidents, agency_rows=agency_rows,
        kecamatan=_kecamatan(session, kode_kab, incidents), chain_head=_chain_head(session, month),
        agency_names=names,
        non_incident_calls=call_counts(session, scope=scope, kode_kab=kode_kab, start=start,
                                       end=end),
    )


def _window(scope: Scope, kode_kab: str, start: datetime, end: datetime) -> list[Any]:
    """Incidents of the report: the regency's, in the scope, received in the month, no drills."""
    return [Incident.kode_kab == kode_kab, incident_condition(scope),
            Incident.received_at >= start, Incident.received_at < end,
            Incident.drill.is_(False)]


def _incidents(session: Session, scope: Scope, kode_kab: str, start: datetime,
               end: datetime) -> list[IncidentRow]:
    first = (select(Assignment.incident_id, func.min(Assignment.arrived_at).label("arrived_at"))
             .where(Assignment.kode_kab == kode_kab)
             .group_by(Assignment.incident_id).subquery())
    agencies = (select(IncidentAgency.incident_id,
                       func.array_agg(func.distinct(Agency.code)).label("codes"))
                .join(Agency, Agency.id == IncidentAgency.agency_id)
                .where(IncidentAgency.kode_kab == kode_kab,
                       IncidentAgency.notified_at.is_not(None))
                .group_by(IncidentAgency.incident_id).subquery())
    rows = session.execute(
        select(Incident, first.c.arrived_at, agencies.c.codes)
        .outerjoin(first, first.c.incident_id == Incident.id)
        .outerjoin(agencies, agencies.c.incident_id == Incident.id)
        .where(*_window(scope, kode_kab, start, end))
        .order_by(Incident.received_at, Incident.id))
    return [IncidentRow(
        incident_id=inc.id, received_at=inc.received_at, category=inc.category,
        kind=inc.kind or "", priority=inc.priority, status=inc.status,
        kode_kec=inc.kode_kec or "", nama_kec=inc.nama_kec or "", nama_desa=inc.nama_desa or "",
        agencies=tuple(sorted(codes or ())), arrived_at=arrived_at)
        for inc, arrived_at, codes in rows]


def _agency_rows(session: Session, scope: Scope, kode_kab: str, start: datetime,
                 end: datetime, now: datetime) -> list[AgencyRow]:
    first = (select(Assignment.incident_id, Assignment.agency_id,
                    func.min(Assignment.arrived_at).label("arrived_at"))
             .where(Assignment.kode_kab == kode_kab)
             .group_by(Assignment.incident_id, Assignment.agency_id).subquery())
    rows = session.execute(
        select(IncidentAgency, Agency.code, Incident, first.c.arrived_at)
        .join(Agency, Agency.id == IncidentAgency.agency_id)
        .join(Incident, Incident.id == IncidentAgency.incident_id)
        .outerjoin(first, (first.c.incident_id == IncidentAgency.incident_id)
                   & (first.c.agency_id == IncidentAgency.agency_id))
        .where(*_window(scope, kode_kab, start, end), IncidentAgency.notified_at.is_not(None))
        .order_by(Agency.code, Incident.received_at, Incident.id))
    out = []
    for ia, code, inc, arrived_at in rows:
        status = ""
        if ia.role in ("dispatch", "standby") and (arrived_at is not None
                                                   or ia.role == "dispatch"):
            status = evaluate(ia.notified_at, arrived_at, ia.on_scene_min, now).status
        out.append(AgencyRow(
            incident_id=inc.id, agency=code, role=ia.role, received_at=inc.received_at,
            category=inc.category, nama_kec=inc.nama_kec or "", nama_desa=inc.nama_desa or "",
            notified_at=ia.notified_at, acknowledged_at=ia.acknowledged_at,
            arrived_at=arrived_at, on_scene_min=ia.on_scene_min, sla_status=status))
    return out


def _kecamatan(session: Session, kode_kab: str,
               incidents: list[IncidentRow]) -> list[KecamatanArea]:
    counts = Counter(r.kode_kec for r in incidents)
    rows = session.execute(select(Kecamatan.kode_kec, Kecamatan.nama_kec, Kecamatan.geom)
                           .where(Kecamatan.kode_kab == kode_kab)
                           .order_by(Kecamatan.kode_kec))
    return [KecamatanArea(kode_kec=k, nama_kec=n, geom=to_shape(g), count=counts.get(k, 0))
            for k, n, g in rows]


def _chain_head(session: Session, month: str) -> str | None:
    """``seq:hash`` of the audit chain head at the end of ``month`` (the value ``siaga audit
    sign --month`` signs), ``None`` when nothing was chained by then.

    The chain spans every regency, so it is read with the installation's scope; only its head
    (a sequence number and a hash) reaches the report, nothing of another regency's entries.
    """
    seq, digest = month_head(session, month, scope=Scope.everything())
    return None if not seq else f"{seq}:{digest}"
