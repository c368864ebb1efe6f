"""The registry: posts, units and trackers of a regency; import and export as CSV and GeoJSON.

Imports take the file itself as the request body (``text/csv`` or ``application/geo+json``),
validate it whole and write it in one transaction, or refuse it (422) with every bad row's number
and reason. Every read and write is limited to the caller's regencies (``principal.scope``):
another regency's post or tracker is "not found" (404), and a file with a row of another regency
is refused whole. Registering a tracker issues its MQTT login (password shown once).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy.orm import Session

from api import registry_accounts
from api.deps import get_session, get_state
from api.errors import ErrorResponse
from api.schemas_registry import (
    DEVICE_ID,
    KODE_KAB,
    POSTS_GEOJSON,
    UNITS_GEOJSON,
    ImportOut,
    PostListOut,
    PostOut,
    RegistryUnitListOut,
    TrackerCreate,
    TrackerListOut,
    TrackerOut,
    TrackerRegisteredOut,
    file_body,
)
from api.state import AppState
from dispatch import posts, registry, trackers
from dispatch.incident_records import point_of
from dispatch.models import Post
from dispatch.posts import ImportReport
from dispatch.recommend_service import configured_profiles
from dispatch.registry_export import posts_csv, posts_geojson, units_csv, units_geojson
from dispatch.registry_fields import MAX_FILE_BYTES
from dispatch.registry_io import parse_posts, parse_units
from dispatch.scope import Scope
from dispatch.timestamp import iso_utc
from geo.types import LonLat

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])

PostID = Annotated[int, Path(ge=1, le=2**31 - 1)]
TrackerID = Annotated[str, Path(pattern=DEVICE_ID)]
KodeKab = Annotated[str | None, Query(pattern=KODE_KAB)]
Format = Annotated[Literal["csv", "geojson"], Query()]
_MEDIA = {"csv": "text/csv", "geojson": "application/geo+json"}
#: Files above the API's request body limit (1 MB by default) are refused with 413.
_MAX_FILE_CHARS = min(MAX_FILE_BYTES, 1_000_000)
_IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorResponse,
          "description": "Jenis isi bukan text/csv atau application/geo+json / unsupported type"},
}
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "CSV atau GeoJSON / CSV or GeoJSON file",
    "content": {"text/csv": {"schema": {"type": "string"}},
                "application/geo+json": {"schema": {"type": "object"}}}}}


def _caller(request: Request) -> tuple[Scope, str]:
    p = getattr(request.state, "principal", None)
    if p is None:  # every registry route requires a login (api/permissions.py)
        return Scope(frozenset()), "system"
    return p.scope, p.actor


async def _file(request: Request) -> tuple[str, bytes]:
    """The uploaded file and its format, from the Content-Type of the request."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = {"text/csv": "csv", "application/geo+json": "geojson",
           "application/json": "geojson"}.get(media)
    if fmt is None:
        raise HTTPException(415, "Kirim berkas sebagai text/csv atau application/geo+json / "
                                 "send the file as text/csv or application/geo+json")
    return fmt, await request.body()


def _import_out(report: ImportReport) -> dict:
    return {**asdict(report), "total": report.total}


def post_out(p: Post) -> dict:
    point = point_of(p.geom)
    assert point is not None
    return {"id": p.id, "kode_kab": p.kode_kab, "agency": p.agency_code, "name": p.name,
            "kind": p.kind, "lon": point.lon, "lat": point.lat, "address": p.address or ""}


def tracker_out(t: trackers.TrackerInfo) -> dict:
    d = asdict(t)
    for key in ("first_seen_at", "last_seen_at", "last_fix_at", "mqtt_provisioned_at",
                "revoked_at"):
        d[key] = iso_utc(d[key]) if d[key] is not None else None
    return d


def _download(body: str, fmt: str, name: str) -> Response:
    return Response(body, media_type=_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


# --- posts --------------------------------------------------------------------------------------

@router.get("/posts", response_model=PostListOut)
def list_posts(request: Request, kode_kab: KodeKab = None,
               session: Session = Depends(get_session)) -> dict:
    """Posts and bases of the caller's regencies."""
    scope, _ = _caller(request)
    return {"posts": [post_out(p) for p in posts.list_posts(session, scope=scope,
                                                             kode_kab=kode_kab)]}


@router.get("/posts/export", response_class=Response, responses=_FILE_RESPONSES)
def export_posts(request: Request, format: Format = "geojson", kode_kab: KodeKab = None,
                 session: Session = Depends(get_session)) -> Response:
    """The caller's posts as a CSV or GeoJSON file (the format the import reads)."""
    scope, _ = _caller(request)
    rows = posts.post_rows(session, scope=scope, kode_kab=kode_kab)
    return _download(posts_csv(rows) if format == "csv" else posts_geojson(rows), format,
                     f"pos-{kode_kab or 'semua'}")


@router.get("/posts/{post_id}", response_model=PostOut)
def get_post(post_id: PostID, request: Request, session: Session = Depends(get_session)) -> dict:
    """One post (another regency's is not found)."""
    scope, _ = _caller(request)
    return post_out(posts.get_post(session, post_id, scope=scope))


@router.post("/posts/import", response_model=ImportOut,
             openapi_extra=file_body(POSTS_GEOJSON, _MAX_FILE_CHARS),
             responses=_IMPORT_ERRORS)
def import_posts(request: Request, upload: tuple[str, bytes] = Depends(_file),
                 session: Session = Depends(get_session)) -> dict:
    """Import posts from a CSV or GeoJSON file: all rows or none."""
    scope, actor = _caller(request)
    rows = parse_posts(upload[1], upload[0])
    report = posts.import_posts(session, rows, scope=scope, actor=actor, now=datetime.now(UTC))
    session.commit()  # committed before the response
    return _import_out(report)


# --- units --------------------------------------------------------------------------------------

def units_out(items: list[registry.RegistryUnit]) -> list[dict]:
    return [{"id": u.id, **{k: v for k, v in asdict(u.row).items() if k != "row"},
             "capabilities": list(u.row.capabilities), "status": u.status,
             "post_id": u.post_id} for u in items]


@router.get("/units", response_model=RegistryUnitListOut)
def list_units(request: Request, kode_kab: KodeKab = None,
               session: Session = Depends(get_session)) -> dict:
    """Units of the caller's regencies with home post, crew and tracker."""
    scope, _ = _caller(request)
    return {"units": units_out(registry.list_registry_units(session, scope=scope,
                                                             kode_kab=kode_kab))}


@router.get("/units/export", response_class=Response, responses=_FILE_RESPONSES)
def export_units(request: Request, format: Format = "csv", kode_kab: KodeKab = None,
                 session: Session = Depends(get_session)) -> Response:
    """The caller's fleet as a CSV or GeoJSON file (GeoJSON points at the home posts)."""
    scope, _ = _caller(request)
    rows = registry.unit_rows(session, scope=scope, kode_kab=kode_kab)
    if format == "csv":
        return _download(units_csv(rows), format, f"armada-{kode_kab or 'semua'}")
    points = {(p.kode_kab, p.name): LonLat(p.lon, p.lat)
              for p in posts.post_rows(session, scope=scope, kode_kab=kode_kab)}
    return _download(units_geojson(rows, points), format, f"armada-{kode_kab or 'semua'}")


@router.post("/units/import", response_model=ImportOut,
             openapi_extra=file_body(UNITS_GEOJSON, _MAX_FILE_CHARS),
             responses=_IMPORT_ERRORS)
def import_units(request: Request, upload: tuple[str, bytes] = Depends(_file),
                 state: AppState = Depends(get_state),
                 session: Session = Depends(get_session)) -> dict:
    """Import units from a CSV or GeoJSON fleet file: all rows or none."""
    scope, actor = _caller(request)
    rows = parse_units(upload[1], upload[0])
    profiles = configured_profiles(None, state.road_networks)
    report = registry.import_units(session, rows, scope=scope, actor=actor,
                                   now=datetime.now(UTC), profiles=set(profiles))
    session.commit()  # committed before the response
    return _import_out(report)


# --- trackers -----------------------------------------------------------------------------------

def _accounts(state: AppState) -> Any:
    if state.tracker_accounts is None:
        state.tracker_accounts = registry_accounts.tracker_accounts(state.settings)
    return state.tracker_accounts


@router.get("/trackers", response_model=TrackerListOut)
def list_trackers(request: Request, registered: bool | None = None,
                  session: Session = Depends(get_session)) -> dict:
    """Trackers of the caller's regencies; ``registered=false``: unknown ones seen by ingest
    (inside the caller's regencies) waiting to be registered."""
    scope, _ = _caller(request)
    return {"trackers": [tracker_out(t) for t in trackers.list_trackers(
        session, scope=scope, registered=registered)]}


@router.post("/trackers", status_code=201, response_model=TrackerRegisteredOut)
def register_tracker(body: TrackerCreate, request: Request, state: AppState = Depends(get_state),
                     session: Session = Depends(get_session)) -> dict:
    """Register a tracker (on a unit, optionally) and issue its MQTT login."""
    scope, actor = _caller(request)
    accounts = _accounts(state)
    info, password = registry_accounts.register(
        session, body.device_id, kode_kab=body.kode_kab, scope=scope, actor=actor,
        accounts=accounts, protocol=body.protocol, unit_id=body.unit_id, label=body.label)
    return {"tracker": tracker_out(info), "mqtt_username": body.device_id if password else None,
            "mqtt_password": password, "topic": f"siaga/v1/pos/{body.device_id}"}


@router.post("/trackers/{device_id}/credentials", response_model=TrackerRegisteredOut)
def reset_credentials(device_id: TrackerID, request: Request,
                      state: AppState = Depends(get_state),
                      session: Session = Depends(get_session)) -> dict:
    """Issue a new MQTT password for a registered tracker (the old one stops working)."""
    scope, _ = _caller(request)
    password = registry_accounts.reset_login(session, device_id, scope=scope,
                                             accounts=_accounts(state))
    info = trackers.get_tracker(session, device_id, scope=scope)
    return {"tracker": tracker_out(info), "mqtt_username": device_id,
            "mqtt_password": password, "topic": f"siaga/v1/pos/{device_id}"}


@router.delete("/trackers/{device_id}", response_model=TrackerOut)
def revoke_tracker(device_id: TrackerID, request: Request, state: AppState = Depends(get_state),
                   session: Session = Depends(get_session)) -> dict:
    """Revoke a tracker: its MQTT login is removed and it is taken off its unit."""
    scope, actor = _caller(request)
    return tracker_out(registry_accounts.revoke(session, device_id, scope=scope, actor=actor,
                                                 accounts=_accounts(state)))
