"""Incident hotspots for BPBD planners: a grid of kernel densities and a heat layer.

Pure computation (:func:`hotspot_grid`) plus a folium renderer using the vendored leaflet.heat.
Distances use a local equirectangular projection around the points' mean latitude (metres),
accurate to a fraction of a percent over a regency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
from folium.plugins import HeatMap

from geo.geodesy import EARTH_RADIUS_M
from geo.types import LonLat
from maps.assets import LEAFLET_HEAT_JS, STATIC_URL, asset_url
from maps.base import add_boundaries, add_title, offline_map
from maps.exceptions import MapInputError


@dataclass(frozen=True)
class HotspotCell:
    """One grid cell: its centre, incidents inside it, and the kernel density there.

    ``density_per_km2`` is the Gaussian kernel density estimate (incidents per km²) at the centre.
    """

    center: LonLat
    count: int
    density_per_km2: float


def _validate(points: Sequence[LonLat]) -> np.ndarray:
    if not points:
        raise MapInputError("no incident location to map")
    arr = np.array([[p.lon, p.lat] for p in points], dtype=float)
    bad = ~np.isfinite(arr).all(axis=1) | (np.abs(arr[:, 1]) > 90) | (np.abs(arr[:, 0]) > 180)
    if bad.any():
        raise MapInputError(f"invalid coordinate at index {int(np.flatnonzero(bad)[0])}")
    return arr


def hotspot_grid(points: Sequence[LonLat], *, cell_m: float = 250.0,
                 bandwidth_m: float = 300.0) -> list[HotspotCell]:
    """Square cells of ``cell_m`` metres over the points, densest first (empty cells omitted).

    Parameters
    ----------
    points
        Incident locations (lon/lat, EPSG:4326).
    cell_m
        Cell side in metres.
    bandwidth_m
        Standard deviation of the Gaussian kernel in metres.
    """
    if not cell_m > 0 or not bandwidth_m > 0:
        raise MapInputError("cell_m and bandwidth_m must be positive")
    arr = _validate(points)
    lat0 = math.radians(float(arr[:, 1].mean()))
    lon0 = float(arr[:, 0].mean())
    x = np.radians(arr[:, 0] - lon0) * EARTH_RADIUS_M * math.cos(lat0)
    y = np.radians(arr[:, 1]) * EARTH_RADIUS_M
    ix = np.floor(x / cell_m).astype(np.int64)
    iy = np.floor(y / cell_m).astype(np.int64)
    cells, counts = np.unique(np.column_stack([ix, iy]), axis=0, return_counts=True)
    cx = (cells[:, 0] + 0.5) * cell_m
    cy = (cells[:, 1] + 0.5) * cell_m
    d2 = (cx[:, None] - x[None, :]) ** 2 + (cy[:, None] - y[None, :]) ** 2
    norm = 1.0 / (2 * math.pi * bandwidth_m**2)
    density = norm * np.exp(-d2 / (2 * bandwidth_m**2)).sum(axis=1) * 1e6
    lon = lon0 + np.degrees(cx / (EARTH_RADIUS_M * math.cos(lat0)))
    lat = np.degrees(cy / EARTH_RADIUS_M)
    order = np.lexsort((-counts, -density))
    return [HotspotCell(LonLat(float(lon[i]), float(lat[i])), int(counts[i]),
                        round(float(density[i]), 3)) for i in order]


def render_hotspot_map(points: Sequence[LonLat], *, cell_m: float = 250.0,
                       bandwidth_m: float = 300.0, top_cells: int = 10,
                       boundaries: Mapping[str, Any] | None = None, title: str = "",
                       tile_url: str = "", tile_attribution: str = "",
                       attribution: Sequence[str] | None = None,
                       static_base: str = STATIC_URL) -> str:
    """A standalone HTML page: heat layer of incidents and the ``top_cells`` densest cells."""
    cells = hotspot_grid(points, cell_m=cell_m, bandwidth_m=bandwidth_m)
    arr = _validate(points)
    fmap = offline_map(LonLat(float(arr[:, 0].mean()), float(arr[:, 1].mean())), zoom=13,
                       tile_url=tile_url, tile_attribution=tile_attribution,
                       attribution=attribution, static_base=static_base)
    add_boundaries(fmap, boundaries)
    heat = HeatMap([[p.lat, p.lon] for p in points], name="Kepadatan kejadian", radius=18,
                   blur=15, min_opacity=0.3)
    heat.default_js = [("leaflet-heat.js", asset_url(LEAFLET_HEAT_JS, static_base))]
    heat.add_to(fmap)
    half_lat = cell_m / 2 / EARTH_RADIUS_M * 180 / math.pi
    for rank, cell in enumerate(cells[:top_cells], start=1):
        half_lon = half_lat / math.cos(math.radians(cell.center.lat))
        folium.Rectangle(
            [[cell.center.lat - half_lat, cell.center.lon - half_lon],
             [cell.center.lat + half_lat, cell.center.lon + half_lon]],
            color="#b2182b", weight=1, fill=False,
            tooltip=(f"#{rank}: {cell.count} kejadian, {cell.density_per_km2:g} per km² / "
                     f"{cell.count} incidents"),
        ).add_to(fmap)
    if title:
        add_title(fmap, title)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap.get_root().render()
