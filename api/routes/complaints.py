"""Public-service complaints forwarded to an OPD: a ticket's status by the number the citizen
quotes, the OPD's status changes, and the overdue list per OPD."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session
from api.errors import ErrorResponse
from api.routes.incidents import actor_of, scope_of
from api.schemas_geo import IsoTime
from dispatch import complaint_service as complaints

router = APIRouter(prefix="/api/v1", tags=["complaints"])
TicketNo = Annotated[str, Path(pattern=r"^[0-9][0-9 .-]{9,30}$",
                               description="ticket number as quoted, e.g. 5106-000123-7")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Tidak ditemukan / not found"},
    409: {"model": ErrorResponse, "description": "Perubahan status tidak diizinkan / illegal "
                                                 "status change"},
    422: {"model": ErrorResponse, "description": "Masukan tidak sah / invalid input"},
}


class TicketOut(BaseModel):
    """A complaint ticket: status (Bahasa Indonesia and English labels), deadline, reason."""

    ticket_no: str
    kode_kab: str
    incident_id: int
    category: str
    agency: str
    agency_name: str
    status: Literal["received", "in_progress", "done", "rejected"]
    status_label: str
    status_label_en: str
    reason: str | None
    due_at: IsoTime
    overdue: bool
    created_at: IsoTime
    updated_at: IsoTime
    closed_at: IsoTime | None


class OverdueTicketOut(TicketOut):
    overdue_s: float


class AgencyOverdueOut(BaseModel):
    agency: str
    name: str
    overdue: int
    tickets: list[OverdueTicketOut]


class OverdueOut(BaseModel):
    kode_kab: str
    agencies: list[AgencyOverdueOut]


class TicketStatusIn(BaseModel):
    """The OPD's follow-up: in progress, done, or rejected with a reason."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["in_progress", "done", "rejected"]
    reason: str | None = Field(None, max_length=2000,
                               description="required when rejected; shown to the citizen")


class TicketListOut(BaseModel):
    tickets: list[TicketOut]


@router.get("/complaints/tickets", response_model=TicketListOut, responses=ERRORS)
def tickets(request: Request,
            incident_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
            session: Session = Depends(get_session)) -> dict[str, Any]:
    """The tickets of one forwarded complaint (the numbers to give the citizen)."""
    return {"tickets": complaints.tickets_of_incident(session, scope_of(request), incident_id)}


@router.get("/complaints/tickets/{ticket_no}", response_model=TicketOut, responses=ERRORS)
def ticket(request: Request, ticket_no: TicketNo,
           session: Session = Depends(get_session)) -> dict[str, Any]:
    """A complaint's follow-up status by the ticket number the citizen quotes."""
    return complaints.get_ticket(session, scope_of(request), ticket_no)


@router.post("/complaints/tickets/{ticket_no}/status", response_model=TicketOut,
             responses=ERRORS)
def ticket_status(request: Request, ticket_no: TicketNo,
                  body: Annotated[TicketStatusIn, Body()],
                  session: Session = Depends(get_session)) -> dict[str, Any]:
    """Record the OPD's follow-up (audited; done and rejected are final)."""
    out = complaints.set_status(session, scope_of(request), ticket_no, body.status,
                                reason=body.reason, actor=actor_of(request, "api"))
    session.commit()  # committed before the answer
    return out


@router.get("/complaints/overdue", response_model=OverdueOut, responses=ERRORS)
def overdue(request: Request,
            kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
            agency: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,32}$")] = None,
            session: Session = Depends(get_session)) -> dict[str, Any]:
    """Per OPD, the open complaint tickets past their follow-up deadline."""
    return {"kode_kab": kode_kab,
            "agencies": complaints.overdue(session, scope_of(request), kode_kab=kode_kab,
                                           agency=agency)}
