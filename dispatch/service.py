"""Incident services: intake (geocoding, duplicate flag), triage, queries, hand-offs, closure.

Functions take ``*, session`` style keyword arguments, never commit (the caller owns the unit of
work), audit every state change and return :class:`~dispatch.events.Outcome` with the domain
events to publish. ``now`` is injectable everywhere (aware UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.config import DispatchConfig
from dispatch.duplicates import (
    DEFAULT_RADIUS_M,
    DEFAULT_WINDOW_S,
    IncidentSnapshot,
    find_duplicates,
)
from dispatch.events import DomainEvent, Outcome
from dispatch.exceptions import (
    AgencyNotFound,
    DispatchValidationError,
    IllegalTransition,
    IncidentNotFound,
    LocationUnresolved,
)
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES, incident_transition
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, SlaRule
from dispatch.triage import TriageOverride, TriageResult, triage
from geo.types import LonLat

_M = TypeVar("_M")

CHANNELS = ("phone_112", "complaint_line", "social_media", "walk_in", "app", "radio")
#: Roles whose SLA clock starts when the incident is triaged (no unit needs to be sent first).
CLOCK_AT_TRIAGE = frozenset({"standby", "forward", "handoff"})


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
        "nama_desa": i.nama_desa, "nama_kec": i.nama_kec,
    })


def fetch_by_id(session: Session, model: type[_M], ident: int, *, lock: bool = False) -> _M | None:
    """The row of ``model`` with primary key ``ident``; ``lock`` takes ``FOR UPDATE`` on it and
    refreshes the loaded object (the row may have changed while waiting for the lock)."""
    stmt = select(model).where(model.id == ident)  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def get_incident(session: Session, incident_id: int, *, lock: bool = False) -> Incident:
    incident = fetch_by_id(session, Incident, incident_id, lock=lock)
    if incident is None:
        raise IncidentNotFound(f"Kejadian {incident_id} tidak ditemukan / incident "
                               f"{incident_id} not found.")
    return incident


def agency_by_code(session: Session, kode_kab: str, code: str) -> Agency:
    agency = session.scalars(
        select(Agency).where(Agency.kode_kab == kode_kab, Agency.code == code)).first()
    if agency is None:
        raise AgencyNotFound(f"Instansi {code} tidak ada di wilayah {kode_kab} / agency {code} "
                             f"not found in region {kode_kab}.")
    return agency


def _set_status(session: Session, i: Incident, target: str, *, actor: str, now: datetime,
                action: str | None = None) -> None:
    before = incident_state(i)
    i.status = incident_transition(i.status, target)
    i.updated_at = now
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=i.id,
                 action=action or f"status:{target}", before=before, after=incident_state(i),
                 kode_kab=i.kode_kab)


def _locate(geocoder: Any, location: LonLat | None, place: str | None,
            kode_kab: str | None) -> dict[str, Any]:
    """Resolve point and/or place name to a position and desa/kecamatan codes."""
    out: dict[str, Any] = {"location": location, "match": None, "area": None}
    if location is None and place:
        if geocoder is None:
            raise LocationUnresolved("Geocoder tidak tersedia / no geocoder to resolve the place.")
        hits = geocoder.search(place, kode_kab=kode_kab, limit=1)
        if not hits:
            raise LocationUnresolved(
                f"Tempat '{place}' tidak ditemukan / place '{place}' not found"
                + (f" in region {kode_kab}." if kode_kab else "."))
        hit = hits[0]
        out["location"] = hit.point
        out["match"] = f"place_{hit.level}"
        out["search_hit"] = hit
    if out["location"] is not None and geocoder is not None:
        rev = geocoder.reverse(out["location"].lon, out["location"].lat)
        out["area"] = rev.area
        out["match"] = out["match"] or rev.match
    return out


def create_incident(
    session: Session,
    *,
    config: DispatchConfig,
    geocoder: Any,
    category: str,
    actor: str,
    kode_kab: str | None = None,
    location: LonLat | None = None,
    place: str | None = None,
    description: str = "",
    channel: str = "phone_112",
    caller_phone: str | None = None,
    caller_name: str | None = None,
    received_at: datetime | None = None,
    now: datetime | None = None,
    duplicate_radius_m: float = DEFAULT_RADIUS_M,
    duplicate_window_s: float = DEFAULT_WINDOW_S,
) -> Outcome[Incident]:
    """Record a call: locate it (point → desa by reverse geocoding, or place name → point by
    forward search), flag a probable duplicate, audit. ``kode_kab`` is required when the
    location cannot tell the region."""
    now = now or utcnow()
    config.category(category)  # raises for an unknown category
    if channel not in CHANNELS:
        raise DispatchValidationError(f"channel must be one of {CHANNELS}.")
    if location is not None:
        location = LonLat.checked(location.lon, location.lat)
    found = _locate(geocoder, location, place, kode_kab)
    area, hit = found["area"], found.get("search_hit")
    region = kode_kab or (area.kode_kab if area else None) or (hit.kode_kab if hit else None)
    if region is None:
        raise LocationUnresolved(
            "Lokasi atau wilayah (kode_kab) wajib diisi / give a location inside a loaded region "
            "or the region code (kode_kab).")
    config.region(region)  # raises if the region has no dispatch configuration
    if area is not None and area.kode_kab != region:
        raise DispatchValidationError(
            f"Titik berada di wilayah {area.kode_kab}, bukan {region} / the point lies in region "
            f"{area.kode_kab}, not {region}.")
    incident = Incident(
        kode_kab=region, received_at=received_at or now, channel=channel,
        caller_phone=caller_phone, caller_name=caller_name,
        geom=to_geom(found["location"]) if found["location"] is not None else None,
        place_text=place, match=found["match"], description=description, category=category,
        status="new", created_by=actor, updated_at=now,
        kode_desa=area.kode_desa if area else None, nama_desa=area.nama_desa if area else None,
        kode_kec=(area.kode_kec if area else (hit.kode_kec if hit else None)),
        nama_kec=(area.nama_kec if area else (hit.nama_kec if hit else None)),
    )
    session.add(incident)
    session.flush()
    dups = _probable_duplicates(session, incident, duplicate_radius_m, duplicate_window_s)
    if dups:
        incident.probable_duplicate_of = dups[0].incident_id
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="create", before=None, after=incident_state(incident), kode_kab=region)
    return Outcome(incident, [incident_event(incident, "created")])


def _probable_duplicates(session: Session, incident: Incident, radius_m: float,
                         window_s: float) -> list:
    window = timedelta(seconds=window_s)
    rows = session.scalars(select(Incident).where(
        Incident.kode_kab == incident.kode_kab, Incident.category == incident.category,
        Incident.id != incident.id, Incident.status.in_(OPEN_INCIDENT_STATUSES),
        Incident.received_at.between(incident.received_at - window,
                                     incident.received_at + window),
    ))
    snaps = [IncidentSnapshot(r.id, r.category, point_of(r.geom), r.received_at) for r in rows]
    new = IncidentSnapshot(incident.id, incident.category, point_of(incident.geom),
                           incident.received_at)
    return find_duplicates(new, snaps, radius_m=radius_m, window_s=window_s)


def sla_minutes(session: Session, config: DispatchConfig, agency: Agency,
                category: str) -> tuple[float, float]:
    """(ack_min, on_scene_min) from the seeded ``sla_rule`` table, else from the config."""
    rule = session.scalars(select(SlaRule).where(
        SlaRule.agency_id == agency.id, SlaRule.category == category)).first()
    if rule is not None:
        return rule.ack_min, rule.on_scene_min
    sla = config.sla_for(agency.kode_kab, agency.code, category)
    return sla.ack_min, sla.on_scene_min


def triage_incident(
    session: Session,
    incident_id: int,
    *,
    config: DispatchConfig,
    actor: str,
    override: TriageOverride | None = None,
    now: datetime | None = None,
) -> Outcome[TriageResult]:
    """Apply the triage rules (or the dispatcher's audited override) and open one SLA clock per
    required agency. A triaged incident may be re-triaged (override) until units are sent."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, lock=True)
    before = incident_state(incident)
    if incident.status == "triaged":
        if override is None:
            raise IllegalTransition("incident", "triaged", "triaged")
        sent = session.scalars(select(Assignment.id).where(
            Assignment.incident_id == incident.id)).first()
        if sent is not None:
            raise IllegalTransition("incident", "dispatched", "triaged")
    else:
        incident_transition(incident.status, "triaged")
    result = triage(config, incident.kode_kab, incident.category, override)
    incident.status, incident.kind, incident.priority = "triaged", result.kind, result.priority
    incident.triage_overridden = incident.triage_overridden or result.overridden
    incident.updated_at = now
    existing = {ia.agency_id: ia for ia in session.scalars(
        select(IncidentAgency).where(IncidentAgency.incident_id == incident.id))}
    keep: set[int] = set()
    for req in result.agencies:
        agency = agency_by_code(session, incident.kode_kab, req.agency)
        ack_min, on_scene_min = sla_minutes(session, config, agency, incident.category)
        ia = existing.get(agency.id) or IncidentAgency(
            kode_kab=incident.kode_kab, incident_id=incident.id, agency_id=agency.id)
        ia.role, ia.required = req.role, True
        ia.capabilities, ia.units_required = list(req.capabilities), req.units
        ia.ack_min, ia.on_scene_min = ack_min, on_scene_min
        ia.handoff_number = agency.handoff_number if req.role == "handoff" else None
        if req.role in CLOCK_AT_TRIAGE and ia.notified_at is None:
            ia.notified_at = now
        session.add(ia)
        keep.add(agency.id)
    for agency_id, ia in existing.items():
        if agency_id not in keep:
            session.delete(ia)
    session.flush()
    after = incident_state(incident) | {
        "agencies": [(a.agency, a.role, list(a.capabilities), a.units) for a in result.agencies],
        "missing_agencies": list(result.missing_agencies),
    }
    if result.overridden:
        after["override_reason"] = result.reason
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="triage_override" if result.overridden else "triage",
                 before=before, after=after, kode_kab=incident.kode_kab)
    return Outcome(result, [incident_event(incident, "triaged")])


def incident_agencies(session: Session, incident_id: int) -> list[tuple[IncidentAgency, Agency]]:
    rows = session.execute(
        select(IncidentAgency, Agency).join(Agency, Agency.id == IncidentAgency.agency_id)
        .where(IncidentAgency.incident_id == incident_id).order_by(IncidentAgency.id))
    return [(r[0], r[1]) for r in rows]


def _incident_agency(session: Session, incident: Incident, code: str) -> IncidentAgency:
    agency = agency_by_code(session, incident.kode_kab, code)
    ia = session.scalars(select(IncidentAgency).where(
        IncidentAgency.incident_id == incident.id, IncidentAgency.agency_id == agency.id)
        .with_for_update()).first()
    if ia is None:
        raise AgencyNotFound(f"Instansi {code} tidak terlibat dalam kejadian {incident.id} / "
                             f"agency {code} is not part of incident {incident.id}.")
    return ia


def _ia_state(ia: IncidentAgency) -> dict[str, Any]:
    return {k: getattr(ia, k) for k in (
        "agency_id", "role", "notified_at", "acknowledged_at", "acknowledged_by", "escalated_at",
        "escalation_count", "handoff_ref", "handoff_at", "resolved_at")}


def acknowledge_agency(session: Session, incident_id: int, agency_code: str, *, actor: str,
                       now: datetime | None = None) -> Outcome[IncidentAgency]:
    """The agency's standby line confirmed it has taken the incident (stops its ack clock)."""
    now = now or utcnow()
    incident = get_incident(session, incident_id)
    ia = _incident_agency(session, incident, agency_code)
    if ia.acknowledged_at is not None:
        raise IllegalTransition("incident_agency", "acknowledged", "acknowledged")
    before = _ia_state(ia)
    ia.acknowledged_at, ia.acknowledged_by = now, actor
    if ia.notified_at is None:
        ia.notified_at = now
    audit.record(session, actor=actor, at=now, entity="incident_agency", entity_id=ia.id,
                 action="acknowledge", before=before, after=_ia_state(ia),
                 kode_kab=incident.kode_kab)
    return Outcome(ia, [DomainEvent("sla", {"action": "acknowledged", "incident_id": incident.id,
                                            "agency": agency_code, "at": now.isoformat()})])


def record_handoff(session: Session, incident_id: int, agency_code: str, *, reference: str,
                   actor: str, now: datetime | None = None) -> Outcome[IncidentAgency]:
    """Record the hand-off to an external line (110, 117, 119) with its reference number."""
    now = now or utcnow()
    incident = get_incident(session, incident_id)
    agency = agency_by_code(session, incident.kode_kab, agency_code)
    if agency.kind != "external":
        raise DispatchValidationError(
            f"{agency_code} bukan saluran eksternal / {agency_code} is not an external hand-off.")
    ia = _incident_agency(session, incident, agency_code)
    if not reference.strip():
        raise DispatchValidationError("Nomor referensi wajib diisi / reference is required.")
    before = _ia_state(ia)
    ia.handoff_ref, ia.handoff_at, ia.handoff_by = reference.strip(), now, actor
    ia.handoff_number = agency.handoff_number
    if ia.acknowledged_at is None:
        ia.acknowledged_at, ia.acknowledged_by = now, actor
    audit.record(session, actor=actor, at=now, entity="incident_agency", entity_id=ia.id,
                 action="handoff", before=before, after=_ia_state(ia), kode_kab=incident.kode_kab)
    return Outcome(ia, [DomainEvent("incident", {
        "action": "handoff", "incident_id": incident.id, "agency": agency_code,
        "handoff_number": agency.handoff_number, "reference": ia.handoff_ref})])


def change_incident_status(session: Session, incident_id: int, target: str, *, actor: str,
                           duplicate_of: int | None = None,
                           now: datetime | None = None) -> Outcome[Incident]:
    """Resolve, close, cancel or mark as duplicate (of ``duplicate_of``), per the lifecycle.

    Cancelling ends the incident's active assignments (status ``cancelled``, with the reason)
    and releases their units (dispatched → available, en route → returning), all audited, in
    the same transaction."""
    from dispatch.assignment_service import cancel_assignments, lock_active_assignments

    now = now or utcnow()
    if target == "cancelled":
        lock_active_assignments(session, incident_id)  # lock order: assignment, unit, incident
    incident = get_incident(session, incident_id, lock=True)
    if target == "duplicate":
        if duplicate_of is None or duplicate_of == incident.id:
            raise DispatchValidationError("duplicate_of must name another incident.")
        get_incident(session, duplicate_of)
        incident_transition(incident.status, target)
        incident.duplicate_of = duplicate_of
    if target == "resolved":
        active = session.scalars(select(Assignment.id).where(
            Assignment.incident_id == incident.id, Assignment.status == "active")).first()
        if active is not None:
            raise IllegalTransition("incident", f"{incident.status} (units still assigned)",
                                    target)
    _set_status(session, incident, target, actor=actor, now=now)
    events = [incident_event(incident, target)]
    if target == "cancelled":
        events += cancel_assignments(session, incident, actor=actor, now=now,
                                     reason=f"incident {incident.id} cancelled")
    if target in ("resolved", "cancelled", "duplicate"):
        for ia, _ in incident_agencies(session, incident.id):
            ia.resolved_at = ia.resolved_at or now
    return Outcome(incident, events)


def list_incidents(
    session: Session,
    *,
    kode_kab: str | None = None,
    status: Sequence[str] | None = None,
    kind: str | None = None,
    category: str | None = None,
    kode_kec: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    agency_code: str | None = None,
) -> list[Incident]:
    """Incidents newest first; ``agency_code`` keeps only those that agency takes part in."""
    stmt = select(Incident)
    if agency_code:
        stmt = stmt.where(Incident.id.in_(_incident_ids_of_agency(agency_code)))
    if kode_kab:
        stmt = stmt.where(Incident.kode_kab == kode_kab)
    if status:
        stmt = stmt.where(Incident.status.in_(list(status)))
    if kind:
        stmt = stmt.where(Incident.kind == kind)
    if category:
        stmt = stmt.where(Incident.category == category)
    if kode_kec:
        stmt = stmt.where(Incident.kode_kec == kode_kec)
    if start:
        stmt = stmt.where(Incident.received_at >= start)
    if end:
        stmt = stmt.where(Incident.received_at < end)
    stmt = stmt.order_by(Incident.received_at.desc(), Incident.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def _incident_ids_of_agency(agency_code: str) -> Any:
    return (select(IncidentAgency.incident_id)
            .join(Agency, Agency.id == IncidentAgency.agency_id)
            .where(Agency.code == agency_code))


def incident_involves_agency(session: Session, incident_id: int, agency_code: str) -> bool:
    """Whether ``agency_code`` is one of the incident's agencies (after triage)."""
    stmt = _incident_ids_of_agency(agency_code).where(IncidentAgency.incident_id == incident_id)
    return session.scalar(stmt.limit(1)) is not None


def timeline(session: Session, incident_id: int) -> list[Any]:
    """Audit entries of the incident, its agencies and its assignments, oldest first."""
    ia_ids = session.scalars(select(IncidentAgency.id).where(
        IncidentAgency.incident_id == incident_id)).all()
    as_ids = session.scalars(select(Assignment.id).where(
        Assignment.incident_id == incident_id)).all()
    refs = ([("incident", incident_id)] + [("incident_agency", i) for i in ia_ids]
            + [("assignment", i) for i in as_ids])
    return audit.entries(session, refs)
