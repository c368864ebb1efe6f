"""Drills (latihan): exercises and the purge of drill records.

An incident is a drill when ``incident.drill`` is true; an exercise (``exercise``) groups the
drill incidents of one regency and every incident created in it is a drill. Drills are listed
like real incidents (with a banner in the console) but left out of SLA reports, hotspots and
planning statistics unless asked for.

Purge: drill incidents are deleted with their agency clocks and assignments (``ON DELETE
CASCADE``); units still on a purged drill are set back to ``available``; the exercises of the
purged drills are deleted once empty. The audit log is append-only and is **kept**: drill
entries carry ``"drill": true`` in the incident's ``create`` entry, and the purge appends one
``purge_drills`` entry listing the purged incident ids, so an auditor can account for every entry
of them.

Functions take ``*, session``, never commit, and are scoped by :class:`~dispatch.scope.Scope`
(another regency's exercise is "not found").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.exceptions import DispatchNotFound, DispatchValidationError
from dispatch.incident_records import utcnow
from dispatch.models import Assignment, Exercise, Incident, Unit
from dispatch.scope import Scope
from dispatch.timestamp import iso_utc

#: Assignment statuses in which a unit is still out on the drill.
ACTIVE_ASSIGNMENT = "active"


class ExerciseNotFound(DispatchNotFound):
    """No exercise with that id in the caller's regencies."""


def _check_scope(scope: Scope, kode_kab: str) -> None:
    if not scope.allows(kode_kab):
        raise ExerciseNotFound(
            f"Wilayah {kode_kab} tidak ditemukan / region {kode_kab} not found")


def exercise_out(e: Exercise) -> dict:
    return {"id": e.id, "kode_kab": e.kode_kab, "name": e.name,
            "started_at": iso_utc(e.started_at), "ended_at": iso_utc(e.ended_at),
            "created_by": e.created_by, "drill": True}


def create_exercise(session: Session, *, scope: Scope, kode_kab: str, name: str, actor: str,
                    now: datetime | None = None) -> Exercise:
    """Open an exercise (latihan) in ``kode_kab``; audited."""
    now = now or utcnow()
    _check_scope(scope, kode_kab)
    name = name.strip()
    if not name:
        raise DispatchValidationError("Nama latihan wajib diisi / the exercise needs a name.")
    exercise = Exercise(kode_kab=kode_kab, name=name, started_at=now, created_by=actor)
    session.add(exercise)
    session.flush()
    audit.record(session, actor=actor, at=now, entity="exercise", entity_id=exercise.id,
                 action="create", after={"name": name, "drill": True}, kode_kab=kode_kab)
    return exercise


def get_exercise(session: Session, exercise_id: int, *, scope: Scope) -> Exercise:
    exercise = session.get(Exercise, exercise_id)
    if exercise is None or not scope.allows(exercise.kode_kab):
        raise ExerciseNotFound(
            f"Latihan {exercise_id} tidak ditemukan / exercise {exercise_id} not found")
    return exercise


def list_exercises(session: Session, *, scope: Scope, kode_kab: str | None = None,
                   limit: int = 100) -> list[Exercise]:
    stmt = select(Exercise).order_by(Exercise.started_at.desc(), Exercise.id.desc())
    if scope.kode_kabs is not None:
        stmt = stmt.where(Exercise.kode_kab.in_(sorted(scope.kode_kabs)))
    if kode_kab:
        stmt = stmt.where(Exercise.kode_kab == kode_kab)
    return list(session.scalars(stmt.limit(limit)))


def end_exercise(session: Session, exercise_id: int, *, scope: Scope, actor: str,
                 now: datetime | None = None) -> Exercise:
    """Close an exercise: no more incidents may join it; audited."""
    now = now or utcnow()
    exercise = get_exercise(session, exercise_id, scope=scope)
    if exercise.ended_at is None:
        exercise.ended_at = max(now, exercise.started_at)
        audit.record(session, actor=actor, at=now, entity="exercise", entity_id=exercise.id,
                     action="end", after={"ended_at": exercise.ended_at, "drill": True},
                     kode_kab=exercise.kode_kab)
    return exercise


def open_exercise(session: Session, exercise_id: int, *, kode_kab: str,
                  now: datetime) -> Exercise:
    """The exercise an incident of ``kode_kab`` may join at ``now`` (open, same region)."""
    exercise = get_exercise(session, exercise_id, scope=Scope.of([kode_kab]))
    if exercise.ended_at is not None and exercise.ended_at <= now:
        raise DispatchValidationError(
            f"Latihan {exercise_id} sudah selesai / exercise {exercise_id} has ended.")
    return exercise


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted (ids are kept in the audit entry)."""

    kode_kab: str
    incidents: int
    assignments: int
    units_released: int
    exercises: int
    incident_ids: tuple[int, ...]


def purge_drills(session: Session, *, scope: Scope, kode_kab: str, actor: str,
                 exercise_id: int | None = None, before: datetime | None = None,
                 now: datetime | None = None) -> PurgeReport:
    """Delete the drill incidents of ``kode_kab`` (of one exercise, or received before
    ``before``) with their assignments; release their units; keep and extend the audit log."""
    now = now or utcnow()
    _check_scope(scope, kode_kab)
    if exercise_id is not None:
        get_exercise(session, exercise_id, scope=Scope.of([kode_kab]))
    cond = [Incident.kode_kab == kode_kab, Incident.drill.is_(True)]
    if exercise_id is not None:
        cond.append(Incident.exercise_id == exercise_id)
    if before is not None:
        cond.append(Incident.received_at < before)
    ids = tuple(session.scalars(
        select(Incident.id).where(*cond).order_by(Incident.id).with_for_update()))
    if not ids:
        return PurgeReport(kode_kab, 0, 0, 0, 0, ())
    touched = set(session.scalars(select(Incident.exercise_id).where(
        Incident.id.in_(ids), Incident.exercise_id.is_not(None))))
    if exercise_id is not None:
        touched.add(exercise_id)
    active = session.execute(select(Assignment.id, Assignment.unit_id).where(
        Assignment.incident_id.in_(ids), Assignment.status == ACTIVE_ASSIGNMENT)).all()
    n_assign = len(session.scalars(select(Assignment.id).where(
        Assignment.incident_id.in_(ids))).all())
    released = sorted({unit_id for _a, unit_id in active})
    for unit in session.scalars(select(Unit).where(Unit.id.in_(released)).with_for_update()):
        audit.record(session, actor=actor, at=now, entity="unit", entity_id=unit.id,
                     action="status:available", before={"status": unit.status},
                     after={"status": "available", "reason": "drill purge / latihan dihapus",
                            "drill": True}, kode_kab=unit.kode_kab)
        unit.status, unit.status_changed_at = "available", now
    # real incidents that point at a drill as their duplicate keep their own record
    for column in (Incident.duplicate_of, Incident.probable_duplicate_of):
        session.execute(update(Incident).where(column.in_(ids), Incident.id.not_in(ids))
                        .values({column.key: None}))
    session.execute(delete(Incident).where(Incident.id.in_(ids)))
    # only the exercises whose drills were purged, once empty (an open, still empty exercise
    # of someone else stays)
    gone = list(session.scalars(select(Exercise.id).where(
        Exercise.id.in_(sorted(touched)),
        ~select(Incident.id).where(Incident.exercise_id == Exercise.id).exists())))
    if gone:
        session.execute(delete(Exercise).where(Exercise.id.in_(gone)))
    report = PurgeReport(kode_kab, len(ids), n_assign, len(released), len(gone), ids)
    audit.record(session, actor=actor, at=now, entity="drill", entity_id=exercise_id,
                 action="purge_drills", before=None,
                 after={"incident_ids": list(ids), "assignments": n_assign,
                        "units_released": released, "exercise_ids": gone,
                        "before": before, "drill": True}, kode_kab=kode_kab)
    session.flush()
    return report
