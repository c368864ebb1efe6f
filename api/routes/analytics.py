"""Planner analytics over HTTP: significant hotspots (Gi*), time patterns, emerging hot spots and
post siting (LSCP / MCLP over the road ETA matrix). Read-only: nothing is written."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.routes.incidents import road_networks, scope_of
from api.schemas_analytics import (
    DesaHotspotsOut,
    EmergingOut,
    GridHotspotsOut,
    SitingOut,
    TimePatternsOut,
)
from api.state import AppState
from dispatch import analytics_service as svc
from dispatch.analytics import siting
from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.coverage_service import population_demand
from dispatch.siting_inputs import existing_posts, incident_demand
from geo.routing.matrix import eta_matrix

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

KODE = Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")]
# esda compiles its Gi* permutation kernels (numba, not cached on disk) on the first request of a
# process, which takes ~15 s. That compile is not started at startup on purpose: it holds the
# interpreter lock and would stall the dispatchers' first recommendations instead.


def _filter(
    request: Request,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=48)] = None,
    agency: Annotated[str | None, Query(max_length=32)] = None,
    include_cancelled: bool = False,
    include_duplicates: bool = False,
    include_drills: bool = False,
) -> svc.IncidentFilter:
    return svc.IncidentFilter(
        start=date_from, end=date_to, kind=kind, category=category, agency=agency,
        include_cancelled=include_cancelled, include_duplicates=include_duplicates,
        include_drills=include_drills, scope=scope_of(request),
    )


Filter = Annotated[svc.IncidentFilter, Depends(_filter)]
Permutations = Annotated[int, Query(ge=99, le=9999)]


def _gi(gi: Any, i: int) -> dict[str, Any]:
    return {"z": round(float(gi.z[i]), 4), "p": float(gi.p_sim[i]), "gi_bin": int(gi.gi_bin[i])}


@router.get("/hotspots/desa", response_model=DesaHotspotsOut)
def hotspots_desa(
    kode_kab: KODE, flt: Filter, permutations: Permutations = 999, seed: int = 112,
    session: Session = Depends(get_session),
) -> dict:
    """Gi* per desa/kelurahan (Queen contiguity, density per km²), 999 seeded permutations."""
    res = svc.desa_hotspots(
        session=session, kode_kab=kode_kab, flt=flt, permutations=permutations, seed=seed
    )
    d = res.desa
    return {
        "kode_kab": kode_kab, "measure": res.measure, "fdr": True,
        "p_threshold": {str(k): v for k, v in res.gi.p_threshold.items()},
        "desa": [
            {"kode_desa": d.kode_desa[i], "nama_desa": d.nama_desa[i], "count": int(d.count[i]),
             "value": float(res.values[i]), **_gi(res.gi, i)}
            for i in range(len(d.kode_desa))
        ],
    }


@router.get("/hotspots/grid", response_model=GridHotspotsOut)
def hotspots_grid(
    kode_kab: KODE, flt: Filter, cell_m: Annotated[float, Query(ge=25, le=10000)] = 250.0,
    permutations: Permutations = 999, seed: int = 112, session: Session = Depends(get_session),
) -> dict:
    """Gi* per square grid cell (distance-band weights), for urban detail."""
    res = svc.grid_hotspots(
        session=session, kode_kab=kode_kab, flt=flt, cell_m=cell_m, permutations=permutations,
        seed=seed,
    )
    return {
        "kode_kab": kode_kab, "cell_m": cell_m,
        "cells": [
            {"lon": round(float(res.lon[i]), 6), "lat": round(float(res.lat[i]), 6),
             "count": int(res.grid.count[i]), **_gi(res.gi, i)}
            for i in range(len(res.grid.count))
        ],
    }


@router.get("/time", response_model=TimePatternsOut)
def time_patterns(
    kode_kab: KODE, flt: Filter, tz: str = "Asia/Jakarta",
    session: Session = Depends(get_session),
) -> dict:
    """Hour-of-day x day-of-week counts (Monday first, local time) and monthly series."""
    matrix = svc.hour_of_week(session=session, kode_kab=kode_kab, flt=flt, tz=tz)
    months, series = svc.monthly_by_category(session=session, kode_kab=kode_kab, flt=flt, tz=tz)
    return {"kode_kab": kode_kab, "tz": tz, "hour_of_week": matrix.tolist(),
            "months": months, "monthly_by_category": series}


@router.get("/emerging", response_model=EmergingOut)
def emerging(
    kode_kab: KODE, flt: Filter, step: Literal["week", "month", "quarter"] = "month",
    tz: str = "Asia/Jakarta", permutations: Permutations = 999, seed: int = 112,
    session: Session = Depends(get_session),
) -> dict:
    """Emerging hot spot category per desa (Gi* per time step, Mann-Kendall trend)."""
    d, steps, res = svc.desa_emerging_hotspots(
        session=session, kode_kab=kode_kab, flt=flt, step=step, tz=tz,
        permutations=permutations, seed=seed,
    )
    return {
        "kode_kab": kode_kab, "steps": steps,
        "desa": [
            {"kode_desa": d.kode_desa[i], "nama_desa": d.nama_desa[i],
             "category": res.category[i], "trend_tau": round(float(res.trend_tau[i]), 4),
             "trend_p": float(res.trend_p[i]), "gi_bin": res.gi_bin[i].tolist()}
            for i in range(len(d.kode_desa))
        ],
    }


Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]


class SitingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kode_kab: str = Field(pattern=r"^\d{2}\.\d{2}$")
    profile: str = Field("ambulance", max_length=48)
    problem: Literal["mclp", "lscp"] = "mclp"
    minutes: float = Field(8.0, gt=0, le=60)
    p: int = Field(3, ge=0, le=100)
    candidates: list[tuple[Lon, Lat]] | None = Field(
        None, max_length=5000, description="[lon, lat] pairs; default: sampled road nodes"
    )
    sample_candidates: int = Field(500, ge=1, le=5000)
    existing_agency: str | None = Field(None, max_length=32)
    keep_existing: bool = True
    demand_cell_m: float = Field(100.0, ge=10, le=5000)
    demand: Literal["incidents", "population"] = Field(
        "incidents", description="incident history (cells of demand_cell_m), or where people "
        "live (a demand_cell_m grid in every desa weighted by its population; by area without "
        "population figures)")
    date_from: datetime | None = None
    date_to: datetime | None = None
    category: str | None = Field(None, max_length=48)
    seed: int = Field(112, ge=0, le=2**31 - 1)
    time_limit_s: float = Field(30.0, gt=0, le=120)


@router.post("/siting", response_model=SitingOut)
def siting_run(
    body: SitingRequest, request: Request, state: AppState = Depends(get_state),
    session: Session = Depends(get_session),
) -> dict:
    """LSCP or MCLP over the road ETA matrix, demand from incident history or population,
    posts fixed."""
    flt = svc.IncidentFilter(start=body.date_from, end=body.date_to, category=body.category,
                             scope=scope_of(request))
    if body.demand == "population":
        demand, weights, _rule = population_demand(
            session, scope=flt.scope, kode_kab=body.kode_kab,
            spacing_m=max(body.demand_cell_m, 50.0))
    else:
        demand, weights = incident_demand(
            session=session, kode_kab=body.kode_kab, flt=flt, cell_m=body.demand_cell_m
        )
    if not len(demand):
        raise AnalyticsInputError(
            "tidak ada kejadian untuk dijadikan permintaan / no incidents to use as demand"
        )
    index = road_networks(state).get(body.kode_kab, body.profile)
    existing = existing_posts(session=session, kode_kab=body.kode_kab, agency=body.existing_agency,
                         scope=flt.scope)
    # Everything needed is read: give the connection back before the (long) solve.
    session.close()
    if body.candidates is not None:
        cand = np.asarray(body.candidates, dtype=np.float64).reshape(-1, 2)
    else:
        rng = np.random.default_rng(body.seed)
        n = min(body.sample_candidates, index.n_nodes)
        nodes = np.sort(rng.choice(index.n_nodes, n, replace=False))
        cand = np.column_stack([index.node_lon[nodes], index.node_lat[nodes]])
    fixed = np.array([[x, y] for _, x, y in existing], dtype=np.float64).reshape(-1, 2)
    sources = np.vstack([fixed, cand]) if body.keep_existing else cand
    n_fixed = len(fixed) if body.keep_existing else 0
    m = eta_matrix(index, sources, demand, horizon_s=body.minutes * 60.0)
    cover = m.covers(body.minutes).T
    fixed_idx = list(range(n_fixed))
    if body.problem == "mclp":
        res = siting.mclp(cover, body.p, weights=weights, existing=fixed_idx,
                          time_limit_s=body.time_limit_s)
    else:
        res = siting.lscp(cover, existing=fixed_idx, weights=weights,
                          time_limit_s=body.time_limit_s)
    gaps = siting.coverage(cover, res.posts, weights).gaps[:200]
    return {
        "problem": res.problem, "status": res.status, "optimal": res.optimal,
        "mip_gap": res.mip_gap, "solve_s": round(res.solve_s, 3),
        "matrix_s": round(m.build_s, 3), "minutes": body.minutes,
        "covered_weight": res.covered_weight, "total_weight": res.total_weight,
        "covered_share": round(res.covered_share, 4),
        "existing_posts": [{"code": c, "lon": x, "lat": y} for c, x, y in existing]
        if body.keep_existing else [],
        "new_posts": [
            {"lon": float(sources[j, 0]), "lat": float(sources[j, 1])} for j in res.new_posts
        ],
        "uncoverable": len(res.uncoverable),
        "gaps": [
            {"lon": float(demand[i, 0]), "lat": float(demand[i, 1]), "weight": float(weights[i])}
            for i in gaps
        ],
    }
