"""Coverage for the Bupati's office over HTTP: the desa table from the posts, the gap list, a
what-if on the posts, CSV/GeoJSON downloads, and the population figures it weighs desa with.

Read-only except the population import (admins; the whole file is checked first, then written
in one transaction committed before the response).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.incidents import road_networks, scope_of
from api.schemas_coverage import (
    CoverageOut,
    PopulationImportOut,
    WhatIfOut,
    WhatIfRequest,
)
from api.state import AppState
from dispatch import coverage_service as svc
from dispatch.recommend_service import configured_profiles, profile_speeds
from dispatch.scoping import check_region
from geo.models import Desa
from geo.population import PopulationFileError, parse_population_csv
from geo.population_store import import_population

router = APIRouter(tags=["analytics"])

KODE = Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")]
AGENCY = Annotated[str | None, Query(max_length=32)]
PROFILE = Annotated[str, Query(max_length=48)]
SLA = Annotated[float, Query(gt=0, le=240)]
SPACING = Annotated[float, Query(ge=50, le=5000)]
#: Largest population file accepted (bytes): every desa of a province fits many times over.
MAX_POPULATION_BYTES = 5_000_000


def coverage_report(request: Request, state: AppState, session: Session, *, kode_kab: str,
                    agency: str | None, profile: str, sla_minutes: float, spacing_m: float,
                    **what_if: Any) -> svc.CoverageReport:
    """The coverage of ``kode_kab`` for the caller's scope (also used by the dashboard page)."""
    nets = road_networks(state)
    speeds = profile_speeds(configured_profiles(None, nets))
    return svc.post_coverage(session, nets, speeds, scope=scope_of(request), kode_kab=kode_kab,
                             agency=agency, profile=profile, sla_minutes=sla_minutes,
                             spacing_m=spacing_m, **what_if)


def _queried_report(
    request: Request, kode_kab: KODE, agency: AGENCY = None, profile: PROFILE = "fire_truck",
    sla_minutes: SLA = 15.0, spacing_m: SPACING = 250.0,
    state: AppState = Depends(get_state), session: Session = Depends(get_session),
) -> svc.CoverageReport:
    """The coverage report the query parameters ask for (shared by the JSON, CSV and GeoJSON
    routes)."""
    return coverage_report(request, state, session, kode_kab=kode_kab, agency=agency,
                           profile=profile, sla_minutes=sla_minutes, spacing_m=spacing_m)


def _row(r: svc.DesaRow) -> dict[str, Any]:
    out = asdict(r)
    out["bands"] = {str(k): v for k, v in r.bands.items()}
    return out


def _out(rep: svc.CoverageReport) -> dict[str, Any]:
    total = rep.total_population
    return {
        "kode_kab": rep.kode_kab, "agency": rep.agency, "profile": rep.profile,
        "sla_minutes": rep.sla_minutes, "eta_kind": rep.eta_kind,
        "population_rule": rep.population_rule,
        "population_sources": list(rep.population_sources),
        "posts": [asdict(p) for p in rep.posts],
        "covered_population": rep.covered_population, "total_population": total,
        "covered_share_population": round(rep.covered_population / total, 4) if total else None,
        "covered_area_km2": rep.covered_area_km2, "total_area_km2": rep.total_area_km2,
        "demand_points": rep.demand_points, "horizon_minutes": rep.horizon_minutes,
        "build_s": rep.build_s, "desa": [_row(r) for r in rep.rows],
        "gaps": [_row(r) for r in rep.gaps],
    }


@router.get("/api/v1/analytics/coverage", response_model=CoverageOut)
def coverage(
    rep: Annotated[svc.CoverageReport, Depends(_queried_report)],
) -> dict:
    """Share of every desa's population and area within ``sla_minutes`` of the posts (and
    5/10/15/30-minute bands), nearest post and its ETA, and the gap list."""
    return _out(rep)


@router.post("/api/v1/analytics/coverage/what-if", response_model=WhatIfOut)
def what_if(
    body: WhatIfRequest, request: Request, state: AppState = Depends(get_state),
    session: Session = Depends(get_session),
) -> dict:
    """The coverage before and after adding, moving (remove + add) or removing posts."""
    common = {"kode_kab": body.kode_kab, "agency": body.agency, "profile": body.profile,
              "sla_minutes": body.sla_minutes, "spacing_m": body.spacing_m}
    before = coverage_report(request, state, session, **common)
    added = [svc.CoveragePost(p.name, body.agency or "", p.lon, p.lat, "what_if")
             for p in body.add]
    after = coverage_report(request, state, session, **common, add=added, remove=body.remove)
    return {
        "before": _out(before), "after": _out(after),
        "covered_population_change": round(after.covered_population
                                           - before.covered_population, 1),
        "covered_area_km2_change": round(after.covered_area_km2 - before.covered_area_km2, 3),
    }


_CSV_COLUMNS = ("kode_desa", "nama_desa", "kode_kec", "nama_kec", "area_km2", "population",
                "population_estimated", "covered_share", "covered_population",
                "uncovered_population", "nearest_minutes", "serving_post")


@router.get("/api/v1/analytics/coverage.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def coverage_csv(
    rep: Annotated[svc.CoverageReport, Depends(_queried_report)],
) -> Response:
    """The desa table as CSV (one row per desa; band columns ``within_<m>_min``)."""
    buf = io.StringIO()
    bands = list(rep.rows[0].bands) if rep.rows else []
    w = csv.writer(buf)
    w.writerow([*_CSV_COLUMNS, *(f"within_{m}_min" for m in bands)])
    for r in rep.rows:
        d = asdict(r)
        w.writerow([*("" if d[c] is None else d[c] for c in _CSV_COLUMNS),
                    *(r.bands[m] for m in bands)])
    name = f"cakupan_{rep.kode_kab}_{rep.profile}_{rep.sla_minutes:g}min.csv"
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/v1/analytics/coverage.geojson", response_class=Response,
            responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}})
def coverage_geojson(
    rep: Annotated[svc.CoverageReport, Depends(_queried_report)],
    session: Session = Depends(get_session),
) -> Response:
    """Desa polygons with their coverage properties (a FeatureCollection), posts as points."""
    geoms = dict(session.execute(select(Desa.kode_desa, Desa.geom)
                                 .where(Desa.kode_kab == rep.kode_kab)).all())
    features = [{"type": "Feature", "geometry": mapping(to_shape(geoms[r.kode_desa])),
                 "properties": _row(r)} for r in rep.rows]
    features += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                  "properties": {"post": p.name, "agency_code": p.agency_code}}
                 for p in rep.posts]
    body = json.dumps({"type": "FeatureCollection", "features": features,
                       "eta_kind": rep.eta_kind, "population_rule": rep.population_rule})
    return Response(body, media_type="application/geo+json")


@router.post("/api/v1/regions/{kode_kab}/population", response_model=PopulationImportOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}}}}})
async def population_import(kode_kab: str, request: Request) -> dict:
    """Import a population CSV (``level,kode,...,penduduk,...,tahun,sumber``) for one regency:
    every row must belong to it; the whole file is checked before anything is written."""
    check_region(kode_kab, scope_of(request))
    data = await request.body()
    if len(data) > MAX_POPULATION_BYTES:
        raise PopulationFileError(f"berkas lebih dari {MAX_POPULATION_BYTES} byte / the file is "
                                  f"larger than {MAX_POPULATION_BYTES} bytes")
    rows = parse_population_csv(data)
    foreign = sorted({r.kode for r in rows if r.kode_kab != kode_kab})
    if foreign:
        raise PopulationFileError(
            f"kode di luar {kode_kab}: {', '.join(foreign[:5])} / codes outside {kode_kab}: "
            f"{', '.join(foreign[:5])}")
    state: AppState = request.app.state.siaga
    with state.sessionmaker() as session, session.begin():
        written = import_population(session, rows)
    levels: dict[str, int] = {}
    for r in rows:
        levels[r.level] = levels.get(r.level, 0) + 1
    return {"kode_kab": kode_kab, "rows": written, "levels": levels}

