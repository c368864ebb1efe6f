"""ORM models of dispatch (SQLAlchemy 2 + GeoAlchemy2). Every row carries ``kode_kab``.

Geometries are ``POINT`` in EPSG:4326; times are ``timestamptz`` (aware UTC). The schema itself is
created by the hand-written Alembic revision ``0003_dispatch``; these classes mirror it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import SRID, Base

_TS = DateTime(timezone=True)


class Agency(Base):
    """An agency (OPD) of a region; ``kind`` external = a hand-off line (110, 117, 119)."""

    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="internal")
    standby_contact: Mapped[str] = mapped_column(Text, default="")
    handoff_number: Mapped[str | None] = mapped_column(String(16))


class SlaRule(Base):
    """Minutes to acknowledge and to be on scene, per agency and incident category."""

    __tablename__ = "sla_rule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(48))
    ack_min: Mapped[float] = mapped_column(Float)
    on_scene_min: Mapped[float] = mapped_column(Float)


class Station(Base):
    __tablename__ = "station"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Post(Base):
    """A post or base of a regency (pos pemadam, markas BPBD, puskesmas, PSC 119 base...)."""

    __tablename__ = "post"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    agency_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    address: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(_TS, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(_TS, server_default=func.now())


class Unit(Base):
    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    call_sign: Mapped[str] = mapped_column(String(48))
    vehicle_type: Mapped[str] = mapped_column(String(48))
    profile: Mapped[str] = mapped_column(String(48))
    capabilities: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="SET NULL"))
    #: home post (revision ``0008_registry``): where the unit is expected without a fresh fix
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    crew_size: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(24), default="available")
    status_changed_at: Mapped[datetime | None] = mapped_column(_TS)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Incident(Base):
    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    received_at: Mapped[datetime] = mapped_column(_TS)
    channel: Mapped[str] = mapped_column(String(24))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    caller_name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False),
                                      nullable=True)
    place_text: Mapped[str | None] = mapped_column(Text)
    kode_desa: Mapped[str | None] = mapped_column(String(16))
    nama_desa: Mapped[str | None] = mapped_column(Text)
    kode_kec: Mapped[str | None] = mapped_column(String(12))
    nama_kec: Mapped[str | None] = mapped_column(Text)
    match: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(48))
    priority: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="new")
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    probable_duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    triage_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(_TS)
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    exercise_id: Mapped[int | None] = mapped_column(
        ForeignKey("exercise.id", ondelete="SET NULL"), index=True)


class Exercise(Base):
    """A latihan (drill exercise): a named set of drill incidents of one regency."""

    __tablename__ = "exercise"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    name: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(_TS)
    ended_at: Mapped[datetime | None] = mapped_column(_TS)
    created_by: Mapped[str | None] = mapped_column(Text)


class IncidentAgency(Base):
    """One agency's part in one incident, with its SLA clocks (copied at triage)."""

    __tablename__ = "incident_agency"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    role: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    capabilities: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    units_required: Mapped[int] = mapped_column(Integer, default=0)
    ack_min: Mapped[float] = mapped_column(Float)
    on_scene_min: Mapped[float] = mapped_column(Float)
    notified_at: Mapped[datetime | None] = mapped_column(_TS)
    acknowledged_at: Mapped[datetime | None] = mapped_column(_TS)
    acknowledged_by: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None] = mapped_column(_TS)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    handoff_number: Mapped[str | None] = mapped_column(String(16))
    handoff_ref: Mapped[str | None] = mapped_column(Text)
    handoff_at: Mapped[datetime | None] = mapped_column(_TS)
    handoff_by: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(_TS)


class Assignment(Base):
    __tablename__ = "assignment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    dispatched_at: Mapped[datetime] = mapped_column(_TS)
    dispatched_by: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(_TS)
    departed_at: Mapped[datetime | None] = mapped_column(_TS)
    arrived_at: Mapped[datetime | None] = mapped_column(_TS)
    cleared_at: Mapped[datetime | None] = mapped_column(_TS)
    eta_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    position_source: Mapped[str | None] = mapped_column(String(16))
    arrival_source: Mapped[str | None] = mapped_column(String(8))
    arrived_by: Mapped[str | None] = mapped_column(Text)
    evidence_digest: Mapped[str | None] = mapped_column(String(128))
    evidence: Mapped[dict | None] = mapped_column(JSONB)


class AuditLog(Base):
    """Append-only (a trigger rejects UPDATE, DELETE and TRUNCATE)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kode_kab: Mapped[str | None] = mapped_column(String(8), index=True)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(_TS)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(48))
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)


class AuditChain(Base):
    """One link of the audit hash chain per audit entry (append-only; ``dispatch.chain``)."""

    __tablename__ = "audit_chain"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    audit_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    chained_at: Mapped[datetime] = mapped_column(_TS, server_default=func.now())
