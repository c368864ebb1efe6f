"""Tracking storage: batch writes (COPY), reads, device registry, rejects, retention.

All functions take an open SQLAlchemy ``session`` and never commit: the caller owns the unit of
work. Geometries are EPSG:4326 points; times are aware UTC.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from tracking.contract import Rejection
from tracking.exceptions import DeviceNotFoundError, InvalidTimeRangeError
from tracking.fix import Fix
from tracking.models import Device, LatestPosition, Position, PositionReject
from tracking.payload import INT4_MAX, storable_text
from tracking.plausibility import Problem
from tracking.records import BatchOutcome, DeviceInfo, PruneResult, RejectRecord
from tracking.status import StatusReport

_STAGE_COLUMNS = ("device_id", "fix_time", "seq", "lon", "lat", "speed_mps", "heading_deg",
                  "altitude_m", "hdop", "accuracy_m", "satellites", "battery_pct", "ignition",
                  "source", "flag", "received_at")
_FIX_COLUMNS = ("speed_mps", "heading_deg", "altitude_m", "hdop", "accuracy_m", "satellites",
                "battery_pct", "ignition", "source", "received_at")
_REJECT_COLUMNS = ("received_at", "topic", "device_id", "item_index", "reason", "message",
                   "message_en", "payload", "payload_text")
_PARTITION_RE = re.compile(r"^position_p(\d{8})$")

_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS position_stage (
    device_id text, fix_time timestamptz, seq bigint, lon double precision, lat double precision,
    speed_mps double precision, heading_deg double precision, altitude_m double precision,
    hdop double precision, accuracy_m double precision, satellites integer,
    battery_pct double precision, ignition boolean, source text, flag text,
    received_at timestamptz
) ON COMMIT DELETE ROWS
"""
_INSERT_POSITIONS = f"""
INSERT INTO position (device_id, fix_time, seq, geom, {", ".join(_FIX_COLUMNS)}, flag)
SELECT device_id, fix_time, seq, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
       {", ".join(_FIX_COLUMNS)}, flag
FROM position_stage
ON CONFLICT DO NOTHING
"""
_UPSERT_DEVICES = """
INSERT INTO device (device_id, registered, first_seen_at, last_seen_at)
SELECT device_id, false, min(received_at), max(received_at) FROM position_stage
GROUP BY device_id ORDER BY device_id
ON CONFLICT (device_id) DO UPDATE SET
    first_seen_at = LEAST(device.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(device.last_seen_at, EXCLUDED.last_seen_at)
"""
#: devices seen (auto-recorded if unknown) and latest positions moved forward, in one statement;
#: returns the devices whose latest position moved.
_UPSERT_LATEST_AND_DEVICES = f"""
WITH seen AS ({_UPSERT_DEVICES.strip()})
INSERT INTO latest_position (device_id, fix_time, seq, geom, {", ".join(_FIX_COLUMNS)})
SELECT DISTINCT ON (device_id) device_id, fix_time, seq, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
       {", ".join(_FIX_COLUMNS)}
FROM position_stage WHERE flag IS NULL
ORDER BY device_id, fix_time DESC, seq DESC NULLS LAST
ON CONFLICT (device_id) DO UPDATE SET
    fix_time = EXCLUDED.fix_time, seq = EXCLUDED.seq, geom = EXCLUDED.geom,
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _FIX_COLUMNS)}, updated_at = now()
WHERE latest_position.fix_time < EXCLUDED.fix_time
RETURNING device_id
"""


def _driver_connection(session: Session):
    return session.connection().connection.driver_connection


def ensure_partitions(session: Session, days: Iterable[date], known: set[date]) -> None:
    """Create the daily ``position`` partitions of ``days`` not yet in ``known`` (updated)."""
    for day in sorted(set(days) - known):
        session.execute(text("SELECT tracking_ensure_position_partition(:day)"), {"day": day})
        known.add(day)


_STAGE_TYPES = ("text", "timestamptz", "int8", "float8", "float8", "float8", "float8", "float8",
                "float8", "float8", "int4", "float8", "bool", "text", "text", "timestamptz")
_COPY_STAGE = (f"COPY position_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN "
               "(FORMAT BINARY)")
#: one round trip: the per-connection staging table (kept across transactions) emptied.
#: ON COMMIT DELETE ROWS empties it at each commit; the DELETE covers callers that write several
#: batches in one transaction (savepoints in tests).
_PREPARE_STAGE = _CREATE_STAGE + ";\nDELETE FROM position_stage"


def _batch_days(fixes: Sequence[Fix]) -> set[date]:
    """UTC days of the fixes (usually one: checked on the oldest and newest fix first)."""
    times = [f.fix_time for f in fixes]
    first = min(times).astimezone(UTC).date()
    if max(times).astimezone(UTC).date() == first:
        return {first}
    return {t.astimezone(UTC).date() for t in times}


def write_batch(session: Session, fixes: Sequence[Fix], rejections: Sequence[Rejection] = (),
                *, flags: Mapping[int, Problem] | None = None,
                known_partitions: set[date] | None = None,
                statuses: Sequence[StatusReport] = ()) -> BatchOutcome:
    """Store a batch: binary COPY into a staging table, then insert, deduplicate and upsert.

    Four round trips for any batch size: prepare the staging table, COPY, the position insert
    (``ON CONFLICT DO NOTHING`` on the unique key), the latest-position and device upserts.

    Parameters
    ----------
    fixes : sequence of Fix
        Accepted fixes (any order, duplicates allowed: they are absorbed by the unique key).
    rejections : sequence of Rejection
        Rejected messages/items, written to ``position_reject`` in the same transaction.
    flags : mapping, optional
        Index into ``fixes`` -> problem, for fixes stored with a plausibility flag.
    known_partitions : set of date, optional
        Days whose partition is known to exist (a cache owned by the caller, updated here).
    statuses : sequence of StatusReport
        Status messages (alive, no GPS fix): they update the device's last-seen state only
        (:func:`write_statuses`), never ``position``.
    """
    flags = flags or {}
    if known_partitions is None:
        known_partitions = set()
    stored = 0
    latest: dict[str, Fix] = {}
    if fixes:
        ensure_partitions(session, _batch_days(fixes), known_partitions)
        cur = _driver_connection(session).cursor()
        cur.execute(_PREPARE_STAGE)
        with cur.copy(_COPY_STAGE) as copy:
            copy.set_types(_STAGE_TYPES)
            write_row = copy.write_row
            for i, f in enumerate(fixes):
                flag = flags.get(i) if flags else None
                sats = f.satellites
                if sats is not None and not 0 <= sats <= INT4_MAX:
                    # binary int4 would silently wrap: refuse the row like the database would
                    raise ValueError(f"satellites {sats} is outside int4")
                write_row((f.device_id, f.fix_time, f.seq, f.lon, f.lat, f.speed_mps,
                           f.heading_deg, f.altitude_m, f.hdop, f.accuracy_m, f.satellites,
                           f.battery_pct, f.ignition, f.source,
                           None if flag is None else flag.code, f.received_at))
        cur.execute(_INSERT_POSITIONS)
        stored = cur.rowcount
        cur.execute(_UPSERT_LATEST_AND_DEVICES)
        moved = {row[0] for row in cur.fetchall()}
        if moved:
            for i, f in enumerate(fixes):
                device_id = f.device_id
                if device_id in moved and not (flags and i in flags):
                    cur_latest = latest.get(device_id)
                    if cur_latest is None or f.fix_time > cur_latest.fix_time:
                        latest[device_id] = f
    if statuses:
        write_statuses(session, statuses)
    if rejections:
        write_rejections(session, rejections)
    return BatchOutcome(stored=stored, duplicates=len(fixes) - stored,
                        rejected=len(rejections), latest=latest, statuses=len(statuses))


def write_statuses(session: Session, statuses: Sequence[StatusReport]) -> None:
    """Apply status messages to ``device``: last seen, and the newest status's reason and cells.

    An unknown device is recorded (``registered = false``), as on its first fix. Per device only
    the newest status (by receive time) is kept; an older one (a redelivery) changes nothing but
    ``first_seen_at``/``last_seen_at``. No position is written.
    """
    newest: dict[str, StatusReport] = {}
    for status in statuses:
        current = newest.get(status.device_id)
        if current is None or status.received_at >= current.received_at:
            newest[status.device_id] = status
    rows = [{"device_id": s.device_id, "registered": False, "first_seen_at": s.received_at,
             "last_seen_at": s.received_at, "last_status_at": s.received_at,
             "last_status_reason": s.reason,
             "last_cells": [{"mcc": c.mcc, "mnc": c.mnc, "lac": c.lac, "cid": c.cid,
                             "rssi": c.rssi} for c in s.cells],
             "last_wifi_count": s.wifi}
            for _, s in sorted(newest.items())]
    stmt = pg_insert(Device).values(rows)
    new = stmt.excluded
    newer = (Device.last_status_at.is_(None)) | (Device.last_status_at <= new.last_status_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Device.device_id],
        set_={"first_seen_at": func.least(Device.first_seen_at, new.first_seen_at),
              "last_seen_at": func.greatest(Device.last_seen_at, new.last_seen_at),
              **{name: case((newer, getattr(new, name)), else_=getattr(Device, name))
                 for name in ("last_status_at", "last_status_reason", "last_cells",
                              "last_wifi_count")}})
    session.execute(stmt)


def _payload_text(payload: bytes) -> str | None:
    try:
        decoded = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in decoded else decoded


def write_rejections(session: Session, rejections: Sequence[Rejection]) -> None:
    """Append rejections to ``position_reject`` with COPY.

    Text that PostgreSQL cannot hold (NUL, lone surrogates: e.g. an unknown field's name quoted
    in a message) is stored escaped; the payload is kept byte for byte.
    """
    cur = _driver_connection(session).cursor()
    with cur.copy(f"COPY position_reject ({', '.join(_REJECT_COLUMNS)}) FROM STDIN") as copy:
        for r in rejections:
            copy.write_row((r.received_at, storable_text(r.topic),
                            None if r.device_id is None else storable_text(r.device_id),
                            r.item_index, storable_text(r.reason), storable_text(r.message),
                            storable_text(r.message_en), r.payload, _payload_text(r.payload)))


def _fix_from_row(row) -> Fix:
    return Fix(device_id=row.device_id, fix_time=row.fix_time, lon=row.lon, lat=row.lat,
               speed_mps=row.speed_mps, heading_deg=row.heading_deg, altitude_m=row.altitude_m,
               hdop=row.hdop, accuracy_m=row.accuracy_m, satellites=row.satellites, seq=row.seq,
               battery_pct=row.battery_pct, ignition=row.ignition, source=row.source,
               received_at=row.received_at)


def _fix_select(model):
    return select(model.device_id, model.fix_time, model.seq,
                  func.ST_X(model.geom).label("lon"), func.ST_Y(model.geom).label("lat"),
                  *(getattr(model, c) for c in _FIX_COLUMNS))


def _in_regencies(device_column: Any, kode_kabs: Collection[str] | None) -> Any:
    """Condition: the device of ``device_column`` belongs to one of ``kode_kabs`` (its
    ``device.kode_kab``); ``None`` means every regency (unregistered devices included)."""
    if kode_kabs is None:
        return true()
    return device_column.in_(select(Device.device_id).where(Device.kode_kab.in_(
        sorted(kode_kabs))))


def fixes_between(session: Session, device_id: str, start: datetime, end: datetime, *,
                  kode_kabs: Collection[str] | None = None) -> list[Fix]:
    """Stored fixes of one device with ``start <= fix_time <= end``, in time order; with
    ``kode_kabs`` (the caller's regencies) only if the device belongs to one of them.

    Flagged fixes (implausible jumps kept for inspection) are excluded.
    """
    if end < start:
        raise InvalidTimeRangeError(
            f"Akhir rentang ({end.isoformat()}) sebelum awal ({start.isoformat()}) / "
            f"the end of the range is before its start.")
    stmt = (_fix_select(Position)
            .where(Position.device_id == device_id, Position.fix_time >= start,
                   Position.fix_time <= end, Position.flag.is_(None),
                   _in_regencies(Position.device_id, kode_kabs))
            .order_by(Position.fix_time, Position.seq))
    return [_fix_from_row(row) for row in session.execute(stmt)]


def latest_positions(session: Session, device_ids: Iterable[str] | None = None, *,
                     kode_kabs: Collection[str] | None = None) -> dict[str, Fix]:
    """The newest fix of each device (all devices, or only ``device_ids``), only of devices of
    ``kode_kabs`` when given (the caller's regencies)."""
    stmt = _fix_select(LatestPosition).where(_in_regencies(LatestPosition.device_id, kode_kabs))
    if device_ids is not None:
        stmt = stmt.where(LatestPosition.device_id.in_(list(device_ids)))
    return {row.device_id: _fix_from_row(row) for row in session.execute(stmt)}


def _device_info(d: Device, last_fix_at: datetime | None = None) -> DeviceInfo:
    return DeviceInfo(d.device_id, d.kode_kab, d.label, d.registered, d.first_seen_at,
                      d.last_seen_at, last_fix_at, d.last_status_at, d.last_status_reason,
                      d.last_cells, d.last_wifi_count)


def register_device(session: Session, device_id: str, *, kode_kab: str | None = None,
                    label: str | None = None) -> DeviceInfo:
    """Mark a device registered (created if never seen); None keeps the existing kode/label."""
    stmt = pg_insert(Device).values(device_id=device_id, kode_kab=kode_kab, label=label,
                                    registered=True)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Device.device_id],
        set_={"registered": True,
              "kode_kab": func.coalesce(stmt.excluded.kode_kab, Device.kode_kab),
              "label": func.coalesce(stmt.excluded.label, Device.label)},
    ).returning(Device)
    device = session.execute(stmt).scalar_one()
    return _device_info(device)


def get_device(session: Session, device_id: str, *,
               kode_kabs: Collection[str] | None = None) -> DeviceInfo:
    """One device; raises :class:`DeviceNotFoundError` if it was never registered nor seen, or
    (with ``kode_kabs``, the caller's regencies) belongs to none of them."""
    device = session.get(Device, device_id)
    if device is None or (kode_kabs is not None and device.kode_kab not in kode_kabs):
        raise DeviceNotFoundError(
            f"Perangkat {device_id!r} tidak dikenal / unknown device {device_id!r}.")
    return _device_info(device)


def list_devices(session: Session, *, registered: bool | None = None,
                 kode_kab: str | None = None,
                 kode_kabs: Collection[str] | None = None) -> list[DeviceInfo]:
    """Known devices, registered or auto-recorded, by id, with their newest fix time; with
    ``kode_kabs`` (the caller's regencies) only the devices of those regencies."""
    stmt = (select(Device, LatestPosition.fix_time)
            .outerjoin(LatestPosition, LatestPosition.device_id == Device.device_id)
            .where(_in_regencies(Device.device_id, kode_kabs))
            .order_by(Device.device_id))
    if registered is not None:
        stmt = stmt.where(Device.registered.is_(registered))
    if kode_kab is not None:
        stmt = stmt.where(Device.kode_kab == kode_kab)
    return [_device_info(d, fix_time) for d, fix_time in session.execute(stmt)]


def registered_device_ids(session: Session) -> set[str]:
    return set(session.execute(select(Device.device_id).where(Device.registered)).scalars())


def rejects(session: Session, *, since: datetime | None = None, reason: str | None = None,
            device_id: str | None = None, limit: int = 100,
            kode_kabs: Collection[str] | None = None) -> list[RejectRecord]:
    """Rejected inputs, newest first (with ``kode_kabs``: of those regencies' devices only)."""
    stmt = (select(PositionReject).where(_in_regencies(PositionReject.device_id, kode_kabs))
            .order_by(PositionReject.id.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(PositionReject.received_at >= since)
    if reason is not None:
        stmt = stmt.where(PositionReject.reason == reason)
    if device_id is not None:
        stmt = stmt.where(PositionReject.device_id == device_id)
    return [RejectRecord(r.id, r.received_at, r.topic, r.device_id, r.item_index, r.reason,
                         r.message, r.message_en, r.payload_text)
            for r in session.execute(stmt).scalars()]


def reject_counts(session: Session, *, since: datetime | None = None,
                  kode_kabs: Collection[str] | None = None) -> dict[str, int]:
    """Number of rejects per reason code (with ``kode_kabs``: of those regencies' devices)."""
    stmt = (select(PositionReject.reason, func.count())
            .where(_in_regencies(PositionReject.device_id, kode_kabs))
            .group_by(PositionReject.reason))
    if since is not None:
        stmt = stmt.where(PositionReject.received_at >= since)
    return {reason: count for reason, count in session.execute(stmt)}


def position_partitions(session: Session) -> list[str]:
    """Names of the attached ``position`` partitions."""
    rows = session.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'position'::regclass ORDER BY c.relname"))
    return [r[0] for r in rows]


def premake_partitions(session: Session, *, days_ahead: int) -> list[str]:
    """Create today's and the next ``days_ahead`` UTC days' ``position`` partitions before their
    first fix (migration 0019); the names of the partitions of those days."""
    return list(session.scalars(text("SELECT tracking_premake_position_partitions(:d)"),
                                {"d": days_ahead}))


def prune(session: Session, *, older_than_days: int, now: datetime) -> PruneResult:
    """Drop daily partitions older than the cut-off; trim the default partition and rejects.

    The cut-off is ``now - older_than_days`` (UTC); a partition is dropped when its whole day lies
    before the cut-off.
    """
    if older_than_days < 1:
        raise InvalidTimeRangeError("older_than_days harus >= 1 / must be >= 1.")
    cutoff = now.astimezone(UTC) - timedelta(days=older_than_days)
    dropped = []
    for name in position_partitions(session):
        m = _PARTITION_RE.match(name)
        if m is None:
            continue
        day = datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=UTC)
        if day + timedelta(days=1) <= cutoff:
            session.execute(text(f'DROP TABLE "{name}"'))
            dropped.append(name)
    deleted_default = session.execute(text("DELETE FROM position_default WHERE fix_time < :c"),
                                      {"c": cutoff}).rowcount
    deleted_rejects = session.execute(text("DELETE FROM position_reject WHERE received_at < :c"),
                                      {"c": cutoff}).rowcount
    return PruneResult(dropped, deleted_default, deleted_rejects)
