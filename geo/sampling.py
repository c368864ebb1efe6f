"""Demand points inside polygons: a regular grid clipped to each desa (pure, shapely 2 + numpy).

Coverage statistics need the population of a desa spread over where it lives; without building
footprints, a regular grid of points (``spacing_m`` apart) clipped to the desa polygon stands for
equal shares of its area. Every polygon gets at least one point (its representative point, always
inside), so a desa smaller than the grid cell is never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.geodesy import M_PER_DEG

__all__ = ["DemandPoints", "area_km2", "grid_points"]


@dataclass(frozen=True)
class DemandPoints:
    """``lonlat`` ``(n, 2)`` points and ``owner[n]``, the index of the polygon each lies in."""

    lonlat: np.ndarray
    owner: np.ndarray
    spacing_m: float


def _m_per_deg_lon(lat: float) -> float:
    return M_PER_DEG * math.cos(math.radians(lat))


def area_km2(polygons: Sequence[BaseGeometry]) -> np.ndarray:
    """Area of each WGS 84 polygon in km² (local equirectangular scale at its centroid)."""
    geoms = np.asarray(polygons, dtype=object)
    if not len(geoms):
        return np.zeros(0)
    deg2 = shapely.area(geoms)
    lat = shapely.get_y(shapely.centroid(geoms))
    return deg2 * M_PER_DEG * M_PER_DEG * np.cos(np.radians(lat)) / 1e6


def grid_points(polygons: Sequence[BaseGeometry], spacing_m: float) -> DemandPoints:
    """Grid points ``spacing_m`` apart inside each polygon (at least one per polygon)."""
    if not (spacing_m > 0 and math.isfinite(spacing_m)):
        raise ValueError(f"spacing_m must be a positive number, got {spacing_m}")
    geoms = list(polygons)
    if not geoms:
        return DemandPoints(np.zeros((0, 2)), np.zeros(0, dtype=np.int64), float(spacing_m))
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
    dlat = spacing_m / M_PER_DEG
    dlon = spacing_m / _m_per_deg_lon((miny + maxy) / 2.0)
    xs, ys, owners = [], [], []
    for i, geom in enumerate(geoms):
        gx0, gy0, gx1, gy1 = geom.bounds
        # the grid is anchored on the regency's corner so neighbouring desa share one lattice
        cols = np.arange(math.ceil((gx0 - minx) / dlon), math.floor((gx1 - minx) / dlon) + 1)
        rows = np.arange(math.ceil((gy0 - miny) / dlat), math.floor((gy1 - miny) / dlat) + 1)
        gx, gy = np.meshgrid(minx + cols * dlon, miny + rows * dlat)
        gx, gy = gx.ravel(), gy.ravel()
        if len(gx):
            shapely.prepare(geom)
            inside = shapely.contains_xy(geom, gx, gy)
            gx, gy = gx[inside], gy[inside]
        if not len(gx):
            rep = geom.representative_point()
            gx, gy = np.array([rep.x]), np.array([rep.y])
        xs.append(gx)
        ys.append(gy)
        owners.append(np.full(len(gx), i, dtype=np.int64))
    lonlat = np.column_stack([np.concatenate(xs), np.concatenate(ys)])
    return DemandPoints(lonlat, np.concatenate(owners), float(spacing_m))
