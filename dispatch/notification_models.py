"""ORM models of the OPD standby-line channels and the notifications sent through them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base

_TS = DateTime(timezone=True)


class AgencyChannel(Base):
    """One way to reach an agency's 24-hour standby line: a webhook, an email address or a
    phone number for SMS."""

    __tablename__ = "agency_channel"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    #: HMAC secret of a webhook (never returned by the API)
    secret: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_TS, server_default=func.now())


class Notification(Base):
    """One message to one channel, written in the transaction of the event that caused it and
    delivered afterwards by the worker (never before the event is committed)."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("agency_channel.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    #: pending, sent or failed (given up after the last attempt)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(_TS, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_TS)
    sent_at: Mapped[datetime | None] = mapped_column(_TS)
