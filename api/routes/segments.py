"""The standard time segments (NFPA 1710 names) and the Perbup outcome of one incident."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import get_session
from api.errors import ErrorResponse
from api.routes.incidents import scope_of
from api.schemas_geo import IsoTime
from dispatch.segment_service import incident_segments

router = APIRouter(prefix="/api/v1", tags=["incidents"])
ID = Annotated[int, Path(ge=1, le=2**31 - 1)]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Tidak ditemukan / not found"},
}


class SegmentsOut(BaseModel):
    """Seconds; ``None`` when an event is missing or out of order (named in inconsistent)."""

    call_processing_s: float | None
    turnout_s: float | None
    travel_s: float | None
    total_response_s: float | None
    gps_verified: bool | None
    inconsistent: list[str]


class RuleOut(BaseModel):
    agency: str | None = None
    categories: list[str] | None = None
    kind: str | None = None
    start: str
    limit_min: float
    judge: str
    ack_min: float | None = None
    label: str | None = None


class OutcomeOut(BaseModel):
    status: str
    deadline: IsoTime
    elapsed_s: float | None
    clock_started_at: IsoTime | None


class AssignmentSegmentsOut(BaseModel):
    assignment_id: int
    call_sign: str
    status: str
    segments: SegmentsOut


class AgencySegmentsOut(BaseModel):
    agency: str
    role: str
    notified_at: IsoTime | None
    rule: RuleOut
    rule_version: int | None
    outcome: OutcomeOut | None
    segments: SegmentsOut
    assignments: list[AssignmentSegmentsOut]


class IncidentSegmentsOut(BaseModel):
    incident_id: int
    kode_kab: str
    received_at: IsoTime
    evaluated_at: IsoTime
    agencies: list[AgencySegmentsOut]


@router.get("/incidents/{incident_id}/segments", response_model=IncidentSegmentsOut,
            responses=ERRORS)
def segments(request: Request, incident_id: ID,
             session: Session = Depends(get_session)) -> dict[str, Any]:
    """Call processing, turnout, travel and total response per agency and per assignment."""
    return incident_segments(session, scope_of(request), incident_id)
