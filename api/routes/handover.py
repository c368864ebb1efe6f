"""Shift handover: open incidents with SLA state, overdue follow-ups and units out of service or
with stale trackers, as JSON and as a printable page (Bahasa Indonesia or English)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import get_session
from api.errors import ErrorResponse
from api.routes.incidents import scope_of
from api.schemas_geo import IsoTime
from dispatch.handover import handover_out
from dispatch.handover_service import shift_handover
from maps.handover_page import render_handover_page

router = APIRouter(tags=["handover"])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Wilayah tidak ditemukan / region not found"},
    422: {"model": ErrorResponse, "description": "Masukan tidak sah / invalid input"},
}
KodeKab = Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri regency code")]
StaleMin = Annotated[float, Query(gt=0, le=1440, description="minutes without a GPS fix after "
                                                             "which an on-duty tracker is stale")]


class IncidentLineOut(BaseModel):
    id: int
    category: str
    status: str
    priority: int | None
    place: str
    drill: bool
    received_at: IsoTime
    age_s: float
    sla: Literal["breached", "pending", "met", "none"]
    sla_deadline: IsoTime | None
    sla_left_s: float | None


class FollowUpOut(BaseModel):
    kind: Literal["complaint", "unacknowledged", "handoff"]
    incident_id: int
    agency: str
    due_at: IsoTime
    overdue_s: float
    ticket_no: str | None


class UnitLineOut(BaseModel):
    unit_id: int
    call_sign: str
    agency: str
    status: str
    reason: Literal["out_of_service", "stale"]
    device_id: str | None
    last_fix_at: IsoTime | None
    silent_s: float | None


class HandoverOut(BaseModel):
    """What the next shift must know (times UTC, durations in seconds)."""

    kode_kab: str
    generated_at: IsoTime
    stale_after_s: float
    counts: dict[str, int]
    incidents: list[IncidentLineOut]
    follow_ups: list[FollowUpOut]
    units: list[UnitLineOut]


def _handover(request: Request, session: Session, kode_kab: str,
              stale_after_min: float) -> dict[str, Any]:
    h = shift_handover(session, kode_kab=kode_kab, scope=scope_of(request),
                       stale_after_s=stale_after_min * 60.0)
    return {"kode_kab": kode_kab, **handover_out(h)}


@router.get("/api/v1/handover", response_model=HandoverOut, responses=ERRORS)
def handover(request: Request, kode_kab: KodeKab, stale_after_min: StaleMin = 10.0,
             session: Session = Depends(get_session)) -> dict[str, Any]:
    """The shift handover of a regency (an agency desk: its own part)."""
    return _handover(request, session, kode_kab, stale_after_min)


@router.get("/console/handover", response_class=HTMLResponse, responses=ERRORS)
def handover_page(request: Request, kode_kab: KodeKab, stale_after_min: StaleMin = 10.0,
                  lang: Annotated[str | None, Query(pattern="^(id|en)$")] = None,
                  session: Session = Depends(get_session)) -> HTMLResponse:
    """The shift handover as a printable page."""
    html = render_handover_page(_handover(request, session, kode_kab, stale_after_min),
                                lang=lang or "id")
    return HTMLResponse(html, headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                   "frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff"})
