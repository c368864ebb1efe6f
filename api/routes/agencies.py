"""Agencies (OPD), the SLA report, and the escalation check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.incidents import dispatch_config, publish, road_networks, scope_of
from api.schemas_dispatch import EscalationsOut, SlaReportOut
from api.state import AppState
from dispatch import exceptions as dx
from dispatch import schemas
from dispatch.assignment_service import list_agencies
from dispatch.escalation_service import check_escalations
from dispatch.report_service import sla_report
from maps.timezone import zone_for_code

router = APIRouter(prefix="/api/v1", tags=["agencies"])


@router.get("/agencies", response_model=schemas.AgencyListOut)
def agencies(request: Request, kode_kab: str | None = Query(None, pattern=r"^\d{2}\.\d{2}$"),
                  session: Session = Depends(get_session)) -> dict:
    """Agencies (OPD and external hand-off lines) per region."""
    return {"agencies": [schemas.agency_out(a)
                         for a in list_agencies(session, kode_kab=kode_kab,
                                                scope=scope_of(request))]}


@router.get("/reports/sla", response_model=SlaReportOut)
def report_sla(request: Request, kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
               date_from: Annotated[schemas.Timestamp, Query(alias="from")],
               date_to: Annotated[schemas.Timestamp, Query(alias="to")],
               include_drills: Annotated[bool, Query(
                   description="count drill (latihan) incidents too")] = False,
               session: Session = Depends(get_session)) -> dict:
    """Per agency: mean and 90th percentile response, met/breached/pending."""
    for v in (date_from, date_to):
        if v.tzinfo is None:
            raise dx.DispatchValidationError("from/to must include a timezone (e.g. ...Z).")
    if date_to <= date_from:
        raise dx.DispatchValidationError("'to' must be after 'from'.")
    return sla_report(session, kode_kab=kode_kab, start=date_from, end=date_to,
                      scope=scope_of(request), tz=zone_for_code(kode_kab).iana,
                      include_drills=include_drills).as_dict()


@router.post("/escalations/check", response_model=EscalationsOut)
def escalations(request: Request, kode_kab: str | None = Query(None, pattern=r"^\d{2}\.\d{2}$"),
                state: AppState = Depends(get_state),
                session: Session = Depends(get_session)) -> dict:
    """Escalate agencies that missed their acknowledgement time (with the next unit)."""
    nets = road_networks(state)
    result = check_escalations(session, config=dispatch_config(state), kode_kab=kode_kab,
                               road_networks=nets, profiles=nets.profiles,
                               scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return {"escalated": [e.as_dict() for e in result.value]}
