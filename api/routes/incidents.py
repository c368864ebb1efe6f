"""Incidents: intake, triage, list/get with timeline, recommendations, status, agency actions.

Domain events returned by the services are handed to ``resources['publish_events']`` when the
composition root provides one (a callable taking ``[(topic, payload), ...]``); the API itself
publishes nothing. Caller numbers are masked unless the authenticated role may see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.errors import register_error
from api.routes.geocode import holder_of
from api.routes.routing import road_networks_of
from api.schemas_dispatch import IncidentDetailOut, RecommendationsOut
from api.state import AppState
from dispatch import exceptions as dx
from dispatch import recommend_service, schemas
from dispatch import service as incidents
from dispatch.config import AgencyRequirement, DispatchConfig, load_config
from dispatch.events import DomainEvent
from dispatch.triage import TriageOverride
from geo.types import LonLat

ID = Annotated[int, Path(ge=1, le=2**31 - 1)]
AgencyCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="OPD code")]
#: Largest offset of a listing (far beyond any real list; keeps it inside int8).
MAX_OFFSET = 1_000_000
router = APIRouter(prefix="/api/v1", tags=["incidents"])
log = logging.getLogger("siaga.dispatch")

register_error(dx.IllegalTransition, 409, "illegal_transition")
register_error(dx.UnitUnavailable, 409, "unit_unavailable")
register_error(dx.DispatchNotFound, 404, "not_found")
register_error(dx.LocationUnresolved, 422, "location_unresolved")
register_error(dx.DispatchValidationError, 422, "invalid_dispatch_input")
register_error(dx.DispatchConfigError, 422, "dispatch_config")


# --- shared helpers for the dispatch routers -------------------------------------------------

def dispatch_config(state: AppState) -> DispatchConfig:
    cfg = state.resources.get("dispatch_config")
    if cfg is None:
        cfg = load_config(state.settings.agencies_path)
        state.resources["dispatch_config"] = cfg
    return cfg


def road_networks(state: AppState) -> Any:
    """The app's road networks, built with ``settings.profiles_path`` (``api.routes.routing``)."""
    return road_networks_of(state)


def geocoder(state: AppState, session: Session) -> Any:
    """The app's shared geocoder, current with the regions table (``api.routes.geocode``)."""
    return holder_of(state).get(session)


def principal(request: Request) -> Any:
    return getattr(request.state, "principal", None)


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
    sink = state.resources.get("publish_events")
    if sink is not None and events:
        sink([e.as_message() for e in events])


def escalate_once(state: AppState) -> list[DomainEvent]:
    """One escalation pass in its own transaction; returns the events to publish."""
    from api.db import unit_of_work
    from dispatch.assignment_service import check_escalations

    with unit_of_work(state.sessionmaker) as session:
        nets = road_networks(state)
        result = check_escalations(session, config=dispatch_config(state),
                                   road_networks=nets, profiles=nets.profiles)
    return result.events


async def _escalation_loop(state: AppState, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            events = await asyncio.to_thread(escalate_once, state)
            publish(state, events)
        except Exception:  # noqa: BLE001 - the loop must survive a failed pass
            log.exception("escalation pass failed")


async def startup(state: AppState) -> None:
    """Load the dispatch configuration; start the periodic escalation check when
    ``resources['escalation_interval_s']`` is set (seconds)."""
    dispatch_config(state)
    interval_s = state.resources.get("escalation_interval_s")
    if interval_s:
        state.resources["escalation_task"] = asyncio.create_task(
            _escalation_loop(state, float(interval_s)))


async def shutdown(state: AppState) -> None:
    task = state.resources.pop("escalation_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# --- routes ----------------------------------------------------------------------------------

def _incident_detail(session: Session, incident_id: int, reveal: bool) -> dict[str, Any]:
    from dispatch.assignment_service import agency_clock, incident_assignments
    from dispatch.report_service import assignment_sla

    i = incidents.get_incident(session, incident_id)
    out = schemas.incident_out(i, reveal_caller=reveal)
    out["agencies"] = [schemas.incident_agency_out(ia, a)
                       for ia, a in incidents.incident_agencies(session, i.id)]
    now = incidents.utcnow()
    items = []
    for a, unit in incident_assignments(session, i.id):
        ia = agency_clock(session, a)
        item = schemas.assignment_out(a, sla=assignment_sla(a, ia, now) if ia else None)
        item["call_sign"] = unit.call_sign
        items.append(item)
    out["assignments"] = items
    out["timeline"] = [schemas.audit_out(e) for e in incidents.timeline(session, i.id)]
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
        received_at=body.received_at, drill=body.drill, exercise_id=body.exercise_id)
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
                                    agency_code=agency_scope(request), drill=drill)
    reveal = reveal_caller(request)
    return {"incidents": [schemas.incident_out(i, reveal_caller=reveal) for i in rows]}


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut)
def get_incident(incident_id: ID, request: Request,
                 session: Session = Depends(get_session)) -> dict:
    """One incident with its agencies, assignments (with SLA) and audit timeline."""
    scope = agency_scope(request)
    if scope and not incidents.incident_involves_agency(session, incident_id, scope):
        # An agency desk sees only incidents its OPD takes part in (no existence leak).
        raise dx.IncidentNotFound(f"incident {incident_id} not found")
    return _incident_detail(session, incident_id, reveal_caller(request))


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
                                       actor=actor_of(request, body.actor), override=override)
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _incident_detail(session, incident_id, reveal_caller(request))


@router.get("/incidents/{incident_id}/recommendations", response_model=RecommendationsOut)
def recommendations(incident_id: ID, limit: int = Query(10, ge=1, le=100),
                    state: AppState = Depends(get_state),
                    session: Session = Depends(get_session)) -> dict:
    """Units per required agency ranked by road ETA (estimated where no road network)."""
    nets = road_networks(state)
    # The networks' vehicle profiles, parsed once (not the profiles file on every request).
    recs = recommend_service.recommend(session, incident_id, config=dispatch_config(state),
                                       road_networks=nets, profiles=nets.profiles, limit=limit)
    return {"incident_id": incident_id, "agencies": recs}


@router.post("/incidents/{incident_id}/status", response_model=schemas.IncidentOut)
def change_status(incident_id: ID, body: schemas.IncidentStatusRequest, request: Request,
                  state: AppState = Depends(get_state),
                  session: Session = Depends(get_session)) -> dict:
    """Resolve, close, cancel or mark as duplicate."""
    result = incidents.change_incident_status(session, incident_id, body.status,
                                              actor=actor_of(request, body.actor),
                                              duplicate_of=body.duplicate_of)
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
                                          actor=actor_of(request, body.actor))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _incident_detail(session, incident_id, reveal_caller(request))


@router.post("/incidents/{incident_id}/agencies/{agency_code}/handoff",
             response_model=IncidentDetailOut)
def handoff(incident_id: ID, agency_code: AgencyCode, body: schemas.AgencyActionRequest,
            request: Request, state: AppState = Depends(get_state),
            session: Session = Depends(get_session)) -> dict:
    """Record the hand-off to an external line (110, 117, 119) with its reference."""
    result = incidents.record_handoff(session, incident_id, agency_code,
                                      reference=body.reference or "",
                                      actor=actor_of(request, body.actor))
    session.commit()  # committed before the events and the response
    publish(state, result.events)
    return _incident_detail(session, incident_id, reveal_caller(request))
