"""Tracking routes: latest positions, devices, a device's track (GeoJSON), rejected inputs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import StringConstraints
from sqlalchemy.orm import Session

from api.deps import get_session
from api.routes.incidents import scope_of
from api.schemas_tracking import DeviceListOut, LatestOut, RejectsOut, TrackOut
from dispatch.assignment_service import list_units
from dispatch.schemas import Timestamp
from dispatch.scope import Scope
from dispatch.timestamp import iso_utc
from tracking import service
from tracking.exceptions import DeviceNotFoundError, InvalidTimeRangeError
from tracking.fix import Fix
from tracking.records import DeviceInfo

router = APIRouter(prefix="/api/v1/tracking", tags=["tracking"])

MAX_TRACK_WINDOW = timedelta(days=7)
#: A tracker id as the MQTT contract allows it (1-128 characters, no wildcards or controls).
DeviceId = Annotated[str, StringConstraints(pattern=r"^[^+#/\x00-\x1f\x7f-\x9f]{1,128}$")]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fix_properties(fix: Fix) -> dict:
    return {"device_id": fix.device_id, "fix_time": iso_utc(fix.fix_time), "seq": fix.seq,
            "speed_mps": fix.speed_mps, "heading_deg": fix.heading_deg,
            "altitude_m": fix.altitude_m, "hdop": fix.hdop, "accuracy_m": fix.accuracy_m,
            "satellites": fix.satellites, "battery_pct": fix.battery_pct,
            "ignition": fix.ignition, "source": fix.source, "received_at": iso_utc(fix.received_at)}


def _point(fix: Fix) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [fix.lon, fix.lat]},
            "properties": _fix_properties(fix)}


def _desk_devices(session: Session, scope: Scope) -> set[str] | None:
    """The trackers an agency desk may see (its agency's units'); ``None`` for other roles,
    who see every device of their regencies."""
    if scope.agency_code is None:
        return None
    return {u.device_id for u, _ in list_units(session, scope=scope) if u.device_id}


def _kabs(scope: Scope) -> frozenset[str] | None:
    return scope.kode_kabs


@router.get("/latest", response_model=LatestOut)
def latest(request: Request,
           device_id: list[DeviceId] = Query([], max_length=500,
                                             description="Filter by device id (repeatable); "
                                             "none: every device."),
           session: Session = Depends(get_session)) -> dict:
    """Latest position of each device of the caller's regencies as a GeoJSON
    FeatureCollection (EPSG:4326)."""
    scope = scope_of(request)
    ids = _desk_devices(session, scope)
    if device_id:
        ids = set(device_id) if ids is None else ids & set(device_id)
    fixes = service.latest_positions(session, ids, kode_kabs=_kabs(scope))
    return {"type": "FeatureCollection",
            "features": [_point(f) for _, f in sorted(fixes.items())]}


@router.get("/devices", response_model=DeviceListOut)
def devices(request: Request, registered: bool | None = None,
            kode_kab: str | None = Query(None, pattern=r"^\d{2}\.\d{2}$"),
            session: Session = Depends(get_session)) -> dict:
    """Known trackers of the caller's regencies with last fix and last seen (a tracker alive
    without a GPS fix)."""
    scope = scope_of(request)
    desk = _desk_devices(session, scope)
    return {"devices": [{**asdict(d), "first_seen_at": iso_utc(d.first_seen_at),
                         "last_seen_at": iso_utc(d.last_seen_at),
                         "last_fix_at": iso_utc(d.last_fix_at),
                         "last_status_at": iso_utc(d.last_status_at),
                         "alive_without_fix": _alive_without_fix(d)}
                        for d in service.list_devices(session, registered=registered,
                                                      kode_kab=kode_kab,
                                                      kode_kabs=_kabs(scope))
                        if desk is None or d.device_id in desk]}


def _alive_without_fix(d: DeviceInfo) -> bool:
    """The tracker's newest report is a status without a GPS fix (newer than its last fix)."""
    if d.last_status_at is None:
        return False
    return d.last_fix_at is None or d.last_status_at > d.last_fix_at


@router.get("/devices/{device_id}/track", response_model=TrackOut)
def track(request: Request, device_id: Annotated[DeviceId, Path()],
          start: Timestamp | None = None,
          end: Timestamp | None = None,
          session: Session = Depends(get_session)) -> dict:
    """A device's fixes between start and end (default: the last 24 h) as GeoJSON."""
    scope = scope_of(request)
    desk = _desk_devices(session, scope)
    if desk is not None and device_id not in desk:  # another agency's: unknown, as elsewhere
        raise DeviceNotFoundError(
            f"Perangkat {device_id!r} tidak dikenal / unknown device {device_id!r}.")
    service.get_device(session, device_id, kode_kabs=_kabs(scope))
    end_utc = _utc(end) if end else datetime.now(UTC)
    start_utc = _utc(start) if start else end_utc - timedelta(hours=24)
    if end_utc - start_utc > MAX_TRACK_WINDOW:
        raise InvalidTimeRangeError(
            "Rentang waktu maksimal 7 hari / the time range may be at most 7 days.")
    fixes = service.fixes_between(session, device_id, start_utc, end_utc, kode_kabs=_kabs(scope))
    features = []
    if len(fixes) >= 2:
        features.append({"type": "Feature",
                         "geometry": {"type": "LineString",
                                      "coordinates": [[f.lon, f.lat] for f in fixes]},
                         "properties": {"kind": "track", "device_id": device_id,
                                        "start": iso_utc(fixes[0].fix_time),
                                        "end": iso_utc(fixes[-1].fix_time)}})
    features += [_point(f) for f in fixes]
    return {"type": "FeatureCollection", "features": features,
            "properties": {"device_id": device_id, "start": iso_utc(start_utc),
                           "end": iso_utc(end_utc), "fixes": len(fixes)}}


@router.get("/rejects", response_model=RejectsOut)
def rejects(request: Request, reason: str | None = Query(None, max_length=64),
            device_id: DeviceId | None = None, since: Timestamp | None = None,
            limit: int = Query(100, ge=1, le=1000),
            session: Session = Depends(get_session)) -> dict:
    """Rejected MQTT inputs with their reason, newest first, and counts per reason."""
    since_utc = _utc(since) if since else None
    kabs = _kabs(scope_of(request))
    records = service.rejects(session, since=since_utc, reason=reason, device_id=device_id,
                              limit=limit, kode_kabs=kabs)
    return {"counts": service.reject_counts(session, since=since_utc, kode_kabs=kabs),
            "rejects": [{**asdict(r), "received_at": iso_utc(r.received_at)} for r in records]}
