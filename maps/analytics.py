"""Planner analytics pages: Gi* hot/cold spot classes as a choropleth (desa polygons or grid
cells) and a siting result (existing posts, proposed posts, uncovered demand).

Renders what it is given (GeoJSON and plain coordinates, WGS 84); computing the statistics is
``dispatch.analytics``'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium

from geo.types import LonLat
from maps.assets import STATIC_URL
from maps.base import add_boundaries, add_title, offline_map
from maps.exceptions import MapInputError

#: Gi* bin -> (fill colour, Bahasa Indonesia label, English label).
GI_CLASSES: dict[int, tuple[str, str, str]] = {
    3: ("#b2182b", "Titik panas 99%", "Hot spot 99% confidence"),
    2: ("#ef8a62", "Titik panas 95%", "Hot spot 95% confidence"),
    1: ("#fddbc7", "Titik panas 90%", "Hot spot 90% confidence"),
    0: ("#f7f7f7", "Tidak signifikan", "Not significant"),
    -1: ("#d1e5f0", "Titik dingin 90%", "Cold spot 90% confidence"),
    -2: ("#67a9cf", "Titik dingin 95%", "Cold spot 95% confidence"),
    -3: ("#2166ac", "Titik dingin 99%", "Cold spot 99% confidence"),
}


def _legend(fmap: folium.Map) -> None:
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{c};'
        f'border:1px solid #999;margin-right:4px"></span>{id_} / {en}</div>'
        for c, id_, en in GI_CLASSES.values()
    )
    html = (
        '<div style="position:fixed;bottom:20px;left:10px;z-index:9999;background:white;'
        f'padding:6px 8px;font:12px sans-serif;border:1px solid #999">{rows}</div>'
    )
    fmap.get_root().html.add_child(folium.Element(html))


def render_gi_map(
    features: Mapping[str, Any], *, center: LonLat, title: str = "",
    boundaries: Mapping[str, Any] | None = None, tile_url: str = "",
    tile_attribution: str = "", attribution: Sequence[str] | None = None,
    static_base: str = STATIC_URL,
) -> str:
    """A standalone HTML page colouring each feature by its ``gi_bin`` property (-3..3).

    ``features`` is a GeoJSON FeatureCollection; each feature's properties need ``gi_bin`` and
    may carry ``name``, ``count`` and ``z`` (shown in the tooltip).
    """
    feats = features.get("features") if isinstance(features, Mapping) else None
    if not feats:
        raise MapInputError("no area or cell to map / tidak ada wilayah atau sel untuk dipetakan")
    for i, f in enumerate(feats):
        b = (f.get("properties") or {}).get("gi_bin")
        if b not in GI_CLASSES:
            raise MapInputError(f"feature {i}: gi_bin must be -3..3, got {b!r}")
    fmap = offline_map(center, zoom=13, tile_url=tile_url, tile_attribution=tile_attribution,
                       attribution=attribution, static_base=static_base)
    add_boundaries(fmap, boundaries)
    folium.GeoJson(
        dict(features),
        name="Gi* (Getis-Ord)",
        style_function=lambda f: {
            "fillColor": GI_CLASSES[f["properties"]["gi_bin"]][0], "fillOpacity": 0.7,
            "color": "#666", "weight": 0.5,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[k for k in ("name", "count", "z", "gi_bin") if k in feats[0]["properties"]]
        ),
    ).add_to(fmap)
    _legend(fmap)
    if title:
        add_title(fmap, title)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap.get_root().render()


def render_siting_map(
    existing: Sequence[LonLat], proposed: Sequence[LonLat], gaps: Sequence[LonLat], *,
    title: str = "", boundaries: Mapping[str, Any] | None = None, tile_url: str = "",
    tile_attribution: str = "", attribution: Sequence[str] | None = None,
    static_base: str = STATIC_URL,
) -> str:
    """Existing posts (blue), proposed posts (red) and uncovered demand points (grey)."""
    every = [*existing, *proposed, *gaps]
    if not every:
        raise MapInputError("nothing to map / tidak ada yang dipetakan")
    center = LonLat(sum(p.lon for p in every) / len(every), sum(p.lat for p in every) / len(every))
    fmap = offline_map(center, zoom=13, tile_url=tile_url, tile_attribution=tile_attribution,
                       attribution=attribution, static_base=static_base)
    add_boundaries(fmap, boundaries)
    layers = (
        (existing, "#2166ac", 7, "Pos eksisting / existing post"),
        (proposed, "#b2182b", 8, "Pos usulan / proposed post"),
        (gaps, "#636363", 3, "Permintaan tak terjangkau / uncovered demand"),
    )
    for points, colour, radius, label in layers:
        group = folium.FeatureGroup(name=label)
        for p in points:
            folium.CircleMarker([p.lat, p.lon], radius=radius, color=colour, fill=True,
                                fill_opacity=0.8, tooltip=label).add_to(group)
        group.add_to(fmap)
    if title:
        add_title(fmap, title)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap.get_root().render()
