"""Incidents: intake, triage, list/get with timeline, recommendations, status, agency actions.

Domain events returned by the services are handed, after the commit, to the event sink of the
composition root (``Services.publish_events``: the MQTT fan-out unless a test sets its own).
Caller numbers are masked unless the authenticated role may see them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.geocode import holder_of
from api.routes.routing import road_networks_of
from api.schemas_dispatch import IncidentDetailOut, RecommendationsOut
from api.state import AppState
from dispatch import exceptions as dx
from dispatch import incident_service as incidents
from dispatch import recommend_service, schemas
from dispatch.config import AgencyRequirement, DispatchConfig
from dispatch.events import DomainEvent
from dispatch.scope import Scope
from dispatch.triage import TriageOverride
from geo.geocode import Geocoder
from geo.routing.store import RoadNetworks
from geo.types import LonLat

ID = Annotated[int, Path(ge=1, le=2**31 - 1)]
AgencyCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="OPD code")]
#: Largest offset of a listing (far beyond any real list; keeps it inside int8).
MAX_OFFSET = 1_000_000
router = APIRouter(prefix="/api/v1", tags=["incidents"])
log = logging.getLogger("siaga.dispatch")

# --- shared helpers for the dispatch routers -------------------------------------------------

def dispatch_config(state: AppState) -> DispatchConfig:
    return state.dispatch_config


def road_networks(state: AppState) -> RoadNetworks:
    """The app's road networks, built with ``settings.profiles_path`` (``api.routes.routing``)."""
    return road_networks_of(state)


def geocoder(state: AppState, session: Session) -> Geocoder:
    """The app's shared geocoder, current with the regions table (``api.routes.geocode``)."""
    return holder_of(state).get(session)


def principal(request: Request) -> Any:
    return getattr(request.state, "principal", None)


def scope_of(request: Request) -> Scope:
    """The caller's tenancy scope (regencies, and the agency of a desk); nothing at all when
    no one is logged in (every route that reaches the services requires a login)."""
    p = principal(request)
    return p.scope if p is not None else Scope(frozenset())


def actor_of(request: Request, fallback: str) -> str:
    """The authenticated user's name, else the name given in the body (tools, tests)."""
    p = principal(request)
    return p.actor if p is not None else fallback


def agency_scope(request: Request) -> str | None:
    """The agency code an ``agency`` desk user is limited to (None for other roles)."""
    p = principal(request)
    return getattr(p, "agency_code", None) if getattr(p, "role", None) == "agency" else None


def reveal_caller(request: Request) -> bool:
    p = principal(request)
    return bool(p is not None and p.reveal_caller)


def publish(state: AppState, events: Sequence[DomainEvent]) -> None:
    state.publish(events)


# --- routes ----------------------------------------------------------------------------------

def _incident_detail(session: Session, incident_id: int, reveal: bool,
                     scope: Scope) -> dict[str, Any]:
    from dispatch.assignment_service import agency_clock, incident_assignments
    from dispatch.report_service import assignment_sla

    i = incidents.get_incident(session, incident_id, scope=scope)
    out = schemas.incident_out(i, reveal_caller=reveal)
    out["agencies"] = [schemas.incident_agency_out(ia, a)
                       for ia, a in incidents.incident_agencies(session, i.id)]
    now = incidents.utcnow()
    items = []
    for a, unit in incident_assignments(session, i.id, scope=scope):
        ia = agency_clock(session, a)
        item = schemas.assignment_out(a, sla=assignment_sla(session, a, ia, now) if ia else None)
        item["call_sign"] = unit.call_sign
        items.append(item)
    out["assignments"] = items
    out["timeline"] = [schemas.audit_out(e)
                       for e in incidents.timeline(session, i.id, scope=scope)]
    return out


@router.post("/incidents", status_code=201, response_model=schemas.IncidentOut)
def create_incident(body: schemas.IncidentCreate, request: Request,
                    state: AppState = Depends(get_state),
                    session: Session = Depends(get_session)) -> dict:
    """Record a call: locate it by point or place name, flag a probable duplicate."""
    location = LonLat(body.lon, body.lat) if body.lon is not None else None
    result = incidents.create_incident(
        session, config=dispatch_config(state), geocoder=geocoder(state, session),
        category=body.category, actor=actor_of(request, body.actor), kode_kab=body.kode_kab,
        location=location, place=body.place, description=body.description,
        channel=body.channel, caller_phone=body.caller_phone, caller_name=body.caller_name,
        received_at=body.received_at, drill=body.drill, exercise_id=body.exercise_id,
        scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return schemas.incident_out(result.value, reveal_caller=reveal_caller(request))


@router.get("/incidents", response_model=schemas.IncidentListOut)
def list_incidents(
    request: Request,
    kode_kab: str | None = Query(None, pattern=r"^\d{2}\.\d{2}$"),
    status: list[str] | None = Query(None, max_length=10),
    kind: str | None = Query(None, pattern="^(emergency|public_service)$"),
    category: str | None = Query(None, max_length=48),
    kecamatan: str | None = Query(None, pattern=r"^\d{2}\.\d{2}\.\d{2}$"),
    date_from: schemas.Timestamp | None = Query(None, alias="from"),
    date_to: schemas.Timestamp | None = Query(None, alias="to"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    drill: bool | None = Query(None, description="true: only drills (latihan); false: no drills"),
    session: Session = Depends(get_session),
) -> dict:
    """List incidents, newest first, with filters (caller numbers masked by role)."""
    from dispatch.lifecycle import INCIDENT_STATUSES

    bad = [s for s in status or [] if s not in INCIDENT_STATUSES]
    if bad:
        raise dx.DispatchValidationError(f"unknown status {bad}; use {INCIDENT_STATUSES}")
    rows = incidents.list_incidents(session, kode_kab=kode_kab, status=status, kind=kind,
                                    category=category, kode_kec=kecamatan, start=date_from,
                                    end=date_to, limit=limit, offset=offset,
                                    agency_code=agency_scope(request), drill=drill,
                                    scope=scope_of(request))
    reveal = reveal_caller(request)
    return {"incidents": [schemas.incident_out(i, reveal_caller=reveal) for i in rows]}


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut)
def get_incident(incident_id: ID, request: Request,
                 session: Session = Depends(get_session)) -> dict:
    """One incident with its agencies, assignments (with SLA) and audit timeline."""
    # Another regency's incident, or (agency desk) one its OPD takes no part in: not found.
    return _incident_detail(session, incident_id, reveal_caller(request), scope_of(request))


@router.post("/incidents/{incident_id}/triage", response_model=IncidentDetailOut)
def triage_incident(incident_id: ID, body: schemas.TriageRequest, request: Request,
                    state: AppState = Depends(get_state),
                    session: Session = Depends(get_session)) -> dict:
    """Apply the triage rules, or the dispatcher's override (audited)."""
    override = None
    if body.is_override:
        agencies = None if body.agencies is None else tuple(
            AgencyRequirement(a.agency, a.role, tuple(a.capabilities), a.units)
            for a in body.agencies)
        override = TriageOverride(kind=body.kind, priority=body.priority, agencies=agencies,
                                  reason=body.reason)
    result = incidents.triage_incident(session, incident_id, config=dispatch_config(state),
                                       actor=actor_of(request, body.actor), override=override,
                                       scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _incident_detail(session, incident_id, reveal_caller(request), scope_of(request))


@router.get("/incidents/{incident_id}/recommendations", response_model=RecommendationsOut)
def recommendations(incident_id: ID, request: Request,
                    limit: int = Query(10, ge=1, le=100),
                    state: AppState = Depends(get_state),
                    session: Session = Depends(get_session)) -> dict:
    """Units per required agency ranked by road ETA (estimated where no road network)."""
    nets = road_networks(state)
    # The networks' vehicle profiles, parsed once (not the profiles file on every request).
    recs = recommend_service.recommend(session, incident_id, config=dispatch_config(state),
                                       road_networks=nets, profiles=nets.profiles, limit=limit,
                                       scope=scope_of(request))
    return {"incident_id": incident_id,
            "agencies": [recommend_service.agency_recommendation_dict(a) for a in recs]}


@router.post("/incidents/{incident_id}/status", response_model=schemas.IncidentOut)
def change_status(incident_id: ID, body: schemas.IncidentStatusRequest, request: Request,
                  state: AppState = Depends(get_state),
                  session: Session = Depends(get_session)) -> dict:
    """Resolve, close, cancel or mark as duplicate."""
    result = incidents.change_incident_status(session, incident_id, body.status,
                                              actor=actor_of(request, body.actor),
                                              duplicate_of=body.duplicate_of,
                                              reason=body.reason,
                                              scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return schemas.incident_out(result.value, reveal_caller=reveal_caller(request))


@router.post("/incidents/{incident_id}/agencies/{agency_code}/acknowledge",
             response_model=IncidentDetailOut)
def acknowledge_agency(incident_id: ID, agency_code: AgencyCode, body: schemas.AgencyActionRequest,
                       request: Request, state: AppState = Depends(get_state),
                       session: Session = Depends(get_session)) -> dict:
    """The agency's standby line confirms it has taken the incident."""
    result = incidents.acknowledge_agency(session, incident_id, agency_code,
                                          actor=actor_of(request, body.actor),
                                          scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _incident_detail(session, incident_id, reveal_caller(request), scope_of(request))


@router.post("/incidents/{incident_id}/agencies/{agency_code}/handoff",
             response_model=IncidentDetailOut)
def handoff(incident_id: ID, agency_code: AgencyCode, body: schemas.AgencyActionRequest,
            request: Request, state: AppState = Depends(get_state),
            session: Session = Depends(get_session)) -> dict:
    """Record the hand-off to an external line (110, 117, 119) with its reference."""
    result = incidents.record_handoff(session, incident_id, agency_code,
                                      reference=body.reference or "",
                                      actor=actor_of(request, body.actor),
                                      scope=scope_of(request))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _incident_detail(session, incident_id, reveal_caller(request), scope_of(request))
