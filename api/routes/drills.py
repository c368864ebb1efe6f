"""Drills (latihan): exercises and the purge of drill records (admin).

Drill incidents themselves are created with ``POST /api/v1/incidents`` (``drill: true`` or an
``exercise_id``) and listed with ``GET /api/v1/incidents?drill=true``. Every call is scoped to
the caller's regencies: another regency's exercise is "not found" (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session
from api.errors import ErrorResponse
from dispatch import drill
from dispatch.schemas import Timestamp
from dispatch.scope import Scope

ID = Annotated[int, Path(ge=1, le=2**31 - 1)]
KODE_KAB = r"^\d{2}\.\d{2}$"
router = APIRouter(prefix="/api/v1", tags=["drills"])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Tidak ditemukan / not found"},
    422: {"model": ErrorResponse, "description": "Masukan tidak sah / invalid input"},
}


class ExerciseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kode_kab: str = Field(pattern=KODE_KAB)
    name: str = Field(min_length=1, max_length=200)


class ExerciseOut(BaseModel):
    """An exercise (latihan); its incidents are drills."""

    id: int
    kode_kab: str
    name: str
    started_at: str | None
    ended_at: str | None
    created_by: str | None
    drill: bool


class ExerciseListOut(BaseModel):
    exercises: list[ExerciseOut]


class PurgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kode_kab: str = Field(pattern=KODE_KAB)
    exercise_id: int | None = Field(None, ge=1, le=2**31 - 1)
    before: Timestamp | None = None


class PurgeOut(BaseModel):
    """What was deleted; the audit log is kept (see docs/drills.md)."""

    kode_kab: str
    incidents: int
    assignments: int
    units_released: int
    exercises: int
    incident_ids: list[int]


def _caller(request: Request) -> tuple[Scope, str]:
    p = getattr(request.state, "principal", None)
    if p is None:  # routes here always require a login (api/permissions.py)
        return Scope.everything(), "system"
    return p.scope, p.actor


@router.post("/exercises", status_code=201, response_model=ExerciseOut, responses=ERRORS)
def create_exercise(body: ExerciseCreate, request: Request,
                    session: Session = Depends(get_session)) -> dict:
    """Open an exercise (latihan) in a regency."""
    scope, actor = _caller(request)
    exercise = drill.create_exercise(session, scope=scope, kode_kab=body.kode_kab,
                                     name=body.name, actor=actor)
    session.commit()  # committed before the response
    return drill.exercise_out(exercise)


@router.get("/exercises", response_model=ExerciseListOut)
def list_exercises(request: Request,
                   kode_kab: str | None = Query(None, pattern=KODE_KAB),
                   limit: int = Query(100, ge=1, le=1000),
                   session: Session = Depends(get_session)) -> dict:
    """Exercises of the caller's regencies, newest first."""
    scope, _actor = _caller(request)
    rows = drill.list_exercises(session, scope=scope, kode_kab=kode_kab, limit=limit)
    return {"exercises": [drill.exercise_out(e) for e in rows]}


@router.post("/exercises/{exercise_id}/end", response_model=ExerciseOut, responses=ERRORS)
def end_exercise(exercise_id: ID, request: Request,
                 session: Session = Depends(get_session)) -> dict:
    """Close an exercise: no more incidents may join it."""
    scope, actor = _caller(request)
    exercise = drill.end_exercise(session, exercise_id, scope=scope, actor=actor)
    session.commit()  # committed before the response
    return drill.exercise_out(exercise)


@router.post("/drills/purge", response_model=PurgeOut, responses=ERRORS)
def purge(body: PurgeRequest, request: Request, session: Session = Depends(get_session)) -> dict:
    """Delete a regency's drill incidents (of one exercise, or received before a time) with
    their assignments; the audit log is kept and the purge itself audited."""
    scope, actor = _caller(request)
    report = drill.purge_drills(session, scope=scope, kode_kab=body.kode_kab, actor=actor,
                                exercise_id=body.exercise_id, before=body.before)
    session.commit()  # committed before the response
    return {"kode_kab": report.kode_kab, "incidents": report.incidents,
            "assignments": report.assignments, "units_released": report.units_released,
            "exercises": report.exercises, "incident_ids": list(report.incident_ids)}
