"""The fleet registry: a regency's units (call sign, agency, vehicle profile, capabilities, home
post, crew size, status, tracker) imported from files, listed and exported.

Functions take ``*, session`` and a :class:`~dispatch.scope.Scope`, never commit. An import is
checked whole against the database before anything is written (regency and agency in scope,
agency configured, vehicle profile known, home post existing, tracker not on another unit or
regency) and refused with every bad row's number and reason; then the units are created or
updated (matched on regency + call sign) and their trackers registered with ``tracking``. MQTT
logins are not issued by an import: :mod:`dispatch.trackers` issues them one tracker at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.lifecycle import unit_transition
from dispatch.models import Agency, Post, Unit
from dispatch.posts import (
    ImportReport,
    agency_problems,
    lock_regencies,
    post_ids_by_name,
    scope_problems,
)
from dispatch.registry_fields import RegistryFileError, UnitRow
from dispatch.scope import Scope
from dispatch.scoping import unit_condition
from tracking.models import Device
from tracking.service import register_device

#: Unit statuses an import may change (the others belong to an assignment and are kept).
_SETTABLE = frozenset({"available", "out_of_service"})


@dataclass(frozen=True)
class RegistryUnit:
    """A unit as the registry lists it."""

    id: int
    row: UnitRow
    status: str
    post_id: int | None


def _profile_problems(rows: Sequence[UnitRow], profiles: Collection[str] | None):
    if profiles is None:
        return []
    known = ", ".join(sorted(profiles))
    return [(r.row, f"profil kendaraan '{r.profile}' tidak dikenal ({known})",
             f"vehicle profile '{r.profile}' is unknown ({known})")
            for r in rows if r.profile not in profiles]


def _post_problems(session: Session, rows: Sequence[UnitRow], scope: Scope):
    keys = {(r.kode_kab, r.home_post.casefold()) for r in rows if r.home_post}
    found = post_ids_by_name(session, keys)
    return found, [(r.row, f"pos '{r.home_post}' belum ada di {r.kode_kab} (impor pos dulu)",
                    f"post '{r.home_post}' does not exist in {r.kode_kab} (import posts first)")
                   for r in rows if r.home_post
                   and (r.kode_kab, r.home_post.casefold()) not in found]


def _device_problems(session: Session, rows: Sequence[UnitRow]):
    by_device = {r.device_id: r for r in rows if r.device_id}
    if not by_device:
        return []
    problems = []
    for unit in session.scalars(select(Unit).where(Unit.device_id.in_(sorted(by_device)))):
        r = by_device[str(unit.device_id)]
        if (unit.kode_kab, unit.call_sign.casefold()) != (r.kode_kab, r.call_sign.casefold()):
            problems.append((r.row, f"pelacak {r.device_id} sudah terpasang di unit lain",
                             f"tracker {r.device_id} is already on another unit"))
    for device in session.scalars(select(Device).where(Device.device_id.in_(sorted(by_device)))):
        r = by_device[device.device_id]
        if device.kode_kab is not None and device.kode_kab != r.kode_kab:
            problems.append((r.row, f"pelacak {r.device_id} terdaftar di wilayah lain",
                             f"tracker {r.device_id} is registered to another regency"))
    return sorted(problems)


def import_units(session: Session, rows: Sequence[UnitRow], *, scope: Scope, actor: str,
                 now: datetime, profiles: Collection[str] | None = None) -> ImportReport:
    """Create or update the units of a validated fleet file, or refuse it whole
    (:class:`RegistryFileError`, nothing written)."""
    what = "fleet file"
    problems = scope_problems(rows, scope)
    if problems:
        raise RegistryFileError(problems, what=what)
    lock_regencies(session, {r.kode_kab for r in rows})
    posts, post_problems = _post_problems(session, rows, scope)
    problems = sorted(agency_problems(session, rows) + _profile_problems(rows, profiles)
                      + post_problems + _device_problems(session, rows))
    if problems:
        raise RegistryFileError(problems, what=what)
    kodes = sorted({r.kode_kab for r in rows})
    agencies = {(a.kode_kab, a.code): a.id for a in session.scalars(
        select(Agency).where(Agency.kode_kab.in_(kodes)))}
    existing = {(u.kode_kab, u.call_sign.casefold()): u for u in session.scalars(
        select(Unit).where(Unit.kode_kab.in_(kodes)).order_by(Unit.id).with_for_update())}
    report = ImportReport("units")
    for r in rows:
        unit = existing.get((r.kode_kab, r.call_sign.casefold()))
        if unit is None:
            unit = Unit(kode_kab=r.kode_kab, call_sign=r.call_sign, status=r.status,
                        status_changed_at=now)
            session.add(unit)
            report.created.append(r.call_sign)
        else:
            report.updated.append(r.call_sign)
            if unit.status != r.status:
                if unit.status in _SETTABLE:
                    unit_transition(unit.status, r.status)
                    unit.status, unit.status_changed_at = r.status, now
                else:
                    report.notes.append(
                        f"{r.call_sign}: status '{unit.status}' dipertahankan (sedang bertugas) "
                        f"/ status '{unit.status}' kept (on an assignment)")
        unit.call_sign, unit.agency_id = r.call_sign, agencies[(r.kode_kab, r.agency)]
        unit.vehicle_type, unit.profile = r.vehicle_type, r.profile
        unit.capabilities, unit.crew_size = list(r.capabilities), r.crew_size
        unit.post_id = posts[(r.kode_kab, r.home_post.casefold())] if r.home_post else None
        unit.device_id = r.device_id
    session.flush()
    for r in rows:
        if r.device_id:
            register_device(session, r.device_id, kode_kab=r.kode_kab, label=r.call_sign)
            device = session.get(Device, r.device_id)
            assert device is not None
            device.protocol = r.protocol or device.protocol
            device.revoked_at = None
    for kode in kodes:
        audit.record(session, actor=actor, at=now, entity="unit", entity_id=None,
                     action="import",
                     after={"units": [r.call_sign for r in rows if r.kode_kab == kode]},
                     kode_kab=kode)
    session.flush()
    return report


def list_registry_units(session: Session, *, scope: Scope,
                        kode_kab: str | None = None) -> list[RegistryUnit]:
    """The scope's units with their agency code, home post name and tracker protocol."""
    stmt = (select(Unit, Agency.code, Post.name, Device.protocol)
            .join(Agency, Agency.id == Unit.agency_id)
            .outerjoin(Post, Post.id == Unit.post_id)
            .outerjoin(Device, Device.device_id == Unit.device_id)
            .where(unit_condition(scope)))
    if kode_kab is not None:
        stmt = stmt.where(Unit.kode_kab == kode_kab)
    out = []
    for unit, agency, post_name, protocol in session.execute(
            stmt.order_by(Unit.kode_kab, Unit.call_sign)):
        status = unit.status if unit.status in _SETTABLE else "available"
        row = UnitRow(row=0, kode_kab=unit.kode_kab, call_sign=unit.call_sign, agency=agency,
                      vehicle_type=unit.vehicle_type, profile=unit.profile,
                      capabilities=tuple(unit.capabilities or ()), home_post=post_name,
                      crew_size=unit.crew_size, status=status, device_id=unit.device_id,
                      protocol=protocol)
        out.append(RegistryUnit(unit.id, row, unit.status, unit.post_id))
    return out


def unit_rows(session: Session, *, scope: Scope, kode_kab: str | None = None) -> list[UnitRow]:
    """The scope's units as fleet-file rows (for export; assignment statuses read as
    ``available``, the status a re-import would give)."""
    return [u.row for u in list_registry_units(session, scope=scope, kode_kab=kode_kab)]
