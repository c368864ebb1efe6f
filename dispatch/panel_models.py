"""ORM models of the incident panel: notes, the regency's SOP steps and the steps ticked on an
incident (revision ``0017_incident_panel``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base

_TS = DateTime(timezone=True)


class IncidentNote(Base):
    """A note written on an incident by a dispatcher or an agency desk."""

    __tablename__ = "incident_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    author: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_TS)


class SopStepRow(Base):
    """One step of the regency's checklist for one (category, agency)."""

    __tablename__ = "sop_step"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    category: Mapped[str] = mapped_column(String(48))
    agency_code: Mapped[str] = mapped_column(String(32))
    step_no: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")


class SopCheck(Base):
    """A step ticked on an incident, with the step's text at that moment."""

    __tablename__ = "sop_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    category: Mapped[str] = mapped_column(String(48))
    agency_code: Mapped[str] = mapped_column(String(32))
    step_no: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    checked_by: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(_TS)
