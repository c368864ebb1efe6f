"""Inputs of post siting: demand from incident history (pooled in cells, in SQL) and the
existing posts of a regency (registry posts and seeded stations), both scoped.

Demand from where people live is :func:`dispatch.coverage_service.population_demand`.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics_service import IncidentFilter, incident_where
from dispatch.coverage_service import posts_of
from dispatch.models import Incident
from dispatch.scope import Scope
from dispatch.scoping import check_region
from geo.geodesy import M_PER_DEG

__all__ = ["existing_posts", "incident_demand"]


def incident_demand(
    *, session: Session, kode_kab: str, flt: IncidentFilter, cell_m: float = 100.0
) -> tuple[np.ndarray, np.ndarray]:
    """Demand points for siting from incident history: incidents pooled in ``cell_m`` cells
    (SQL), each cell at the mean position of its incidents. Returns ``(lon/lat (n, 2),
    weight (n,))``."""
    if not 10.0 <= cell_m <= 5000.0:
        raise AnalyticsInputError(
            f"ukuran sel harus 10..5.000 m, diberikan {cell_m} / the cell size must be "
            f"10..5,000 m, got {cell_m}"
        )
    deg = cell_m / M_PER_DEG
    col = func.floor(func.ST_X(Incident.geom) / deg)
    row = func.floor(func.ST_Y(Incident.geom) / deg)
    rows = session.execute(
        select(func.avg(func.ST_X(Incident.geom)), func.avg(func.ST_Y(Incident.geom)), func.count())
        .where(*incident_where(kode_kab, flt), Incident.geom.is_not(None))
        .group_by(col, row)
        .order_by(col, row)
    ).all()
    xy = np.array([[float(r[0]), float(r[1])] for r in rows]).reshape(-1, 2)
    return xy, np.array([float(r[2]) for r in rows])


def existing_posts(
    *, session: Session, kode_kab: str, agency: str | None = None, scope: Scope
) -> list[tuple[str, float, float]]:
    """Existing posts of the region (registry posts and seeded stations) as
    ``(name, lon, lat)``, optionally one agency's."""
    check_region(kode_kab, scope)
    return [(p.name, p.lon, p.lat) for p in posts_of(session, kode_kab, agency)]
