"""Units (list with status and last position, status changes) and assignments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.incidents import actor_of, dispatch_config, publish, road_networks, scope_of
from api.schemas_dispatch import AssignmentOut, EvidenceOut
from api.state import AppState
from dispatch import assignment_service as assignments
from dispatch import schemas
from dispatch.models import Agency
from dispatch.report_service import assignment_sla
from dispatch.timestamp import iso_utc
from dispatch.verification import assignment_evidence

ID = Annotated[int, Path(ge=1, le=2**31 - 1)]
router = APIRouter(prefix="/api/v1", tags=["units"])


@router.get("/units", response_model=schemas.UnitListOut)
def list_units(request: Request, kode_kab: str | None = Query(None, pattern=r"^\d{2}\.\d{2}$"),
               agency: str | None = Query(None, max_length=32),
               status: str | None = Query(None, max_length=24),
               session: Session = Depends(get_session)) -> dict:
    """Units with their status and last known position (GPS fix, else home station)."""
    from dispatch.recommend_service import unit_positions

    rows = assignments.list_units(session, kode_kab=kode_kab, agency=agency, status=status,
                                  scope=scope_of(request))
    positions = unit_positions(session, [u for u, _ in rows])
    out = []
    for unit, ag in rows:
        pos, source, at = positions[unit.id]
        last = None if pos is None else {"lon": pos.lon, "lat": pos.lat, "source": source,
                                         "fix_time": iso_utc(at)}
        out.append(schemas.unit_out(unit, ag, last))
    return {"units": out}


@router.patch("/units/{unit_id}", response_model=schemas.UnitOut)
def patch_unit(unit_id: ID, body: schemas.UnitStatusPatch, request: Request,
               state: AppState = Depends(get_state),
               session: Session = Depends(get_session)) -> dict:
    """Change a unit's status outside an assignment (e.g. out of service)."""
    result = assignments.set_unit_status(session, unit_id, body.status,
                                         actor=actor_of(request, body.actor), reason=body.reason,
                                         scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    unit = result.value
    return schemas.unit_out(unit, session.get(Agency, unit.agency_id))


def _assignment_body(session: Session, a) -> dict:
    ia = assignments.agency_clock(session, a)
    now = assignments.utcnow()
    return schemas.assignment_out(a, sla=assignment_sla(session, a, ia, now) if ia else None)


@router.post("/assignments", status_code=201, response_model=AssignmentOut)
def assign(body: schemas.AssignRequest, request: Request, state: AppState = Depends(get_state),
           session: Session = Depends(get_session)) -> dict:
    """Assign a unit to an incident (409 if the unit was taken meanwhile)."""
    nets = road_networks(state)
    result = assignments.assign_unit(session, body.incident_id, body.unit_id,
                                     config=dispatch_config(state),
                                     actor=actor_of(request, body.actor),
                                     road_networks=nets, profiles=nets.profiles,
                                     scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _assignment_body(session, result.value)


def _step(name: str):
    fn = getattr(assignments, name)

    def handler(assignment_id: ID, body: schemas.ArriveRequest, request: Request,
                state: AppState = Depends(get_state),
                session: Session = Depends(get_session)) -> dict:
        kwargs = {"at": body.at} if name == "arrive" else {}
        if name != "arrive" and body.at is not None:
            raise HTTPException(422, "'at' applies to arrive only")
        # Another regency's assignment, or another agency's for a desk: not found.
        result = fn(session, assignment_id, actor=actor_of(request, body.actor),
                    scope=scope_of(request), **kwargs)
        session.commit()  # committed before the events and the response
        publish(state, result.events)
        return _assignment_body(session, result.value)

    handler.__doc__ = {"acknowledge": "The unit acknowledges the tasking.",
                       "depart": "The unit leaves for the scene.",
                       "arrive": "Manual arrival on scene (with the actor).",
                       "clear": "The unit leaves the incident."}[name]
    handler.__name__ = f"assignment_{name}"
    return handler


for _name in ("acknowledge", "depart", "arrive", "clear"):
    router.add_api_route(f"/assignments/{{assignment_id}}/{_name}", _step(_name),
                         methods=["POST"], response_model=AssignmentOut)


@router.get("/assignments/{assignment_id}/evidence", response_model=EvidenceOut)
def evidence(assignment_id: ID, request: Request, state: AppState = Depends(get_state),
             session: Session = Depends(get_session)) -> dict:
    """GPS arrival evidence (GeoJSON track + rule) and its digest, re-checked."""
    return assignment_evidence(session, assignment_id, config=dispatch_config(state),
                               scope=scope_of(request))  # outside the scope: 404
