"""Trackers of the registry: register one (IMEI or id, protocol, the unit it is on), issue its MQTT
login, revoke it; list registered trackers and the unknown ones ingest has seen.

Functions take ``*, session`` and a :class:`~dispatch.scope.Scope` and never commit. A tracker of
another regency is "not found". An unknown tracker (seen by ingest, never registered, no regency
yet) is listed to a regency's users when its latest fix lies inside the regency's boundary, and
to installation-wide users always; any of them may register it.

Logins go through the :class:`~tracking.mqtt_accounts.TrackerAccounts` port. The callers order
the steps so that no login outlives a failed transaction: register → :func:`issue_login` →
commit (on a failed commit, ``accounts.revoke``); revoke → :func:`revoke_tracker` (which removes
the login first) → commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.exceptions import UnitNotFound
from dispatch.models import Unit
from dispatch.registry_errors import RegistryConflict, TrackerNotFound
from dispatch.registry_fields import DEVICE_ID_RE, PROTOCOLS, RegistryFileError
from dispatch.scope import Scope
from dispatch.scoping import kab_condition, unit_condition
from geo.models import Region
from tracking.models import Device, LatestPosition
from tracking.mqtt_accounts import TrackerAccounts
from tracking.service import register_device


@dataclass(frozen=True)
class TrackerInfo:
    device_id: str
    kode_kab: str | None
    label: str | None
    protocol: str | None
    registered: bool
    unit_id: int | None
    call_sign: str | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    last_fix_at: datetime | None
    mqtt_provisioned_at: datetime | None
    revoked_at: datetime | None


def _not_found(device_id: str) -> TrackerNotFound:
    return TrackerNotFound(f"Pelacak {device_id!r} tidak ditemukan / tracker {device_id!r} "
                           f"not found.")


def _inside_scope_regions(scope: Scope):
    """The device's latest fix lies inside one of the scope's regencies."""
    return exists(select(Region.kode_kab).where(
        kab_condition(Region.kode_kab, scope),
        func.ST_Intersects(Region.geom, LatestPosition.geom)))


def _visible(scope: Scope):
    """Trackers of the scope's regencies, and unknown ones seen inside them."""
    if scope.unrestricted:
        return Device.device_id.is_not(None)
    return or_(kab_condition(Device.kode_kab, scope),
               Device.kode_kab.is_(None) & _inside_scope_regions(scope))


def _query(scope: Scope):
    return (select(Device, LatestPosition.fix_time, Unit.id, Unit.call_sign)
            .outerjoin(LatestPosition, LatestPosition.device_id == Device.device_id)
            .outerjoin(Unit, Unit.device_id == Device.device_id)
            .where(_visible(scope)))


def _info(d: Device, fix_time, unit_id, call_sign) -> TrackerInfo:
    return TrackerInfo(d.device_id, d.kode_kab, d.label, d.protocol, bool(d.registered), unit_id,
                       call_sign, d.first_seen_at, d.last_seen_at, fix_time,
                       d.mqtt_provisioned_at, d.revoked_at)


def list_trackers(session: Session, *, scope: Scope, registered: bool | None = None,
                  limit: int = 1000) -> list[TrackerInfo]:
    """Trackers the scope may see, by id (``registered=False``: the unknown ones to register)."""
    stmt = _query(scope)
    if registered is not None:
        stmt = stmt.where(Device.registered.is_(registered))
    rows = session.execute(stmt.order_by(Device.device_id).limit(limit))
    return [_info(*row) for row in rows]


def get_tracker(session: Session, device_id: str, *, scope: Scope) -> TrackerInfo:
    row = session.execute(_query(scope).where(Device.device_id == device_id)).first()
    if row is None:
        raise _not_found(device_id)
    return _info(*row)


def register_tracker(session: Session, device_id: str, *, kode_kab: str, scope: Scope,
                     actor: str, now: datetime, protocol: str | None = None,
                     unit_id: int | None = None, label: str | None = None) -> TrackerInfo:
    """Register ``device_id`` for regency ``kode_kab`` (created if never seen), optionally on
    unit ``unit_id`` of that regency. A tracker of a regency outside the scope is refused as
    in use (409); a unit outside it is not found (404)."""
    if not DEVICE_ID_RE.match(device_id) or device_id != device_id.strip():
        raise RegistryFileError([(0, "device_id tidak boleh berisi + # / : atau spasi di tepi",
                                  "device_id may not hold + # / : or leading/trailing spaces")],
                                what="tracker")
    if protocol is not None and protocol not in PROTOCOLS:
        raise RegistryFileError([(0, f"protokol '{protocol}' tidak dikenal",
                                  f"unknown protocol '{protocol}'")], what="tracker")
    if not scope.allows(kode_kab):
        raise TrackerNotFound(f"Kabupaten/kota {kode_kab} tidak ditemukan / regency "
                              f"{kode_kab} not found.")
    device = session.scalars(select(Device).where(Device.device_id == device_id)
                             .with_for_update()).first()
    if device is not None and device.kode_kab not in (None, kode_kab) \
            and not scope.allows(device.kode_kab):
        raise RegistryConflict(f"Id pelacak {device_id!r} sudah dipakai / tracker id "
                               f"{device_id!r} is already in use.")
    unit = None
    if unit_id is not None:
        unit = session.scalars(select(Unit).where(Unit.id == unit_id, Unit.kode_kab == kode_kab,
                                                  unit_condition(scope))
                               .with_for_update()).first()
        if unit is None:
            raise UnitNotFound(f"Unit {unit_id} tidak ditemukan / unit {unit_id} not found.")
        other = session.scalars(select(Unit).where(Unit.device_id == device_id,
                                                   Unit.id != unit.id)).first()
        if other is not None:
            raise RegistryConflict(
                f"Pelacak {device_id!r} sudah terpasang di unit {other.call_sign}; lepaskan dulu "
                f"/ tracker {device_id!r} is on unit {other.call_sign}; remove it first.")
        unit.device_id = device_id
        label = label or unit.call_sign
    register_device(session, device_id, kode_kab=kode_kab, label=label)
    device = session.get(Device, device_id, populate_existing=True)
    assert device is not None
    if protocol is not None:
        device.protocol = protocol
    device.revoked_at = None
    audit.record(session, actor=actor, at=now, entity="tracker", entity_id=None,
                 action="register", after={"device_id": device_id, "protocol": device.protocol,
                                           "unit_id": unit.id if unit else None},
                 kode_kab=kode_kab)
    session.flush()
    return get_tracker(session, device_id, scope=scope)


def issue_login(session: Session, device_id: str, *, scope: Scope, accounts: TrackerAccounts,
                now: datetime) -> str:
    """Create or reset the tracker's MQTT login (username = device id); return the password.

    Only a registered tracker gets one. The caller commits, and revokes the login if the commit
    fails.
    """
    info = get_tracker(session, device_id, scope=scope)
    if not info.registered:
        raise RegistryConflict(f"Pelacak {device_id!r} belum terdaftar / tracker {device_id!r} "
                               f"is not registered.")
    password = accounts.provision(device_id)
    device = session.get(Device, device_id)
    assert device is not None
    device.mqtt_provisioned_at = now
    session.flush()
    return password


def revoke_tracker(session: Session, device_id: str, *, scope: Scope, actor: str, now: datetime,
                   accounts: TrackerAccounts | None) -> TrackerInfo:
    """Unregister a tracker: its MQTT login is removed first, then it is taken off its unit and
    marked revoked (fixes it may still send are recorded as from an unknown tracker)."""
    info = get_tracker(session, device_id, scope=scope)
    if info.kode_kab is None or not scope.allows(info.kode_kab):
        raise _not_found(device_id)
    if accounts is not None:
        accounts.revoke(device_id)
    device = session.get(Device, device_id)
    assert device is not None
    device.registered, device.revoked_at, device.mqtt_provisioned_at = False, now, None
    for unit in session.scalars(select(Unit).where(Unit.device_id == device_id)):
        unit.device_id = None
    audit.record(session, actor=actor, at=now, entity="tracker", entity_id=None,
                 action="revoke", before={"device_id": device_id, "unit_id": info.unit_id},
                 kode_kab=info.kode_kab)
    session.flush()
    return get_tracker(session, device_id, scope=scope)
