"""Coverage map for the Bupati's office: the road area reachable within T minutes of the posts.

The isochrone polygons come from the routing engine (``RoutingIndex.isochrone``) and are passed in
by the caller; this module only measures and draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import shapely
from shapely.geometry import mapping, shape

from geo.types import LonLat
from maps.base import add_boundaries, add_title, offline_map
from maps.exceptions import MapInputError

#: Fill colours from the shortest to the longest band.
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


@dataclass(frozen=True)
class CoverageBand:
    """Area reachable within ``minutes`` (a lon/lat polygon, shapely or GeoJSON mapping)."""

    minutes: float
    geometry: Any


@dataclass(frozen=True)
class Station:
    """A post or station drawn on the map."""

    label: str
    position: LonLat


@dataclass(frozen=True)
class AreaCoverage:
    """Share of one administrative area inside a band (0..1, by area in lon/lat)."""

    code: str
    name: str
    minutes: float
    covered_share: float


def _geom(value: Any) -> shapely.Geometry:
    geom = shape(value) if isinstance(value, Mapping) else value
    if not isinstance(geom, shapely.Geometry) or geom.is_empty:
        raise MapInputError("coverage band geometry is empty or not a geometry")
    return geom


def _bands(bands: Sequence[CoverageBand]) -> list[CoverageBand]:
    if not bands:
        raise MapInputError("no coverage band to draw")
    for band in bands:
        if not band.minutes > 0:
            raise MapInputError(f"band minutes must be positive, got {band.minutes}")
    return sorted(bands, key=lambda b: b.minutes)


def coverage_by_area(bands: Sequence[CoverageBand], areas: Mapping[str, Any],
                     *, code_field: str = "kode_desa", name_field: str = "nama_desa"
                     ) -> list[AreaCoverage]:
    """For each area of a FeatureCollection and each band, the share of its area covered.

    Shares are ratios of areas in lon/lat degrees, accurate to well under 1 % at the size of a
    kelurahan near the equator.
    """
    out: list[AreaCoverage] = []
    geoms = [(f.get("properties") or {}, shape(f["geometry"])) for f in areas.get("features", [])]
    for band in _bands(bands):
        reach = _geom(band.geometry)
        for props, geom in geoms:
            share = geom.intersection(reach).area / geom.area if geom.area > 0 else 0.0
            out.append(AreaCoverage(code=str(props.get(code_field, "")),
                                    name=str(props.get(name_field, "")),
                                    minutes=band.minutes, covered_share=round(share, 4)))
    return out


def render_coverage_map(bands: Sequence[CoverageBand], stations: Sequence[Station], *,
                        boundaries: Mapping[str, Any] | None = None, title: str = "",
                        tile_url: str = "", tile_attribution: str = "",
                        attribution: Sequence[str] | None = None,
                        static_base: str = "/static") -> str:
    """A standalone HTML page: coverage bands (longest underneath), stations, boundaries."""
    ordered = _bands(bands)
    union = shapely.union_all([_geom(b.geometry) for b in ordered])
    c = union.centroid
    fmap = offline_map(LonLat(c.x, c.y), zoom=13, tile_url=tile_url,
                       tile_attribution=tile_attribution, attribution=attribution,
                       static_base=static_base)
    add_boundaries(fmap, boundaries)
    for i, band in reversed(list(enumerate(ordered))):
        colour = BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)]
        folium.GeoJson(
            {"type": "Feature", "geometry": mapping(_geom(band.geometry)),
             "properties": {"minutes": band.minutes}},
            name=f"≤ {band.minutes:g} menit",
            style_function=lambda _f, colour=colour: {"color": colour, "weight": 1,
                                                      "fillColor": colour, "fillOpacity": 0.35},
            tooltip=f"Terjangkau ≤ {band.minutes:g} menit / reachable within {band.minutes:g} min",
        ).add_to(fmap)
    for st in stations:
        folium.CircleMarker([st.position.lat, st.position.lon], radius=6, color="#000",
                            fill=True, fill_color="#2b83ba", fill_opacity=1,
                            tooltip=st.label).add_to(fmap)
    if title:
        add_title(fmap, title)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap.get_root().render()
