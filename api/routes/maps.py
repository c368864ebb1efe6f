"""The dispatcher console page, static map assets, road layer, coverage and hotspot maps."""

from __future__ import annotations

import json
import math
import mimetypes
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import numpy as np
import shapely
import shapely.affinity
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.incidents import scope_of
from api.routes.meta import ATTRIBUTION
from api.routes.routing import road_networks_of
from api.state import AppState
from dispatch.recommend_service import configured_profiles, profile_speeds
from dispatch.scoping import check_region
from geo.geodesy import M_PER_DEG
from geo.types import LonLat
from maps.assets import resolve_static
from maps.console import ConsoleConfig, render_console
from maps.coverage import CoverageBand, Station, render_coverage_map
from maps.exceptions import MapInputError
from maps.hotspot import render_hotspot_map
from maps.i18n import strings

router = APIRouter(tags=["maps"])

def _kode_kab_query() -> Any:
    """A fresh ``Query`` per parameter: FastAPI records the parameter's name on the object, so
    one shared object made ``/maps/hotspot`` read ``?region=`` instead of ``?kode_kab=``."""
    return Query("34.71", pattern=r"^\d{2}\.\d{2}$", description="Kemendagri regency code")
#: Regency centres for the console's first view (the map fits the boundaries once loaded).
_CENTRES = {"34.71": LonLat(110.3695, -7.8014), "51.06": LonLat(115.3548, -8.2976),
            "64.71": LonLat(116.8312, -1.2654)}
_NAMES = {"34.71": "Kota Yogyakarta", "51.06": "Kabupaten Bangli", "64.71": "Kota Balikpapan"}
_ROAD_PROFILES = ("motorcycle", "ambulance", "pickup_4x4", "fire_truck")


def estimated_reach(origins: list[LonLat], minutes: float, speed: Any) -> Any:
    """Area within ``minutes`` by straight line × detour factor at the profile's speed: a
    circle round each origin (local metric scale), united."""
    radius_m = speed.speed_kmh / 3.6 * minutes * 60.0 / speed.detour_factor
    circles = []
    for o in origins:
        dlat = radius_m / M_PER_DEG
        dlon = radius_m / (M_PER_DEG * math.cos(math.radians(o.lat)))
        circle = shapely.Point(0.0, 0.0).buffer(1.0, 32)
        circles.append(shapely.affinity.affine_transform(circle, [dlon, 0, 0, dlat, o.lon, o.lat]))
    return shapely.union_all(circles)


def _road_networks(state: AppState) -> Any:
    return road_networks_of(state)


def _console(state: AppState, region: str, lang: str | None) -> HTMLResponse:
    cfg = ConsoleConfig(
        kode_kab=region, center=_CENTRES.get(region, _CENTRES["34.71"]),
        region_name=_NAMES.get(region, region), tile_url=state.settings.tile_url,
        tile_attribution=state.settings.tile_attribution,
        boundary_urls=(f"/api/v1/regions/{region}/desa.geojson",
                       f"/api/v1/regions/{region}/kecamatan.geojson"),
        roads_url=f"/maps/roads/{region}.geojson",
        default_language=state.settings.default_language,
    )
    html = render_console(cfg, lang=lang)
    return HTMLResponse(html, headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data: "
        + (_tile_origin(state.settings.tile_url) or "")
        + "; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff"})


def _tile_origin(tile_url: str) -> str:
    if not tile_url.startswith(("http://", "https://")):
        return ""
    scheme, _, rest = tile_url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host.replace('{s}', '*')}"


@router.get("/", response_class=HTMLResponse)
def console(state: AppState = Depends(get_state), region: str = _kode_kab_query(),
            lang: Annotated[str | None, Query(pattern="^(id|en)$")] = None) -> HTMLResponse:
    """The dispatcher console (login form, live map, call-taker form)."""
    return _console(state, region, lang)


@router.get("/console", response_class=HTMLResponse)
def console_alias(state: AppState = Depends(get_state), region: str = _kode_kab_query(),
                  lang: Annotated[str | None, Query(pattern="^(id|en)$")] = None) -> HTMLResponse:
    """The dispatcher console (same as ``/``)."""
    return _console(state, region, lang)


@router.get("/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """Vendored Leaflet, plugins and the console's own script and styles."""
    found = resolve_static(path)
    if found is None:
        raise HTTPException(404, "Berkas tidak ditemukan / file not found")
    media = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return FileResponse(found, media_type=media, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/maps/roads/{kode_kab}.geojson", response_class=Response, responses={
    200: {"description": "GeoJSON FeatureCollection of road lines",
          "content": {"application/geo+json": {"schema": {"type": "object"}}}}})
def roads(request: Request, kode_kab: Annotated[str, Path(pattern=r"^\d{2}\.\d{2}$")],
          state: AppState = Depends(get_state)) -> Response:
    """The region's road network as lines (the base layer when no tile server is configured)."""
    check_region(kode_kab, scope_of(request))  # another regency's map: not found
    cache = state.running.roads_geojson
    if kode_kab not in cache:
        nets = _road_networks(state)
        profile = next((p for p in _ROAD_PROFILES if nets.has(kode_kab, p)), None)
        if profile is None:
            cache[kode_kab] = json.dumps({"type": "FeatureCollection", "features": []})
        else:
            cache[kode_kab] = json.dumps(_road_lines(nets.get(kode_kab, profile)),
                                         separators=(",", ":"))
    return Response(cache[kode_kab], media_type="application/geo+json")


def _road_lines(index: Any) -> dict[str, Any]:
    """One MultiLineString of every physical road piece (twin edges drawn once), 5 decimals."""
    n = len(index.edge_u)
    rep = np.flatnonzero((index.edge_twin < 0) | (np.arange(n) < index.edge_twin))
    lon = np.round(index.geom_lon, 5)
    lat = np.round(index.geom_lat, 5)
    offsets = index.geom_offsets
    lines = [np.column_stack([lon[offsets[e]:offsets[e + 1]], lat[offsets[e]:offsets[e + 1]]])
             .tolist() for e in rep]
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"region": index.region, "profile": index.profile},
        "geometry": {"type": "MultiLineString", "coordinates": lines}}]}


def _minutes(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise MapInputError(f"minutes must be numbers separated by commas, got {text!r}") from None
    if not values or any(not 0 < v <= 120 for v in values) or len(values) > 5:
        raise MapInputError("give 1-5 band minutes between 0 and 120, e.g. 5,10,15")
    return values


def _boundaries(session: Session, kode_kab: str) -> dict[str, Any] | None:
    from geo.exceptions import RegionNotFoundError
    from geo.service import region_geojson

    try:
        return region_geojson(session, kode_kab, "desa")
    except RegionNotFoundError:
        return None


@router.get("/maps/coverage", response_class=HTMLResponse)
def coverage(request: Request, kode_kab: str = _kode_kab_query(),
             agency: str = Query("DAMKAR", max_length=32),
             profile: str = Query("fire_truck", max_length=48),
             minutes: str = Query("5,10,15", max_length=40),
             lang: Annotated[str, Query(pattern="^(id|en)$")] = "id",
             state: AppState = Depends(get_state),
             session: Session = Depends(get_session)) -> HTMLResponse:
    """Isochrone coverage of an agency's units (current position, else home post)."""
    from dispatch.assignment_service import list_units
    from dispatch.recommend_service import unit_positions

    scope = scope_of(request)
    check_region(kode_kab, scope)  # another regency's map: not found
    bands_min = _minutes(minutes)
    units = [u for u, _a in list_units(session, kode_kab=kode_kab, agency=agency, scope=scope)]
    positions = unit_positions(session, units)
    stations = [Station(u.call_sign, positions[u.id][0]) for u in units
                if positions.get(u.id, (None,))[0] is not None]
    if not stations:
        raise MapInputError(f"no unit with a known position for agency {agency} in {kode_kab}")
    nets = _road_networks(state)
    origins = [s.position for s in stations]
    title = f"{strings(lang)['coverage_title']} — {agency} ({profile}), {kode_kab}"
    if nets.has(kode_kab, profile):
        index = nets.get(kode_kab, profile)
        bands = [CoverageBand(m, index.isochrone(origins, m)) for m in bands_min]
    else:  # no road network (Bangli): straight-line estimates, labelled as such
        speeds = profile_speeds(configured_profiles(None, nets))
        if profile not in speeds:
            raise MapInputError(f"unknown vehicle profile {profile!r}")
        bands = [CoverageBand(m, estimated_reach(origins, m, speeds[profile]))
                 for m in bands_min]
        title += f" — {strings(lang)['estimated']}"
    html = render_coverage_map(
        bands, stations, boundaries=_boundaries(session, kode_kab),
        title=title,
        tile_url=state.settings.tile_url, tile_attribution=state.settings.tile_attribution,
        attribution=ATTRIBUTION)
    return HTMLResponse(html)


@router.get("/maps/hotspot", response_class=HTMLResponse)
def hotspot(request: Request, kode_kab: str = _kode_kab_query(),
            days: int = Query(90, ge=1, le=3660),
            category: str | None = Query(None, max_length=48),
            cell_m: float = Query(250.0, gt=20, le=5000),
            lang: Annotated[str, Query(pattern="^(id|en)$")] = "id",
            state: AppState = Depends(get_state),
            session: Session = Depends(get_session)) -> HTMLResponse:
    """Incident hotspots (heat layer and densest grid cells) over the last ``days``."""
    from dispatch.incident_service import list_incidents, point_of

    scope = scope_of(request)
    check_region(kode_kab, scope)  # another regency's map: not found
    since = datetime.now(UTC) - timedelta(days=days)
    incidents = list_incidents(session, kode_kab=kode_kab, category=category, start=since,
                               limit=20000, drill=False,  # drills (latihan) are not demand
                               scope=scope)
    points = [p for p in (point_of(i.geom) for i in incidents) if p is not None]
    if not points:
        raise MapInputError(f"no located incident in {kode_kab} over the last {days} days")
    html = render_hotspot_map(
        points, cell_m=cell_m, boundaries=_boundaries(session, kode_kab),
        title=f"{strings(lang)['hotspot_title']} — {kode_kab}, {days} d",
        tile_url=state.settings.tile_url, tile_attribution=state.settings.tile_attribution,
        attribution=ATTRIBUTION)
    return HTMLResponse(html)

