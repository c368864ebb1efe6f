"""Calls that are not incidents (prank, silent, information request, wrong number, dropped):
logged in one keystroke from the console and counted in the reports, as 112 centres must report
them. Storage and counting, scoped to the caller's regencies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatch import audit
from dispatch.privacy import mask_phone
from dispatch.scope import Scope
from dispatch.scoping import check_region, kab_condition
from geo.db import Base

__all__ = ["CALL_KINDS", "CallLog", "call_counts", "log_call"]

#: kind → (Bahasa Indonesia, English); the order of the console's buttons.
CALL_KINDS: dict[str, tuple[str, str]] = {
    "prank": ("Iseng", "Prank"),
    "silent": ("Diam / tanpa suara", "Silent"),
    "information": ("Permintaan informasi", "Information request"),
    "wrong_number": ("Salah sambung", "Wrong number"),
    "dropped": ("Terputus", "Dropped"),
}


class CallLog(Base):
    """One call that did not become an incident."""

    __tablename__ = "call_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(24))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(Text)


def log_call(session: Session, *, scope: Scope, kode_kab: str, kind: str, channel: str,
             caller_phone: str | None, note: str, actor: str, now: datetime) -> CallLog:
    """Record a non-incident call (audited; the caller's number masked in the audit entry)."""
    check_region(kode_kab, scope)
    if kind not in CALL_KINDS:
        raise ValueError(f"unknown call kind {kind!r}")
    row = CallLog(kode_kab=kode_kab, received_at=now, kind=kind, channel=channel,
                  caller_phone=caller_phone, note=note, created_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, at=now, entity="call", entity_id=row.id, action="log",
                 after={"kind": kind, "channel": channel,
                        "caller_phone": mask_phone(caller_phone)}, kode_kab=kode_kab)
    return row


def call_counts(session: Session, *, scope: Scope, kode_kab: str, start: datetime,
                end: datetime) -> dict[str, int]:
    """Non-incident calls of ``[start, end)`` per kind (every kind present, zeros included)."""
    check_region(kode_kab, scope)
    rows = session.execute(
        select(CallLog.kind, func.count()).where(
            CallLog.kode_kab == kode_kab, kab_condition(CallLog.kode_kab, scope),
            CallLog.received_at >= start, CallLog.received_at < end)
        .group_by(CallLog.kind)).all()
    counts = dict.fromkeys(CALL_KINDS, 0)
    counts.update({k: int(n) for k, n in rows})
    return counts
