"""The incident panel's services: edit an incident (location, category, description), notes,
and the incident's whole timeline in one list.

Functions take ``*, session``-style arguments, never commit, audit every change (each edited
field with its old and new value) and check the caller's tenancy scope first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.config import DispatchConfig
from dispatch.events import DomainEvent, Outcome
from dispatch.exceptions import DispatchValidationError, IllegalTransition, LocationUnresolved
from dispatch.incident_records import (
    get_incident,
    incident_agencies,
    incident_event,
    point_of,
    to_geom,
    utcnow,
)
from dispatch.intake import triage_incident, units_sent
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES
from dispatch.panel_models import IncidentNote
from dispatch.ports import Geocoder
from dispatch.scope import Scope
from geo.types import LonLat

#: Longest note (characters).
MAX_NOTE = 4000


@dataclass(frozen=True)
class IncidentEdit:
    """What the dispatcher changes; ``None`` leaves a field as it is. A new location is a
    point or a place name (searched in the incident's regency)."""

    location: LonLat | None = None
    place: str | None = None
    category: str | None = None
    description: str | None = None


def _location_state(i: Any) -> dict[str, Any]:
    loc = point_of(i.geom)
    return {"lon": loc.lon if loc else None, "lat": loc.lat if loc else None,
            "place_text": i.place_text, "kode_desa": i.kode_desa, "nama_desa": i.nama_desa,
            "kode_kec": i.kode_kec, "nama_kec": i.nama_kec}


def _relocate(incident: Any, geocoder: Geocoder | None, edit: IncidentEdit) -> None:
    """Move the incident to the edit's point or place, re-geocoded (desa, kecamatan)."""
    if geocoder is None:
        raise LocationUnresolved("Geocoder tidak tersedia / no geocoder to place the incident.")
    point, match = edit.location, None
    if point is None:
        hits = geocoder.search(edit.place or "", kode_kab=incident.kode_kab, limit=1)
        if not hits:
            raise LocationUnresolved(f"Tempat '{edit.place}' tidak ditemukan / place "
                                     f"'{edit.place}' not found in region {incident.kode_kab}.")
        point, match = hits[0].point, f"place_{hits[0].level}"
    point = LonLat.checked(point.lon, point.lat)
    rev = geocoder.reverse(point.lon, point.lat)
    area = rev.area
    if area is None or area.kode_kab != incident.kode_kab:
        where = area.kode_kab if area is not None else "-"
        raise DispatchValidationError(
            f"Titik berada di luar wilayah {incident.kode_kab} ({where}) / the point lies "
            f"outside region {incident.kode_kab} ({where}).")
    incident.geom = to_geom(point)
    incident.match = match or rev.match
    incident.place_text = edit.place if edit.place else area.nama_desa
    incident.kode_desa, incident.nama_desa = area.kode_desa, area.nama_desa
    incident.kode_kec, incident.nama_kec = area.kode_kec, area.nama_kec


def edit_incident(session: Session, incident_id: int, edit: IncidentEdit, *,
                  config: DispatchConfig, geocoder: Geocoder | None, actor: str,
                  now: datetime | None = None, scope: Scope) -> Outcome[Any]:
    """Change an open incident's location (re-geocoded), category and/or description; one
    audit entry per changed field (``edit:location``, ``edit:category``,
    ``edit:description``) with the old and new value. A corrected category of a triaged
    incident with no unit sent and no dispatcher override is triaged again by the rules
    (priority, agencies and their clocks follow the new category; audited ``triage`` with the
    reason). Once units are sent, or after an override, the triage stays as it is: the
    dispatcher decides (override with a reason)."""
    now = now or utcnow()
    incident = get_incident(session, incident_id, lock=True, scope=scope)
    if incident.status not in OPEN_INCIDENT_STATUSES:
        raise IllegalTransition("incident", incident.status, "edited")
    old_category = incident.category
    changes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if edit.location is not None or edit.place:
        before = _location_state(incident)
        _relocate(incident, geocoder, edit)
        after = _location_state(incident)
        if after != before:
            changes.append(("location", before, after))
    if edit.category is not None and edit.category != incident.category:
        config.category(edit.category)  # raises for an unknown category
        changes.append(("category", {"category": incident.category},
                        {"category": edit.category}))
        incident.category = edit.category
    if edit.description is not None and edit.description != incident.description:
        changes.append(("description", {"description": incident.description},
                        {"description": edit.description}))
        incident.description = edit.description
    if not changes:
        return Outcome(incident, [])
    incident.updated_at = now
    for name, before, after in changes:
        audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                     action=f"edit:{name}", before=before, after=after,
                     kode_kab=incident.kode_kab)
    events = [incident_event(incident, "edited")]
    new_category = incident.category
    if (new_category != old_category and incident.status == "triaged"
            and not incident.triage_overridden and not units_sent(session, incident.id)):
        events += triage_incident(
            session, incident.id, config=config, actor=actor, now=now, scope=scope,
            rerun_reason=f"kategori diubah {old_category} → {new_category} / category changed "
                         f"{old_category} → {new_category}").events
    return Outcome(incident, events)


def add_note(session: Session, incident_id: int, body: str, *, actor: str,
             now: datetime | None = None, scope: Scope) -> Outcome[IncidentNote]:
    """Write a note on the incident (any status; audited)."""
    now = now or utcnow()
    text = body.strip()
    if not text:
        raise DispatchValidationError("Catatan kosong / the note is empty.")
    if len(text) > MAX_NOTE:
        raise DispatchValidationError(f"Catatan lebih dari {MAX_NOTE} karakter / the note is "
                                      f"longer than {MAX_NOTE} characters.")
    incident = get_incident(session, incident_id, scope=scope)
    note = IncidentNote(kode_kab=incident.kode_kab, incident_id=incident.id, author=actor,
                        body=text, created_at=now)
    session.add(note)
    session.flush()
    audit.record(session, actor=actor, at=now, entity="incident_note", entity_id=note.id,
                 action="note", before=None, after={"incident_id": incident.id, "body": text},
                 kode_kab=incident.kode_kab)
    return Outcome(note, [DomainEvent("incident", {
        "action": "note", "incident_id": incident.id, "kode_kab": incident.kode_kab})])


def notes(session: Session, incident_id: int, *, scope: Scope) -> list[IncidentNote]:
    """The incident's notes, oldest first."""
    get_incident(session, incident_id, scope=scope)
    return list(session.scalars(select(IncidentNote).where(
        IncidentNote.incident_id == incident_id).order_by(IncidentNote.created_at,
                                                          IncidentNote.id)))


def agency_codes(session: Session, incident_id: int) -> list[str]:
    """The codes of the incident's agencies, in triage order."""
    return [a.code for _, a in incident_agencies(session, incident_id)]
