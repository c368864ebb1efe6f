"""The incident panel: edit an incident, notes, the whole timeline, the SOP checklist (and the
regency's SOP, admins), and the printable incident sheet.

Every write commits before it answers, then publishes its domain events; every read and write
is scoped to the caller's regencies (and an agency desk's agency) by the services.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.errors import ErrorResponse
from api.routes.incidents import (
    ID,
    AgencyCode,
    actor_of,
    dispatch_config,
    geocoder,
    publish,
    reveal_caller,
    scope_of,
)
from api.schemas_geo import IsoTime
from api.state import AppState
from dispatch import panel_service, schemas, sop_service, timeline_service
from dispatch.sop import may_tick, progress
from dispatch.timestamp import iso_utc
from geo.types import LonLat
from maps.incident_sheet import render_sheet

router = APIRouter(tags=["incident panel"])
KodeKab = Annotated[str, Path(pattern=r"^\d{2}\.\d{2}$", description="kabupaten/kota code")]
StepNo = Annotated[int, Path(ge=1, le=1000, description="step number in its checklist")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Tidak ditemukan / not found"},
    409: {"model": ErrorResponse, "description": "Tidak diizinkan sekarang / not now"},
    422: {"model": ErrorResponse, "description": "Masukan tidak sah / invalid input"},
}


class IncidentPatch(BaseModel):
    """Fields to change (left out: unchanged, never null); a new location is ``lon``+``lat``
    or a ``place`` name."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "dependentRequired": {"lon": ["lat"], "lat": ["lon"]}})
    lon: float = Field(None, ge=-180, le=180)  # type: ignore[assignment]
    lat: float = Field(None, ge=-90, le=90)  # type: ignore[assignment]
    place: str = Field(None, min_length=2, max_length=200)  # type: ignore[assignment]
    category: str = Field(None, min_length=1, max_length=48)  # type: ignore[assignment]
    description: str = Field(None, max_length=4000)  # type: ignore[assignment]
    actor: str = Field("dispatcher", min_length=1, max_length=120)

    @model_validator(mode="after")
    def _pair(self) -> IncidentPatch:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat go together")
        return self


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=panel_service.MAX_NOTE)
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class NoteOut(BaseModel):
    id: int
    incident_id: int
    author: str
    text: str
    created_at: IsoTime


class TimelineItemOut(BaseModel):
    kind: str
    at: IsoTime
    actor: str
    text: str
    text_en: str
    ref: str


class TimelineOut(BaseModel):
    incident_id: int
    items: list[TimelineItemOut]


class ChecklistItemOut(BaseModel):
    agency: str
    step_no: int
    text: str
    text_en: str
    done: bool
    checked_by: str | None
    checked_at: IsoTime | None
    may_tick: bool = Field(description="the caller may tick this step, or undo its tick")


class ChecklistOut(BaseModel):
    incident_id: int
    category: str
    done: int
    total: int
    items: list[ChecklistItemOut]


class TickIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class SopStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=500, description="Bahasa Indonesia")
    en: str = Field("", max_length=500, description="English")


class SopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=48)
    agency: str = Field(min_length=1, max_length=32)
    steps: list[SopStepIn | Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=50)


class SopDocumentIn(BaseModel):
    """The regency's whole SOP (replaces what is stored)."""

    model_config = ConfigDict(extra="forbid")
    kode_kab: str | None = Field(None, pattern=r"^\d{2}\.\d{2}$")
    sops: list[SopIn] = Field(max_length=500)


class SopDocumentOut(BaseModel):
    kode_kab: str
    sops: list[dict[str, Any]]


def _note_out(n: Any) -> dict[str, Any]:
    return {"id": n.id, "incident_id": n.incident_id, "author": n.author, "text": n.body,
            "created_at": iso_utc(n.created_at)}


def _timeline(session: Session, incident_id: int, request: Request) -> list[dict[str, Any]]:
    items = timeline_service.incident_timeline(session, incident_id, scope=scope_of(request))
    return [i | {"at": iso_utc(i["at"])} for i in items]


def _checklist(session: Session, incident_id: int, request: Request) -> dict[str, Any]:
    scope = scope_of(request)
    incident, items = sop_service.incident_checklist(session, incident_id, scope=scope)
    p = progress(items)
    return {"incident_id": incident.id, "category": incident.category, "done": p.done,
            "total": p.total, "items": [{
                "agency": i.step.agency, "step_no": i.step.step_no, "text": i.step.text,
                "text_en": i.step.text_en, "done": i.done,
                "checked_by": i.tick.checked_by if i.tick else None,
                "checked_at": iso_utc(i.tick.checked_at) if i.tick else None,
                # the caller may tick the step, or untick it when done (own agency's steps)
                "may_tick": may_tick(i.step.agency, scope.agency_code)}
                for i in items]}


@router.patch("/api/v1/incidents/{incident_id}", response_model=schemas.IncidentOut,
              responses=ERRORS)
def edit_incident(incident_id: ID, body: IncidentPatch, request: Request,
                  state: AppState = Depends(get_state),
                  session: Session = Depends(get_session)) -> dict[str, Any]:
    """Change an open incident's location (re-geocoded), category or description (audited)."""
    edit = panel_service.IncidentEdit(
        location=LonLat(body.lon, body.lat) if body.lon is not None else None,
        place=body.place, category=body.category, description=body.description)
    needs_geocoder = edit.location is not None or bool(edit.place)
    result = panel_service.edit_incident(
        session, incident_id, edit, config=dispatch_config(state),
        geocoder=geocoder(state, session) if needs_geocoder else None,
        actor=actor_of(request, body.actor), scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return schemas.incident_out(result.value, reveal_caller=reveal_caller(request))


@router.post("/api/v1/incidents/{incident_id}/notes", status_code=201, response_model=NoteOut,
             responses=ERRORS)
def add_note(incident_id: ID, body: NoteIn, request: Request,
             state: AppState = Depends(get_state),
             session: Session = Depends(get_session)) -> dict[str, Any]:
    """Write a note on the incident (author and time recorded, audited)."""
    result = panel_service.add_note(session, incident_id, body.text,
                                    actor=actor_of(request, body.actor), scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _note_out(result.value)


@router.get("/api/v1/incidents/{incident_id}/timeline", response_model=TimelineOut,
            responses=ERRORS)
def timeline(incident_id: ID, request: Request,
             session: Session = Depends(get_session)) -> dict[str, Any]:
    """Calls, triage, edits, notes, statuses, assignments, agencies, notifications, SOP steps."""
    return {"incident_id": incident_id, "items": _timeline(session, incident_id, request)}


@router.get("/api/v1/incidents/{incident_id}/sop", response_model=ChecklistOut,
            responses=ERRORS)
def checklist(incident_id: ID, request: Request,
              session: Session = Depends(get_session)) -> dict[str, Any]:
    """The SOP checklist of the incident's category for its agencies, with what is done."""
    return _checklist(session, incident_id, request)


@router.post("/api/v1/incidents/{incident_id}/sop/{agency_code}/{step_no}",
             response_model=ChecklistOut, responses=ERRORS)
def tick(incident_id: ID, agency_code: AgencyCode, step_no: StepNo, body: TickIn,
         request: Request, state: AppState = Depends(get_state),
         session: Session = Depends(get_session)) -> dict[str, Any]:
    """Tick one step (a dispatcher any step, an agency desk its own agency's)."""
    result = sop_service.tick_step(session, incident_id, agency=agency_code, step_no=step_no,
                                   actor=actor_of(request, body.actor), scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _checklist(session, incident_id, request)


@router.delete("/api/v1/incidents/{incident_id}/sop/{agency_code}/{step_no}",
               response_model=ChecklistOut, responses=ERRORS)
def untick(incident_id: ID, agency_code: AgencyCode, step_no: StepNo, request: Request,
           state: AppState = Depends(get_state),
           session: Session = Depends(get_session)) -> dict[str, Any]:
    """Undo a tick made by mistake (the same who-may rule as ticking); both stay on the
    timeline and in the audit trail."""
    result = sop_service.untick_step(session, incident_id, agency=agency_code, step_no=step_no,
                                     actor=actor_of(request, "dispatcher"), scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _checklist(session, incident_id, request)


@router.get("/api/v1/sop/{kode_kab}", response_model=SopDocumentOut, responses={
    200: {"content": {"application/yaml": {"schema": {"type": "object"}}}}} | ERRORS)
def get_sop(kode_kab: KodeKab, request: Request,
            format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
            session: Session = Depends(get_session)) -> Any:
    """The regency's SOP (its own, else the shipped default set); ``format=yaml`` for the
    file ``siaga sop import`` reads."""
    doc = sop_service.export_document(session, kode_kab, scope=scope_of(request))
    if format == "yaml":
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
        return PlainTextResponse(text, media_type="application/yaml")
    return doc


@router.put("/api/v1/sop/{kode_kab}", response_model=SopDocumentOut, responses=ERRORS)
def put_sop(kode_kab: KodeKab, body: Annotated[SopDocumentIn, Body()], request: Request,
            state: AppState = Depends(get_state),
            session: Session = Depends(get_session)) -> dict[str, Any]:
    """Replace the regency's SOP (validated whole: nothing stored when any step is wrong)."""
    doc = body.model_dump(mode="python", exclude_none=True)
    sop_service.import_document(session, doc, kode_kab=kode_kab, config=dispatch_config(state),
                                actor=actor_of(request, "api"), scope=scope_of(request))
    session.commit()  # the new SOP is committed before the answer
    return sop_service.export_document(session, kode_kab, scope=scope_of(request))


@router.get("/console/incidents/{incident_id}/sheet", response_class=HTMLResponse,
            responses=ERRORS)
def sheet(incident_id: ID, request: Request,
          lang: Annotated[str, Query(pattern="^(id|en)$")] = "id",
          session: Session = Depends(get_session)) -> HTMLResponse:
    """The incident on one printable page (both languages with ``lang``)."""
    from dispatch import incident_service as incidents
    from dispatch.assignment_service import incident_assignments

    scope = scope_of(request)
    i = incidents.get_incident(session, incident_id, scope=scope)
    data = schemas.incident_out(i, reveal_caller=reveal_caller(request))
    data["agencies"] = [schemas.incident_agency_out(ia, a)
                        for ia, a in incidents.incident_agencies(session, i.id)]
    data["assignments"] = [schemas.assignment_out(a) | {"call_sign": u.call_sign}
                           for a, u in incident_assignments(session, i.id, scope=scope)]
    data["checklist"] = _checklist(session, incident_id, request)
    data["timeline"] = _timeline(session, incident_id, request)
    data["notes"] = [_note_out(n) for n in panel_service.notes(session, i.id, scope=scope)]
    data["printed_at"] = iso_utc(incidents.utcnow())
    return HTMLResponse(render_sheet(data, lang=lang), headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff"})
