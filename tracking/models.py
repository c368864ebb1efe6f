"""ORM models of the tracking tables (schema owned by Alembic revision ``0002_tracking``).

``position`` is partitioned by RANGE(fix_time) (daily partitions + a default partition); its
unique key (device_id, fix_time, seq) treats NULL ``seq`` as equal. Geometries are EPSG:4326.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, LargeBinary, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import SRID, Base


class Device(Base):
    """A tracker; unknown trackers are recorded with ``registered = false`` on first fix."""

    __tablename__ = "device"

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kode_kab: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    first_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: last status without a GPS fix (revision ``0006_device_status``): receive time, reason
    #: (``gps_invalid``, ``no_gps``, ``no_satellites``), cells [{mcc, mnc, lac, cid, rssi}] and
    #: the number of Wi-Fi access points
    last_status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_reason: Mapped[str | None] = mapped_column(Text)
    last_cells: Mapped[list | None] = mapped_column(JSONB)
    last_wifi_count: Mapped[int | None] = mapped_column(Integer)
    #: registry (revision ``0008_registry``): the tracker's protocol (gt06, teltonika, osmand,
    #: nmea, owntracks, native), when its MQTT login was provisioned, when it was revoked
    protocol: Mapped[str | None] = mapped_column(Text)
    mqtt_provisioned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=text("now()"))


class _FixColumns:
    fix_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geom: Mapped[object] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    hdop: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    satellites: Mapped[int | None] = mapped_column(Integer)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    ignition: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text, server_default=text("'native'"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Position(_FixColumns, Base):
    """One stored fix (partitioned by ``fix_time``)."""

    __tablename__ = "position"
    __table_args__ = {"postgresql_partition_by": "RANGE (fix_time)"}

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    fix_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, primary_key=True, nullable=True)
    flag: Mapped[str | None] = mapped_column(Text)


class LatestPosition(_FixColumns, Base):
    """The newest fix of each device (upserted only when newer)."""

    __tablename__ = "latest_position"

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=text("now()"))


class PositionReject(Base):
    """A rejected message or batch item with its reason, kept for inspection."""

    __tablename__ = "position_reject"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    topic: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)
    item_index: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_text: Mapped[str | None] = mapped_column(Text)
