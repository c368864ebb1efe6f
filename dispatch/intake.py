"""Incident intake: record a call (geocoding, duplicate flag) and triage it (agencies, SLA
clocks).

Functions never commit (the caller owns the unit of work), audit every state change and return
:class:`~dispatch.events.Outcome` with the domain events to publish. ``now`` is injectable
(aware UTC).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.complaint_service import open_tickets
from dispatch.config import DispatchConfig
from dispatch.drill import open_exercise
from dispatch.duplicates import (
    DEFAULT_RADIUS_M,
    DEFAULT_WINDOW_S,
    IncidentSnapshot,
    find_duplicates,
)
from dispatch.events import Outcome
from dispatch.exceptions import DispatchValidationError, IllegalTransition, LocationUnresolved
from dispatch.incident_records import (
    agency_by_code,
    get_incident,
    incident_event,
    incident_state,
    point_of,
    sla_minutes,
    to_geom,
    utcnow,
)
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES, incident_transition
from dispatch.models import Assignment, Incident, IncidentAgency
from dispatch.ports import Geocoder
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING
from dispatch.triage import TriageOverride, TriageResult, triage
from geo.types import LonLat

CHANNELS = ("phone_112", "whatsapp", "complaint_line", "social_media", "walk_in", "app", "radio")
#: Roles whose SLA clock starts when the incident is triaged (no unit needs to be sent first).
CLOCK_AT_TRIAGE = frozenset({"standby", "forward", "handoff"})


def _locate(geocoder: Geocoder | None, location: LonLat | None, place: str | None,
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
    geocoder: Geocoder | None,
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
    drill: bool = False,
    exercise_id: int | None = None,
    scope: Scope,
) -> Outcome[Incident]:
    """Record a call: locate it (point → desa by reverse geocoding, or place name → point by
    forward search), flag a probable duplicate, audit. ``kode_kab`` is required when the
    location cannot tell the region. ``drill`` marks a latihan; an incident of exercise
    ``exercise_id`` (open, same region) is always a drill."""
    now = now or utcnow()
    config.category(category)  # raises for an unknown category
    if channel not in CHANNELS:
        raise DispatchValidationError(f"channel must be one of {CHANNELS}.")
    if location is not None:
        location = LonLat.checked(location.lon, location.lat)
    if kode_kab is None and scope.kode_kabs is not None and len(scope.kode_kabs) == 1:
        [kode_kab] = scope.kode_kabs  # a place name is searched in the caller's one regency
    found = _locate(geocoder, location, place, kode_kab)
    area, hit = found["area"], found.get("search_hit")
    region = kode_kab or (area.kode_kab if area else None) or (hit.kode_kab if hit else None)
    if region is None:
        raise LocationUnresolved(
            "Lokasi atau wilayah (kode_kab) wajib diisi / give a location inside a loaded region "
            "or the region code (kode_kab).")
    if not scope.allows(region):
        raise DispatchValidationError(
            f"Lokasi berada di wilayah {region}, di luar wilayah kerja Anda / the location lies "
            f"in region {region}, outside the regions you work for.")
    config.region(region)  # raises if the region has no dispatch configuration
    if area is not None and area.kode_kab != region:
        raise DispatchValidationError(
            f"Titik berada di wilayah {area.kode_kab}, bukan {region} / the point lies in region "
            f"{area.kode_kab}, not {region}.")
    if exercise_id is not None:
        open_exercise(session, exercise_id, kode_kab=region, now=now)
        drill = True
    incident = Incident(
        kode_kab=region, received_at=received_at or now, channel=channel,
        caller_phone=caller_phone, caller_name=caller_name,
        geom=to_geom(found["location"]) if found["location"] is not None else None,
        place_text=place, match=found["match"], description=description, category=category,
        status="new", created_by=actor, updated_at=now,
        kode_desa=area.kode_desa if area else None, nama_desa=area.nama_desa if area else None,
        kode_kec=(area.kode_kec if area else (hit.kode_kec if hit else None)),
        nama_kec=(area.nama_kec if area else (hit.nama_kec if hit else None)),
        drill=drill, exercise_id=exercise_id,
    )
    session.add(incident)
    session.flush()
    dups = _probable_duplicates(session, incident, duplicate_radius_m, duplicate_window_s)
    if dups:
        incident.probable_duplicate_of = dups[0].incident_id
    after = incident_state(incident)
    if drill:  # an auditor tells drill entries apart by this mark (kept after a purge)
        after |= {"drill": True, "exercise_id": exercise_id}
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="create", before=None, after=after, kode_kab=region)
    return Outcome(incident, [incident_event(incident, "created")])


def _probable_duplicates(session: Session, incident: Incident, radius_m: float,
                         window_s: float) -> list:
    window = timedelta(seconds=window_s)
    rows = session.scalars(select(Incident).where(
        Incident.kode_kab == incident.kode_kab, Incident.category == incident.category,
        Incident.drill.is_(bool(incident.drill)),  # a real call is never a drill's duplicate
        Incident.id != incident.id, Incident.status.in_(OPEN_INCIDENT_STATUSES),
        Incident.received_at.between(incident.received_at - window,
                                     incident.received_at + window),
    ))
    snaps = [IncidentSnapshot(r.id, r.category, point_of(r.geom), r.received_at) for r in rows]
    new = IncidentSnapshot(incident.id, incident.category, point_of(incident.geom),
                           incident.received_at)
    return find_duplicates(new, snaps, radius_m=radius_m, window_s=window_s)


def units_sent(session: Session, incident_id: int) -> bool:
    """Whether any unit was ever assigned to the incident (its triage is then settled)."""
    return session.scalars(select(Assignment.id).where(
        Assignment.incident_id == incident_id).limit(1)).first() is not None


def triage_incident(
    session: Session,
    incident_id: int,
    *,
    config: DispatchConfig,
    actor: str,
    override: TriageOverride | None = None,
    now: datetime | None = None,
    scope: Scope,
    rerun_reason: str | None = None,
) -> Outcome[TriageResult]:
    """Apply the triage rules (or the dispatcher's audited override) and open one SLA clock per
    required agency. A triaged incident may be re-triaged (override) until units are sent, or
    by the rules again with ``rerun_reason`` (its category was corrected: recorded in the
    audit entry)."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, lock=True, scope=scope)
    if override is not None and not override.reason.strip():
        raise DispatchValidationError("Alasan wajib diisi untuk mengubah triase / a reason is "
                                      "required to override the triage.")
    before = incident_state(incident)
    if incident.status == "triaged":
        if override is None and rerun_reason is None:
            raise IllegalTransition("incident", "triaged", "triaged")
        if units_sent(session, incident.id):
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
        agency = agency_by_code(session, incident.kode_kab, req.agency, scope=EVERYTHING)
        ack_min, on_scene_min = sla_minutes(session, config, agency, incident.category,
                                            at=incident.received_at)
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
    open_tickets(session, incident, actor=actor, now=now)
    after = incident_state(incident) | {
        "agencies": [(a.agency, a.role, list(a.capabilities), a.units) for a in result.agencies],
        "missing_agencies": list(result.missing_agencies),
    }
    if result.overridden:
        after["override_reason"] = result.reason
    elif rerun_reason is not None:
        after["rerun_reason"] = rerun_reason
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="triage_override" if result.overridden else "triage",
                 before=before, after=after, kode_kab=incident.kode_kab)
    return Outcome(result, [incident_event(incident, "triaged")])
