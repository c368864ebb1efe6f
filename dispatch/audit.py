"""The append-only audit log (repository): every state change with actor, time, before/after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dispatch.models import AuditLog
from dispatch.timestamp import iso_utc


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Session,
    *,
    actor: str,
    at: datetime,
    entity: str,
    entity_id: int | None,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    kode_kab: str | None = None,
) -> AuditLog:
    """Append one audit entry (flushed with the caller's transaction, never committed here)."""
    entry = AuditLog(
        kode_kab=kode_kab, actor=actor, at=at, entity=entity, entity_id=entity_id,
        action=action, before=_jsonable(before), after=_jsonable(after),
    )
    session.add(entry)
    return entry


def entries(
    session: Session, refs: Sequence[tuple[str, int]], *, actions: Sequence[str] | None = None
) -> list[AuditLog]:
    """Entries about any of the ``(entity, entity_id)`` references, oldest first."""
    if not refs:
        return []
    session.flush()
    cond = or_(*[and_(AuditLog.entity == e, AuditLog.entity_id == i) for e, i in refs])
    stmt = select(AuditLog).where(cond)
    if actions:
        stmt = stmt.where(AuditLog.action.in_(actions))
    return list(session.scalars(stmt.order_by(AuditLog.at, AuditLog.id)))
