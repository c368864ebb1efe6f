"""Coverage for the Bupati's office: which desa the posts of an agency reach within the SLA.

From the **posts/stations** of a regency (registry ``post`` rows and the seeded ``station`` rows,
not the units' momentary positions): demand points on a grid inside every desa
(:mod:`geo.sampling`), the post × point ETA matrix by road for one vehicle profile
(:func:`geo.routing.matrix.eta_matrix`, one bounded search per post), or, where the regency has
no road network, straight-line × detour-factor estimates at the profile's speed, marked
``eta_kind = "estimate"``. Then the pure table of :mod:`dispatch.analytics.post_coverage`.

Population: desa figures where the ``population`` table has them; otherwise each kecamatan's
newest figure spread over its desa by area (``population_rule = "kecamatan_by_area"``, an
estimate); otherwise unknown (area shares are still given).

Read-only; scoped: a regency outside the caller's :class:`~dispatch.scope.Scope` is a 404.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from geoalchemy2.shape import to_shape
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics.post_coverage import BANDS_MIN, coverage_table, gap_order, spread_by_area
from dispatch.models import Agency, Post, Station
from dispatch.ranking import ETA_ESTIMATE, ETA_ROAD, ProfileSpeed
from dispatch.scope import Scope
from dispatch.scoping import check_region
from geo.geodesy import haversine_matrix_m
from geo.models import Desa, Kecamatan
from geo.population_store import latest_population
from geo.routing.matrix import eta_matrix
from geo.sampling import area_km2, grid_points

__all__ = ["CoveragePost", "CoverageReport", "DesaRow", "population_demand", "post_coverage",
           "posts_of"]

#: Grid spacing of the demand points (m): ~16 points per km².
DEFAULT_SPACING_M = 250.0
MAX_SLA_MINUTES = 240.0


@dataclass(frozen=True)
class CoveragePost:
    name: str
    agency_code: str
    lon: float
    lat: float
    #: "post" (registry) or "station" (seeded home station)
    source: str


@dataclass(frozen=True)
class DesaRow:
    kode_desa: str
    nama_desa: str
    kode_kec: str
    nama_kec: str
    area_km2: float
    population: float | None
    population_estimated: bool
    covered_share: float
    covered_population: float | None
    uncovered_population: float | None
    #: minutes → share of the desa within that many minutes of the nearest post
    bands: dict[int, float]
    #: mean minutes from the nearest post over the desa's points (None: some point unreachable
    #: or beyond the road search horizon)
    nearest_minutes: float | None
    serving_post: str | None


@dataclass(frozen=True)
class CoverageReport:
    kode_kab: str
    agency: str | None
    profile: str
    sla_minutes: float
    eta_kind: str
    population_rule: str
    population_sources: tuple[str, ...]
    posts: tuple[CoveragePost, ...]
    rows: tuple[DesaRow, ...]
    gaps: tuple[DesaRow, ...]
    covered_population: float
    total_population: float
    covered_area_km2: float
    total_area_km2: float
    demand_points: int
    #: road searches stop at this many minutes (``nearest_minutes`` None beyond it)
    horizon_minutes: float | None
    build_s: float


def posts_of(session: Session, kode_kab: str, agency: str | None) -> list[CoveragePost]:
    """Registry posts and seeded stations of a regency (one agency's if given)."""
    q_posts = select(Post.name, Post.agency_code, func.ST_X(Post.geom), func.ST_Y(Post.geom)).where(
        and_(Post.kode_kab == kode_kab, Post.geom.is_not(None)))
    q_stations = (
        select(Station.name, Agency.code, func.ST_X(Station.geom), func.ST_Y(Station.geom))
        .join(Agency, Agency.id == Station.agency_id)
        .where(and_(Station.kode_kab == kode_kab, Station.geom.is_not(None))))
    if agency is not None:
        q_posts = q_posts.where(Post.agency_code == agency)
        q_stations = q_stations.where(Agency.code == agency)
    out = [CoveragePost(n, a, float(x), float(y), "post")
           for n, a, x, y in session.execute(q_posts.order_by(Post.name))]
    seen = {(p.name, round(p.lon, 5), round(p.lat, 5)) for p in out}
    for n, a, x, y in session.execute(q_stations.order_by(Station.name)):
        if (n, round(float(x), 5), round(float(y), 5)) not in seen:
            out.append(CoveragePost(n, a, float(x), float(y), "station"))
    return out


def _population(session: Session, kode_kab: str, desa_codes: Sequence[str],
                desa_kec: Sequence[str], areas: np.ndarray) -> tuple[np.ndarray, np.ndarray, str,
                                                                    tuple[str, ...]]:
    latest = latest_population(session, kode_kab)
    if latest.desa and all(c in latest.desa for c in desa_codes):
        pop = np.array([latest.desa[c][0] for c in desa_codes], dtype=np.float64)
        return pop, np.zeros(len(pop), bool), "desa", latest.sources
    if latest.kecamatan:
        pop = spread_by_area({k: float(v[0]) for k, v in latest.kecamatan.items()}, desa_kec,
                             areas)
        return pop, np.isfinite(pop), "kecamatan_by_area", latest.sources
    return np.full(len(desa_codes), np.nan), np.zeros(len(desa_codes), bool), "unknown", ()


def _eta(networks, speeds: Mapping[str, ProfileSpeed], kode_kab: str, profile: str,
         posts: np.ndarray, points: np.ndarray, horizon_s: float) -> tuple[np.ndarray, str]:
    if networks is not None and networks.has(kode_kab, profile):
        if not len(posts):
            return np.zeros((0, len(points))), ETA_ROAD
        m = eta_matrix(networks.get(kode_kab, profile), posts, points, horizon_s=horizon_s)
        return m.eta_s.astype(np.float64), ETA_ROAD
    speed = speeds[profile]
    metres = haversine_matrix_m(posts, points) * speed.detour_factor
    return metres / (speed.speed_kmh / 3.6), ETA_ESTIMATE  # no horizon: cheap to compute


def _minutes(seconds: float) -> float | None:
    return round(seconds / 60.0, 2) if math.isfinite(seconds) else None


def post_coverage(
    session: Session,
    networks,
    speeds: Mapping[str, ProfileSpeed],
    *,
    scope: Scope,
    kode_kab: str,
    profile: str,
    sla_minutes: float,
    agency: str | None = None,
    spacing_m: float = DEFAULT_SPACING_M,
    max_gaps: int = 50,
    add: Sequence[CoveragePost] = (),
    remove: Sequence[str] = (),
) -> CoverageReport:
    """The coverage table of every desa of ``kode_kab`` from its posts, and the gap list.

    ``add`` and ``remove`` (post names) change the posts for a what-if: a moved post is one
    removed and one added. Unknown names in ``remove`` are an input error.
    """
    started = time.perf_counter()
    check_region(kode_kab, scope)
    if profile not in speeds:
        raise AnalyticsInputError(
            f"profil kendaraan tidak dikenal: {profile} / unknown vehicle profile: {profile}")
    if not (0 < sla_minutes <= MAX_SLA_MINUTES):
        raise AnalyticsInputError(
            f"batas SLA harus 0..{MAX_SLA_MINUTES:g} menit / the SLA limit must be "
            f"0..{MAX_SLA_MINUTES:g} minutes")
    if not (50.0 <= spacing_m <= 5000.0):
        raise AnalyticsInputError("jarak grid 50..5000 m / grid spacing must be 50..5000 m")
    desa = session.execute(
        select(Desa.kode_desa, Desa.nama_desa, Desa.kode_kec, Kecamatan.nama_kec, Desa.geom)
        .join(Kecamatan, Kecamatan.kode_kec == Desa.kode_kec)
        .where(Desa.kode_kab == kode_kab).order_by(Desa.kode_desa)).all()
    if not desa:
        raise AnalyticsInputError(
            f"wilayah {kode_kab} belum diimpor / region {kode_kab} has not been imported")
    geoms = [to_shape(r.geom) for r in desa]
    areas = area_km2(geoms)
    pts = grid_points(geoms, spacing_m)
    codes = [r.kode_desa for r in desa]
    kecs = [r.kode_kec for r in desa]
    pop, estimated, rule, sources = _population(session, kode_kab, codes, kecs, areas)
    posts = posts_of(session, kode_kab, agency)
    unknown = sorted(set(remove) - {p.name for p in posts})
    if unknown:
        raise AnalyticsInputError(
            f"pos tidak dikenal: {', '.join(unknown)[:200]} / unknown posts: "
            f"{', '.join(unknown)[:200]}")
    posts = [p for p in posts if p.name not in set(remove)] + list(add)
    post_xy = np.array([[p.lon, p.lat] for p in posts], dtype=np.float64).reshape(-1, 2)
    # road searches stop here: the nearest post of a desa farther than this is not named
    horizon_s = 2.0 * max(float(sla_minutes), float(max(BANDS_MIN))) * 60.0
    eta, kind = _eta(networks, speeds, kode_kab, profile, post_xy, pts.lonlat, horizon_s)
    cov = coverage_table(eta, pts.owner, pop, sla_s=float(sla_minutes) * 60.0)
    rows = []
    for i, r in enumerate(desa):
        known = bool(np.isfinite(pop[i]))
        rows.append(DesaRow(
            kode_desa=r.kode_desa, nama_desa=r.nama_desa, kode_kec=r.kode_kec,
            nama_kec=r.nama_kec, area_km2=round(float(areas[i]), 4),
            population=round(float(pop[i]), 1) if known else None,
            population_estimated=bool(estimated[i]),
            covered_share=round(float(cov.covered_share[i]), 4),
            covered_population=round(float(pop[i] * cov.covered_share[i]), 1) if known else None,
            uncovered_population=round(float(cov.uncovered_population[i]), 1) if known else None,
            bands={m: round(float(cov.band_share[i, j]), 4) for j, m in enumerate(BANDS_MIN)},
            nearest_minutes=_minutes(float(cov.nearest_eta_s[i])),
            serving_post=posts[cov.serving_post[i]].name if cov.serving_post[i] >= 0 else None,
        ))
    gaps = tuple(rows[i] for i in gap_order(cov) if cov.covered_share[i] < 1.0)[:max_gaps]
    return CoverageReport(
        kode_kab=kode_kab, agency=agency, profile=profile, sla_minutes=float(sla_minutes),
        eta_kind=kind, population_rule=rule, population_sources=sources, posts=tuple(posts),
        rows=tuple(rows), gaps=gaps, covered_population=round(cov.covered_population, 1),
        total_population=round(cov.total_population, 1),
        covered_area_km2=round(float((areas * cov.covered_share).sum()), 3),
        total_area_km2=round(float(areas.sum()), 3), demand_points=len(pts.owner),
        horizon_minutes=horizon_s / 60.0 if kind == ETA_ROAD else None,
        build_s=round(time.perf_counter() - started, 4),
    )


def population_demand(session: Session, *, scope: Scope, kode_kab: str,
                      spacing_m: float = DEFAULT_SPACING_M) -> tuple[np.ndarray, np.ndarray, str]:
    """Demand for siting from where people live: the grid points of every desa, each weighted
    with its share of the desa's population (``(points, weights, population_rule)``); without
    population figures every point weighs its share of area (1 per point)."""
    check_region(kode_kab, scope)
    desa = session.execute(select(Desa.kode_desa, Desa.kode_kec, Desa.geom)
                           .where(Desa.kode_kab == kode_kab).order_by(Desa.kode_desa)).all()
    if not desa:
        raise AnalyticsInputError(
            f"wilayah {kode_kab} belum diimpor / region {kode_kab} has not been imported")
    geoms = [to_shape(r.geom) for r in desa]
    pts = grid_points(geoms, spacing_m)
    pop, _estimated, rule, _sources = _population(
        session, kode_kab, [r.kode_desa for r in desa], [r.kode_kec for r in desa],
        area_km2(geoms))
    per_desa = np.bincount(pts.owner, minlength=len(desa)).astype(np.float64)
    if rule == "unknown" or not np.isfinite(pop).any():
        return pts.lonlat, np.ones(len(pts.owner)), "area"
    share = np.where(np.isfinite(pop), pop, 0.0) / per_desa
    return pts.lonlat, share[pts.owner], rule
