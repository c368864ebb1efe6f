"""ORM model of CAP 1.2 alerts imported as planner notices (table ``cap_notice``, written by the
hand-written Alembic revision ``0012_cap_notices``; this class mirrors it)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import SRID, Base

_TS = DateTime(timezone=True)


class CapNotice(Base):
    """One imported alert (its first ``<info>``), for the planners of one regency."""

    __tablename__ = "cap_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    identifier: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(Text)
    sent: Mapped[datetime] = mapped_column(_TS)
    status: Mapped[str] = mapped_column(String(16))
    msg_type: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16), default="en-US")
    event: Mapped[str] = mapped_column(Text)
    category: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    urgency: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    certainty: Mapped[str] = mapped_column(String(16))
    headline: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    instruction: Mapped[str | None] = mapped_column(Text)
    effective: Mapped[datetime | None] = mapped_column(_TS)
    onset: Mapped[datetime | None] = mapped_column(_TS)
    expires: Mapped[datetime | None] = mapped_column(_TS)
    area_desc: Mapped[str] = mapped_column(Text, default="")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False),
                         nullable=True)
    xml: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(_TS)
    imported_by: Mapped[str | None] = mapped_column(Text)
