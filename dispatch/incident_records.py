"""Incident records shared by the dispatch services: lookups by id and code, the audited
incident state and event, status moves, stored positions, SLA minutes, the incident's agencies.

No function here commits; the caller owns the unit of work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.config import DispatchConfig
from dispatch.events import DomainEvent
from dispatch.exceptions import AgencyNotFound, IncidentNotFound
from dispatch.lifecycle import incident_transition
from dispatch.models import Agency, Incident, IncidentAgency, SlaRule
from dispatch.scope import Scope
from dispatch.scoping import agency_condition, incident_condition
from dispatch.sla_rules_service import rule_in_force
from geo.types import LonLat

_M = TypeVar("_M")


def utcnow() -> datetime:
    return datetime.now(UTC)


def point_of(geom: Any) -> LonLat | None:
    """The EPSG:4326 position of a stored POINT, or None."""
    if geom is None:
        return None
    p = to_shape(geom)
    return LonLat(p.x, p.y)


def to_geom(p: LonLat) -> Any:
    return from_shape(Point(p.lon, p.lat), srid=4326)


def incident_state(i: Incident) -> dict[str, Any]:
    """The audited fields of an incident."""
    loc = point_of(i.geom)
    return {
        "status": i.status, "kind": i.kind, "category": i.category, "priority": i.priority,
        "duplicate_of": i.duplicate_of, "probable_duplicate_of": i.probable_duplicate_of,
        "lon": loc.lon if loc else None, "lat": loc.lat if loc else None,
        "kode_desa": i.kode_desa, "kode_kec": i.kode_kec, "triage_overridden": i.triage_overridden,
    }


def incident_event(i: Incident, action: str) -> DomainEvent:
    loc = point_of(i.geom)
    return DomainEvent("incident", {
        "action": action, "incident_id": i.id, "kode_kab": i.kode_kab, "status": i.status,
        "kind": i.kind, "category": i.category, "priority": i.priority,
        "lon": loc.lon if loc else None, "lat": loc.lat if loc else None,
        "nama_desa": i.nama_desa, "nama_kec": i.nama_kec, "drill": bool(i.drill),
    })


def fetch_by_id(session: Session, model: type[_M], ident: int, *, lock: bool = False,
                where: Any = None) -> _M | None:
    """The row of ``model`` with primary key ``ident`` (and the condition ``where``, e.g. a
    tenancy scope); ``lock`` takes ``FOR UPDATE`` on it and refreshes the loaded object (the
    row may have changed while waiting for the lock)."""
    stmt = select(model).where(model.id == ident)  # type: ignore[attr-defined]
    if where is not None:
        stmt = stmt.where(where)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def get_incident(session: Session, incident_id: int, *, lock: bool = False,
                 scope: Scope) -> Incident:
    """The incident if ``scope`` may see it, else :class:`IncidentNotFound` (no existence
    leak across regencies or agencies)."""
    incident = fetch_by_id(session, Incident, incident_id, lock=lock,
                           where=incident_condition(scope))
    if incident is None:
        raise IncidentNotFound(f"Kejadian {incident_id} tidak ditemukan / incident "
                               f"{incident_id} not found.")
    return incident


def agency_by_code(session: Session, kode_kab: str, code: str, *,
                   scope: Scope) -> Agency:
    agency = session.scalars(
        select(Agency).where(Agency.kode_kab == kode_kab, Agency.code == code,
                             agency_condition(scope))).first()
    if agency is None:
        raise AgencyNotFound(f"Instansi {code} tidak ada di wilayah {kode_kab} / agency {code} "
                             f"not found in region {kode_kab}.")
    return agency


def set_incident_status(session: Session, i: Incident, target: str, *, actor: str,
                        now: datetime, action: str | None = None,
                        reason: str | None = None) -> None:
    """Move the incident to ``target`` (lifecycle rules), audited (with ``reason`` if any)."""
    before = incident_state(i)
    i.status = incident_transition(i.status, target)
    i.updated_at = now
    after = incident_state(i) | ({"reason": reason} if reason else {})
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=i.id,
                 action=action or f"status:{target}", before=before, after=after,
                 kode_kab=i.kode_kab)


def sla_minutes(session: Session, config: DispatchConfig, agency: Agency,
                category: str, *, at: datetime | None = None) -> tuple[float, float]:
    """(ack_min, on_scene_min): the regency's Perbup rule in force at ``at`` (the incident's
    receipt; now by default), else the seeded ``sla_rule`` table, else the config. A Perbup
    rule without ``ack_min`` keeps the acknowledgement minutes of the table or config."""
    rule = session.scalars(select(SlaRule).where(
        SlaRule.agency_id == agency.id, SlaRule.category == category)).first()
    if rule is not None:
        ack_min, on_scene_min = rule.ack_min, rule.on_scene_min
    else:
        sla = config.sla_for(agency.kode_kab, agency.code, category)
        ack_min, on_scene_min = sla.ack_min, sla.on_scene_min
    kind = config.categories[category].kind if category in config.categories else None
    perbup = rule_in_force(session, kode_kab=agency.kode_kab, agency=agency.code,
                           category=category, kind=kind, at=at)
    if perbup is not None:
        return (perbup.ack_min if perbup.ack_min is not None else ack_min), perbup.limit_min
    return ack_min, on_scene_min


def incident_agencies(session: Session, incident_id: int) -> list[tuple[IncidentAgency, Agency]]:
    rows = session.execute(
        select(IncidentAgency, Agency).join(Agency, Agency.id == IncidentAgency.agency_id)
        .where(IncidentAgency.incident_id == incident_id).order_by(IncidentAgency.id))
    return [(r[0], r[1]) for r in rows]
