"""Call taking: probable duplicates of the call being taken, further calls attached to an open
incident, and the incident queue (priority, then SLA time left, with the shift's alerts).

Registered before ``api.routes.incidents`` so that ``/incidents/duplicates`` and
``/incidents/queue`` are not read as an incident id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.incidents import actor_of, publish, reveal_caller, scope_of
from api.state import AppState
from dispatch.call_attach import (
    IncidentCall,
    attach_call,
    calls_of,
    duplicate_candidates,
)
from dispatch.incident_queue_service import incident_queue
from dispatch.intake import CHANNELS
from dispatch.privacy import mask_phone
from dispatch.timestamp import iso_utc
from geo.types import LonLat

router = APIRouter(prefix="/api/v1", tags=["incidents"])
ID = Annotated[int, Path(ge=1, le=2**31 - 1)]
KAB = Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$", description="regency (kode_kab)")]


class DuplicateOut(BaseModel):
    incident_id: int
    category: str
    status: str
    priority: int | None
    received_at: str
    nama_desa: str | None
    place_text: str | None
    description: str
    distance_m: float
    gap_s: float
    calls: int = Field(description="further calls already attached")


class DuplicatesOut(BaseModel):
    candidates: list[DuplicateOut]


class CallAttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal[CHANNELS] = "phone_112"  # type: ignore[valid-type]
    caller_phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{3,24}$")
    caller_name: str | None = Field(None, max_length=200)
    note: str = Field("", max_length=2000)


class CallAttachedOut(BaseModel):
    id: int
    incident_id: int
    received_at: str
    channel: str
    caller_phone: str | None
    caller_name: str | None
    note: str
    created_by: str


class CallsOut(BaseModel):
    incident_id: int
    calls: list[CallAttachedOut]


class QueueItemOut(BaseModel):
    incident_id: int
    category: str
    status: str
    priority: int | None
    received_at: str
    nama_desa: str | None
    place_text: str | None
    drill: bool
    deadline: str | None = Field(description="nearest on-scene SLA deadline (UTC)")
    deadline_agency: str | None
    limit_s: float | None
    left_s: float | None = Field(description="seconds left at `now` (negative: breached)")
    fraction_left: float | None
    urgency: Literal["none", "ok", "warning", "breached"]
    ack_overdue: list[str] = Field(description="OPDs notified, not acknowledged in time")
    escalated: list[str]


class QueueOut(BaseModel):
    kode_kab: str
    now: str
    items: list[QueueItemOut]


def _call_out(row: IncidentCall, reveal: bool) -> dict[str, Any]:
    return {"id": row.id, "incident_id": row.incident_id, "received_at": iso_utc(row.received_at),
            "channel": row.channel,
            "caller_phone": row.caller_phone if reveal else mask_phone(row.caller_phone),
            "caller_name": row.caller_name if reveal else None, "note": row.note,
            "created_by": row.created_by}


@router.get("/incidents/duplicates", response_model=DuplicatesOut)
def duplicates(request: Request, kode_kab: KAB,
               lat: Annotated[float, Query(ge=-90, le=90)],
               lon: Annotated[float, Query(ge=-180, le=180)],
               category: Annotated[str, Query(min_length=1, max_length=48)],
               session: Session = Depends(get_session)) -> dict:
    """Open incidents of the category near the point: probable duplicates of a call."""
    found = duplicate_candidates(session, scope=scope_of(request), kode_kab=kode_kab,
                                 category=category, location=LonLat(lon, lat),
                                 now=datetime.now(UTC))
    return {"candidates": [{
        "incident_id": c.incident.id, "category": c.incident.category,
        "status": c.incident.status, "priority": c.incident.priority,
        "received_at": iso_utc(c.incident.received_at), "nama_desa": c.incident.nama_desa,
        "place_text": c.incident.place_text, "description": c.incident.description,
        "distance_m": round(c.distance_m, 1), "gap_s": round(c.gap_s, 1), "calls": c.calls,
    } for c in found]}


@router.get("/incidents/queue", response_model=QueueOut)
def queue(request: Request, kode_kab: KAB, session: Session = Depends(get_session)) -> dict:
    """Open incidents by priority, then by time left to the nearest on-scene SLA deadline."""
    now = datetime.now(UTC)
    rows = incident_queue(session, scope=scope_of(request), kode_kab=kode_kab, now=now)
    return {"kode_kab": kode_kab, "now": iso_utc(now), "items": [{
        "incident_id": i.id, "category": i.category, "status": i.status,
        "priority": i.priority, "received_at": iso_utc(i.received_at),
        "nama_desa": i.nama_desa, "place_text": i.place_text, "drill": bool(i.drill),
        "deadline": iso_utc(e.deadline), "deadline_agency": e.deadline_agency,
        "limit_s": e.limit_s, "left_s": None if e.left_s is None else round(e.left_s, 1),
        "fraction_left": e.fraction_left, "urgency": e.urgency.value,
        "ack_overdue": list(e.ack_overdue), "escalated": list(e.escalated),
    } for i, e in rows]}


@router.post("/incidents/{incident_id}/calls", response_model=CallAttachedOut, status_code=201)
def attach(incident_id: ID, body: CallAttachIn, request: Request,
           state: AppState = Depends(get_state),
           session: Session = Depends(get_session)) -> dict:
    """Attach a further call (caller, channel, note) to an open incident instead of a new one."""
    result = attach_call(session, incident_id, scope=scope_of(request), channel=body.channel,
                         caller_phone=body.caller_phone, caller_name=body.caller_name,
                         note=body.note, actor=actor_of(request, "dispatcher"),
                         now=datetime.now(UTC))
    out = _call_out(result.value, reveal_caller(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return out


@router.get("/incidents/{incident_id}/calls", response_model=CallsOut)
def calls(incident_id: ID, request: Request, session: Session = Depends(get_session)) -> dict:
    """The further calls attached to an incident, oldest first (numbers masked by role)."""
    reveal = reveal_caller(request)
    return {"incident_id": incident_id,
            "calls": [_call_out(r, reveal) for r in calls_of(session, incident_id,
                                                             scope=scope_of(request))]}

