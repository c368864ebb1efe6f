"""The append-only audit log (repository): every state change with actor, time, before/after.

Each entry is also linked into the audit hash chain (:mod:`dispatch.chain`, table
``audit_chain``) in the same transaction, when it commits: :func:`record` notes the entry on the
session, and a ``before_commit`` hook (:func:`seal`) takes a transaction-level advisory lock,
reads the chain head and appends one link per noted entry, hashing the rows as the database
returns them. The lock is the last one a transaction takes, so concurrent writers queue behind it
(the chain never forks) and cannot deadlock on it; it is released by the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, event, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from dispatch.chain import ENTRY_FIELDS, GENESIS, extend
from dispatch.models import AuditChain, AuditLog
from dispatch.timestamp import iso_utc

#: Key of the transaction-level advisory lock that serialises appends to the chain.
CHAIN_LOCK_KEY = 0x5_1A6A_A0D1
_PENDING = "siaga_audit_pending"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(row: Any, fields: Sequence[str]) -> dict[str, Any]:
    """The audited ``fields`` of ``row`` (an entry's ``before`` or ``after``)."""
    return {name: getattr(row, name) for name in fields}


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
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def chain_head(session: Session) -> tuple[int, str]:
    """``(seq, entry_hash)`` of the last link, or ``(0, GENESIS)`` for an empty chain."""
    row = session.execute(select(AuditChain.seq, AuditChain.entry_hash)
                          .order_by(AuditChain.seq.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def entry_rows(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The audit rows ``ids`` as the database returns them (the values the chain hashes)."""
    columns = [getattr(AuditLog, name) for name in ENTRY_FIELDS]
    rows = session.execute(select(*columns).where(AuditLog.id.in_(list(ids)))
                           .order_by(AuditLog.id))
    return [dict(zip(ENTRY_FIELDS, row, strict=True)) for row in rows]


def seal(session: Session) -> int:
    """Link the entries recorded in this transaction into the chain; returns how many.

    Called by the ``before_commit`` hook; callable earlier (e.g. before reading the chain in the
    same transaction). Entries whose insert was rolled back are skipped.
    """
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return 0
    session.flush()
    ids = [i for i in (_id_of(e) for e in pending) if i is not None]
    if not ids:
        return 0
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    rows = entry_rows(session, ids)
    head_seq, head_hash = chain_head(session)
    links = extend(head_seq, head_hash, rows)
    session.add_all([AuditChain(seq=link.seq, audit_id=link.audit_id, prev_hash=link.prev_hash,
                                entry_hash=link.entry_hash) for link in links])
    session.flush()
    return len(links)


def _id_of(entry: AuditLog) -> int | None:
    try:
        return entry.id
    except SQLAlchemyError:  # its insert was rolled back with a savepoint
        return None


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    # Not when a SAVEPOINT is released: the lock would then be held while the rest of the
    # transaction takes row locks; the outermost commit seals everything.
    if not session.in_nested_transaction():
        seal(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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
