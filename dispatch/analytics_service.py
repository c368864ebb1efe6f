"""Storage side of the planner analytics: incident aggregates computed in SQL, then the pure
cores of :mod:`dispatch.analytics` (Gi*, emerging hot spots, siting demand).

Every query is scoped to one region (``kode_kab``, the tenant) and aggregates in PostGIS
(``GROUP BY``): no incident list is loaded into memory and nothing is silently capped.
By default cancelled incidents (``status = 'cancelled'``) and duplicates (``duplicate_of IS NOT
NULL``) are excluded, and so are drill incidents (``incident.drill``, latihan) unless
``include_drills`` is set.

Functions take ``*, session`` and never commit (they only read).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from sqlalchemy import Float, cast, exists, func, select
from sqlalchemy.orm import Session

from dispatch.analytics.emerging import EmergingHotspots, emerging_hotspots
from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics.hotspot import (
    DEFAULT_SEED,
    GiStar,
    Grid,
    contiguity_weights,
    gi_star,
    grid_counts,
    measure_values,
)
from dispatch.models import Agency, Incident, IncidentAgency
from dispatch.scope import Scope
from dispatch.scoping import check_region, incident_condition
from geo.geodesy import M_PER_DEG
from geo.models import Desa, Region
from geo.population_store import latest_population

__all__ = [
    "DesaHotspots",
    "GridHotspots",
    "IncidentFilter",
    "desa_counts",
    "desa_emerging_hotspots",
    "desa_hotspots",
    "grid_hotspots",
    "hour_of_week",
    "monthly_by_category",
]

KINDS = ("emergency", "public_service")
#: What planners call a complaint is stored as ``public_service``.
_KIND_ALIASES = {"complaint": "public_service"}
STEPS = ("week", "month", "quarter")


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents an analysis counts (``received_at`` in ``[start, end)``, UTC-aware)."""

    start: datetime | None = None
    end: datetime | None = None
    kind: str | None = None
    category: str | None = None
    agency: str | None = None
    include_cancelled: bool = False
    include_duplicates: bool = False
    include_drills: bool = False
    #: The caller's tenancy scope: a region outside it is not found, a desk sees its agency's.
    #: Required (keyword): a forgotten scope must not silently count every regency.
    scope: Scope = field(kw_only=True)

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise AnalyticsInputError(
                    f"waktu '{name}' harus berzona waktu / '{name}' must be timezone-aware"
                )
        if self.start and self.end and self.start >= self.end:
            raise AnalyticsInputError(
                "awal periode harus sebelum akhirnya / the start must be before the end"
            )
        if self.kind in _KIND_ALIASES:
            object.__setattr__(self, "kind", _KIND_ALIASES[self.kind])
        if self.kind is not None and self.kind not in KINDS:
            raise AnalyticsInputError(
                f"jenis harus salah satu dari {', '.join(KINDS)}, diberikan '{self.kind}' / "
                f"kind must be one of {', '.join(KINDS)} (or complaint), got '{self.kind}'"
            )


def incident_where(kode_kab: str, flt: IncidentFilter) -> list:
    check_region(kode_kab, flt.scope)
    cond = [Incident.kode_kab == kode_kab, incident_condition(flt.scope)]
    if flt.start is not None:
        cond.append(Incident.received_at >= flt.start)
    if flt.end is not None:
        cond.append(Incident.received_at < flt.end)
    if flt.kind is not None:
        cond.append(Incident.kind == flt.kind)
    if flt.category is not None:
        cond.append(Incident.category == flt.category)
    if flt.agency is not None:
        cond.append(
            exists(
                select(IncidentAgency.id)
                .join(Agency, Agency.id == IncidentAgency.agency_id)
                .where(IncidentAgency.incident_id == Incident.id, Agency.code == flt.agency)
            )
        )
    if not flt.include_cancelled:
        cond.append(Incident.status != "cancelled")
    if not flt.include_duplicates:
        cond.append(Incident.duplicate_of.is_(None))
    if not flt.include_drills:
        cond.append(Incident.drill.is_(False))
    return cond


def _zone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise AnalyticsInputError(
            f"zona waktu tidak dikenal: '{tz}' / unknown time zone: '{tz}'"
        ) from exc
    return tz


# -- areas -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesaCounts:
    """Every desa/kelurahan of the region (sorted by code) with its incident count and area."""

    kode_desa: list[str]
    nama_desa: list[str]
    geometry: np.ndarray
    area_km2: np.ndarray
    count: np.ndarray


def desa_counts(*, session: Session, kode_kab: str, flt: IncidentFilter) -> DesaCounts:
    """Incidents per desa (zero for desa without any), counted in SQL."""
    counts = (
        select(Incident.kode_desa, func.count().label("n"))
        .where(*incident_where(kode_kab, flt), Incident.kode_desa.is_not(None))
        .group_by(Incident.kode_desa)
        .subquery()
    )
    rows = session.execute(
        select(
            Desa.kode_desa,
            Desa.nama_desa,
            func.ST_AsBinary(Desa.geom),
            func.ST_Area(func.geography(Desa.geom)) / 1e6,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.kode_desa == Desa.kode_desa)
        .where(Desa.kode_kab == kode_kab)
        .order_by(Desa.kode_desa)
    ).all()
    if not rows:
        raise AnalyticsInputError(
            f"wilayah {kode_kab} tidak mempunyai batas desa / region {kode_kab} has no desa "
            "boundaries"
        )
    return DesaCounts(
        [r[0] for r in rows],
        [r[1] for r in rows],
        shapely.from_wkb([bytes(r[2]) for r in rows]),
        np.array([float(r[3]) for r in rows]),
        np.array([float(r[4]) for r in rows]),
    )


@dataclass(frozen=True)
class DesaHotspots:
    desa: DesaCounts
    measure: str
    values: np.ndarray
    gi: GiStar


def desa_hotspots(
    *,
    session: Session,
    kode_kab: str,
    flt: IncidentFilter,
    population: dict[str, float] | None = None,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
) -> DesaHotspots:
    """Gi* over the region's desa (Queen contiguity): rates per 1,000 people when ``population``
    (default: the desa figures of the ``population`` table) covers every desa, else incidents
    per km² (kecamatan figures spread over desa are estimates, not used as rates)."""
    d = desa_counts(session=session, kode_kab=kode_kab, flt=flt)
    pop = None
    if population is None:  # desa figures imported with `siaga population import`, if any
        population = {k: float(v[0]) for k, v in latest_population(session, kode_kab).desa.items()}
    if population:
        pop = np.array([float(population.get(k, np.nan)) for k in d.kode_desa])
    values, measure = measure_values(d.count, population=pop, area_km2=d.area_km2)
    w = contiguity_weights(list(d.geometry), d.kode_desa)
    return DesaHotspots(
        d, measure, values, gi_star(values, w, permutations=permutations, seed=seed)
    )


# -- grid --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridHotspots:
    """Gi* of grid cells; cell centres in WGS 84 (``lon``, ``lat``)."""

    grid: Grid
    lon: np.ndarray
    lat: np.ndarray
    gi: GiStar


def _region(session: Session, kode_kab: str):
    wkb = session.scalar(select(func.ST_AsBinary(Region.geom)).where(Region.kode_kab == kode_kab))
    if wkb is None:
        raise AnalyticsInputError(f"wilayah {kode_kab} tidak dikenal / unknown region {kode_kab}")
    return shapely.from_wkb(bytes(wkb))


def grid_hotspots(
    *,
    session: Session,
    kode_kab: str,
    flt: IncidentFilter,
    cell_m: float = 250.0,
    band_cells: float = 1.5,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
) -> GridHotspots:
    """Gi* over square cells of ``cell_m`` metres covering the region (distance-band weights).

    Cells are counted in SQL on a local equirectangular projection around the region's centre;
    every cell whose centre lies in the region takes part (zero when it has no incident).
    """
    if not 25.0 <= cell_m <= 10_000.0:
        raise AnalyticsInputError(
            f"ukuran sel harus 25..10.000 m, diberikan {cell_m} / the cell size must be "
            f"25..10,000 m, got {cell_m}"
        )
    region = _region(session, kode_kab)
    lon0, lat0 = region.centroid.x, region.centroid.y
    kx = M_PER_DEG * math.cos(math.radians(lat0))
    col = func.floor((func.ST_X(Incident.geom) - lon0) * kx / cell_m)
    row = func.floor((func.ST_Y(Incident.geom) - lat0) * M_PER_DEG / cell_m)
    rows = session.execute(
        select(cast(col, Float), cast(row, Float), func.count())
        .where(*incident_where(kode_kab, flt), Incident.geom.is_not(None))
        .group_by(col, row)
    ).all()
    x0, y0, x1, y1 = region.bounds
    extent = (
        math.floor((x0 - lon0) * kx / cell_m),
        math.floor((y0 - lat0) * M_PER_DEG / cell_m),
        math.floor((x1 - lon0) * kx / cell_m),
        math.floor((y1 - lat0) * M_PER_DEG / cell_m),
    )
    cols = np.arange(extent[0], extent[2] + 1)
    rws = np.arange(extent[1], extent[3] + 1)
    cc, rr = np.meshgrid(cols, rws)
    centre_lon = (cc.ravel() + 0.5) * cell_m / kx + lon0
    centre_lat = (rr.ravel() + 0.5) * cell_m / M_PER_DEG + lat0
    keep = shapely.contains_xy(region, centre_lon, centre_lat)
    cells = np.array([[r[0], r[1]] for r in rows], dtype=np.int64).reshape(-1, 2)
    grid = grid_counts(
        cells,
        np.array([r[2] for r in rows], dtype=np.float64),
        cell_m,
        extent=extent,
        keep=keep,
    )
    gi = gi_star(grid.count, grid.weights(band_cells), permutations=permutations, seed=seed)
    return GridHotspots(grid, grid.x_m / kx + lon0, grid.y_m / M_PER_DEG + lat0, gi)


# -- time --------------------------------------------------------------------------------------
def hour_of_week(
    *, session: Session, kode_kab: str, flt: IncidentFilter, tz: str = "Asia/Jakarta"
) -> np.ndarray:
    """Incidents per day of week (rows, Monday first) and local hour of day (columns): 7 x 24."""
    local = func.timezone(_zone(tz), Incident.received_at)
    dow = func.extract("isodow", local)
    hour = func.extract("hour", local)
    out = np.zeros((7, 24), dtype=np.int64)
    for d, h, n in session.execute(
        select(dow, hour, func.count()).where(*incident_where(kode_kab, flt)).group_by(dow, hour)
    ):
        out[int(d) - 1, int(h)] = int(n)
    return out


def monthly_by_category(
    *, session: Session, kode_kab: str, flt: IncidentFilter, tz: str = "Asia/Jakarta"
) -> tuple[list[str], dict[str, list[int]]]:
    """Monthly incident counts per category (local months, ``YYYY-MM``, gaps filled with 0)."""
    month = func.to_char(func.timezone(_zone(tz), Incident.received_at), "YYYY-MM")
    rows = session.execute(
        select(Incident.category, month, func.count())
        .where(*incident_where(kode_kab, flt))
        .group_by(Incident.category, month)
    ).all()
    if not rows:
        return [], {}
    found = sorted({r[1] for r in rows})
    months = _month_range(found[0], found[-1])
    series = {c: [0] * len(months) for c in sorted({r[0] for r in rows})}
    pos = {m: i for i, m in enumerate(months)}
    for cat, m, n in rows:
        series[cat][pos[m]] = int(n)
    return months, series


def _month_range(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def desa_emerging_hotspots(
    *,
    session: Session,
    kode_kab: str,
    flt: IncidentFilter,
    step: str = "month",
    tz: str = "Asia/Jakarta",
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
) -> tuple[DesaCounts, list[str], EmergingHotspots]:
    """Emerging hot spots over the desa: a cube of counts per desa and local ``step`` (SQL),
    Gi* per step and Mann-Kendall per desa. Returns the desa, the step labels and the result."""
    if step not in STEPS:
        raise AnalyticsInputError(
            f"langkah waktu harus {', '.join(STEPS)}, diberikan '{step}' / the time step must "
            f"be one of {', '.join(STEPS)}, got '{step}'"
        )
    d = desa_counts(session=session, kode_kab=kode_kab, flt=flt)
    bucket = func.date_trunc(step, func.timezone(_zone(tz), Incident.received_at))
    rows = session.execute(
        select(Incident.kode_desa, bucket, func.count())
        .where(*incident_where(kode_kab, flt), Incident.kode_desa.is_not(None))
        .group_by(Incident.kode_desa, bucket)
    ).all()
    labels = sorted({r[1] for r in rows})
    if len(labels) < 2:
        raise AnalyticsInputError(
            "butuh kejadian pada sedikitnya 2 langkah waktu / incidents in at least 2 time "
            "steps are needed"
        )
    steps = _step_range(labels[0], labels[-1], step)
    col = {s: i for i, s in enumerate(steps)}
    where = {k: i for i, k in enumerate(d.kode_desa)}
    cube = np.zeros((len(d.kode_desa), len(steps)))
    for kode, at, n in rows:
        if kode in where:
            cube[where[kode], col[at]] += n
    w = contiguity_weights(list(d.geometry), d.kode_desa)
    res = emerging_hotspots(cube, w, permutations=permutations, seed=seed)
    return d, [s.date().isoformat() for s in steps], res


def _step_range(first: datetime, last: datetime, step: str) -> list[datetime]:
    """Every step start from ``first`` to ``last`` (local, as ``date_trunc`` returns them)."""
    out = [first]
    while out[-1] < last:
        at = out[-1]
        if step == "week":
            out.append(at + timedelta(days=7))
        else:
            months = 1 if step == "month" else 3
            y, m = divmod(at.month - 1 + months, 12)
            out.append(at.replace(year=at.year + y, month=m + 1))
    return out
