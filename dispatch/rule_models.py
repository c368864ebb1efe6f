"""ORM models of the Perbup SLA rule sets and of the complaint follow-up tickets.

The schema is created by the hand-written Alembic revision ``0009_sla_rules``; these classes
mirror it. Every row carries ``kode_kab``; times are ``timestamptz`` (aware UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base

_TS = DateTime(timezone=True)


class SlaRuleSetRow(Base):
    """One version of a regency's rule set: the validated document (``dispatch.perbup``)."""

    __tablename__ = "sla_rule_set"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(_TS)
    reference: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_TS)


class ComplaintTicket(Base):
    """A public-service complaint forwarded to an OPD, with its follow-up deadline and status
    (received, in_progress, done, rejected with a reason)."""

    __tablename__ = "complaint_ticket"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    ticket_no: Mapped[str] = mapped_column(String(32), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    status: Mapped[str] = mapped_column(String(16), default="received")
    reason: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(_TS)
    created_at: Mapped[datetime] = mapped_column(_TS)
    updated_at: Mapped[datetime] = mapped_column(_TS)
    updated_by: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(_TS)
