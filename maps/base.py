"""A folium map that works offline: vendored Leaflet, optional tiles, attribution always shown."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
from branca.element import Element

from geo.types import LonLat
from maps.assets import LEAFLET_CSS, LEAFLET_JS, STATIC_URL, asset_url
from maps.attribution import attribution_html

BOUNDARY_STYLE = {"color": "#555555", "weight": 1.2, "fillOpacity": 0.0, "dashArray": "3 3"}


def offline_map(center: LonLat, *, zoom: int = 13, tile_url: str = "",
                tile_attribution: str = "", attribution: Sequence[str] | None = None,
                static_base: str = STATIC_URL) -> folium.Map:
    """A folium map loading Leaflet from the app, never from a CDN.

    Parameters
    ----------
    center
        Map centre (lon/lat, EPSG:4326).
    tile_url
        XYZ tile template; empty → no base tiles (vector layers only, fully offline).
    attribution
        Lines shown in the map corner (data licences); default: the short Siaga attribution.
    static_base
        URL path where ``maps/static`` is served.
    """
    fmap = folium.Map(location=[center.lat, center.lon], zoom_start=zoom, tiles=None,
                      control_scale=True, prefer_canvas=True)
    fmap.default_js = [("leaflet", asset_url(LEAFLET_JS, static_base))]
    fmap.default_css = [("leaflet_css", asset_url(LEAFLET_CSS, static_base))]
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=tile_attribution or "tiles", name="tiles",
                         control=False).add_to(fmap)
    text = attribution_html(attribution)
    _root_html(fmap).add_child(Element(
        f'<div class="siaga-attribution" style="position:fixed;bottom:0;left:0;z-index:1000;'
        f'background:rgba(255,255,255,.85);font:11px sans-serif;padding:2px 6px">{text}</div>'))
    return fmap


def _root_html(fmap: folium.Map) -> Any:
    """The ``<body>`` element of the map's figure (branca types it loosely)."""
    return fmap.get_root().html  # type: ignore[attr-defined]


def add_boundaries(fmap: folium.Map, geojson: Mapping[str, Any] | None, *,
                   name: str = "Batas wilayah", label_field: str = "nama_desa") -> None:
    """Draw administrative boundaries (a GeoJSON FeatureCollection) as an outline layer."""
    if not geojson or not geojson.get("features"):
        return
    fields = [label_field] if label_field in (geojson["features"][0].get("properties") or {}) \
        else None
    folium.GeoJson(geojson, name=name, style_function=lambda _f: BOUNDARY_STYLE,
                   tooltip=folium.GeoJsonTooltip(fields=fields, labels=False) if fields else None
                   ).add_to(fmap)


def add_title(fmap: folium.Map, title: str) -> None:
    """A fixed, HTML-escaped title box in the top-left corner."""
    _root_html(fmap).add_child(Element(
        '<div class="siaga-title" style="position:fixed;top:8px;left:50px;z-index:1000;'
        f'background:#fff;padding:4px 8px;font:bold 14px sans-serif">{html.escape(title)}</div>'))
