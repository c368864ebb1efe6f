"""Pages for the Bupati's office and the planners: the dashboard (KPI tiles, response time by
kecamatan, coverage and gaps; printable) and the Gi* hot/cold spot map. Both render in the
browser from the app's own Leaflet (offline); both are scoped to the caller's regencies."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.coverage import coverage_report
from api.routes.incidents import scope_of
from api.routes.meta import ATTRIBUTION
from api.state import AppState
from dispatch import analytics_service
from dispatch.dashboard_service import dashboard_figures
from dispatch.scoping import check_region
from geo.service import region_geojson
from geo.types import LonLat
from maps.analytics import render_gi_map
from maps.dashboard import Tile, bounds, render_dashboard
from maps.exceptions import MapInputError

router = APIRouter(tags=["maps"], include_in_schema=True)

KODE = Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri regency code")]
LANG = Annotated[str, Query(pattern="^(id|en)$")]
MONTH = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (WIB)")]
WIB = ZoneInfo("Asia/Jakarta")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def period(month: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` of a calendar month in WIB, or the last 30 days when none is given."""
    if month is None:
        end = now or datetime.now(UTC)
        return end - timedelta(days=30), end
    m = _MONTH.fullmatch(month)
    year, mon = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if not (2000 <= year <= 2100 and 1 <= mon <= 12):
        raise MapInputError(f"bulan tidak sah / invalid month: {month}")
    start = datetime(year, mon, 1, tzinfo=WIB)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=WIB)
    return start.astimezone(UTC), end.astimezone(UTC)


def _fmt_min(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60.0:.1f} mnt"


def _center(fc: dict[str, Any]) -> LonLat:
    (south, west), (north, east) = bounds(fc) or ((0.0, 0.0), (0.0, 0.0))
    return LonLat((west + east) / 2, (south + north) / 2)


@router.get("/maps/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, kode_kab: KODE, month: MONTH = None,
    agency: Annotated[str, Query(max_length=32)] = "DAMKAR",
    profile: Annotated[str, Query(max_length=48)] = "fire_truck",
    sla_minutes: Annotated[float, Query(gt=0, le=240)] = 15.0, lang: LANG = "id",
    state: AppState = Depends(get_state), session: Session = Depends(get_session),
) -> HTMLResponse:
    """The Bupati's dashboard of one regency for a month (default: the last 30 days)."""
    scope = scope_of(request)
    check_region(kode_kab, scope)
    start, end = period(month)
    fig = dashboard_figures(session, scope=scope, kode_kab=kode_kab, start=start, end=end)
    cov = coverage_report(request, state, session, kode_kab=kode_kab, agency=agency,
                          profile=profile, sla_minutes=sla_minutes, spacing_m=250.0)
    kec = region_geojson(session, kode_kab, "kecamatan")
    by_kec = {k.kode_kec: k for k in fig.kecamatan}
    for f in kec["features"]:
        k = by_kec.get(f["properties"]["kode_kec"])
        f["properties"]["mean_min"] = (None if k is None or k.mean_response_s is None
                                       else round(k.mean_response_s / 60.0, 1))
        f["properties"]["emergencies"] = 0 if k is None else k.emergencies
    desa = region_geojson(session, kode_kab, "desa")
    share = {r.kode_desa: r.covered_share for r in cov.rows}
    for f in desa["features"]:
        f["properties"]["covered_share"] = share.get(f["properties"]["kode_desa"])
    covered = (f"{100.0 * cov.covered_population / cov.total_population:.0f}%"
               if cov.total_population else
               f"{100.0 * cov.covered_area_km2 / cov.total_area_km2:.0f}% (luas/area)")
    tiles = [Tile("calls", f"{fig.calls:,}"),
             Tile("non_incident", f"{fig.non_incident_calls:,}"),
             Tile("emergencies", f"{fig.emergencies:,}"),
             Tile("complaints", f"{fig.complaints:,}"), Tile("mean", _fmt_min(fig.mean_response_s)),
             Tile("p90", _fmt_min(fig.p90_response_s)),
             Tile("sla", "—" if fig.sla_compliance_pct is None else f"{fig.sla_compliance_pct}%"),
             Tile("covered", covered)]
    label = month or ("30 hari terakhir" if lang == "id" else "last 30 days")
    html = render_dashboard(
        title=f"Dasbor Bupati — {kode_kab}, {label}" if lang == "id"
        else f"Regent's dashboard — {kode_kab}, {label}",
        tiles=tiles, kecamatan=kec, coverage=desa,
        posts=[(p.name, LonLat(p.lon, p.lat)) for p in cov.posts],
        gaps=[{"nama_desa": g.nama_desa, "nama_kec": g.nama_kec,
               "uncovered_population": g.uncovered_population, "serving_post": g.serving_post,
               "nearest_minutes": g.nearest_minutes} for g in cov.gaps[:15]],
        center=_center(kec), lang=lang,
        population_estimated=cov.population_rule == "kecamatan_by_area",
        eta_estimated=cov.eta_kind == "estimate",
        tile_url=state.settings.tile_url, tile_attribution=state.settings.tile_attribution,
        attribution=ATTRIBUTION)
    return HTMLResponse(html)


@router.get("/maps/hotspots/gi", response_class=HTMLResponse)
def gi_map(
    request: Request, kode_kab: KODE, days: Annotated[int, Query(ge=7, le=3660)] = 365,
    category: Annotated[str | None, Query(max_length=48)] = None,
    permutations: Annotated[int, Query(ge=99, le=9999)] = 999, lang: LANG = "id",
    state: AppState = Depends(get_state), session: Session = Depends(get_session),
) -> HTMLResponse:
    """Getis-Ord Gi* hot and cold spots per desa (FDR-corrected classes) with a legend."""
    scope = scope_of(request)
    check_region(kode_kab, scope)
    end = datetime.now(UTC)
    flt = analytics_service.IncidentFilter(start=end - timedelta(days=days), end=end,
                                           category=category, scope=scope)
    res = analytics_service.desa_hotspots(session=session, kode_kab=kode_kab, flt=flt,
                                          permutations=permutations)
    desa = region_geojson(session, kode_kab, "desa")
    index = {code: i for i, code in enumerate(res.desa.kode_desa)}
    for f in desa["features"]:
        i = index.get(f["properties"]["kode_desa"])
        f["properties"] = {"name": f["properties"]["nama_desa"],
                           "count": 0 if i is None else int(res.desa.count[i]),
                           "z": 0.0 if i is None else round(float(res.gi.z[i]), 3),
                           "gi_bin": 0 if i is None else int(res.gi.gi_bin[i])}
    title = (f"Titik panas Gi* — {kode_kab}, {days} hari" if lang == "id"
             else f"Gi* hot spots — {kode_kab}, {days} days")
    return HTMLResponse(render_gi_map(
        desa, center=_center(desa), title=title, tile_url=state.settings.tile_url,
        tile_attribution=state.settings.tile_attribution, attribution=ATTRIBUTION))
