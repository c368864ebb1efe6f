"""The Bupati's dashboard page: KPI tiles, response time by kecamatan (choropleth), coverage of
the desa from the posts, and the gap list; printable (A4 landscape), Bahasa Indonesia by default.

Renders what it is given (plain values and GeoJSON, WGS 84); the figures come from the dispatch
services through the route.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Element

from geo.types import LonLat
from maps.assets import STATIC_URL
from maps.base import add_boundaries, offline_map
from maps.exceptions import MapInputError

#: Mean response minutes → colour (upper bound of each class, last open-ended).
RESPONSE_CLASSES: tuple[tuple[float, str], ...] = (
    (10.0, "#1a9850"), (15.0, "#91cf60"), (30.0, "#fee08b"), (60.0, "#fc8d59"),
    (float("inf"), "#d73027"))
NO_DATA = "#d9d9d9"
#: Covered share → colour.
COVER_CLASSES: tuple[tuple[float, str], ...] = (
    (0.25, "#f7fbff"), (0.5, "#c6dbef"), (0.75, "#6baed6"), (0.9999, "#2171b5"),
    (float("inf"), "#08306b"))
COVER_LABELS = ("≤ 25%", "≤ 50%", "≤ 75%", "< 100%", "100%")

TEXT = {
    "id": {
        "calls": "Panggilan", "non_incident": "Panggilan non-kejadian",
        "emergencies": "Kedaruratan", "complaints": "Pengaduan",
        "mean": "Rata-rata respons", "p90": "Respons p90", "sla": "Kepatuhan SLA",
        "covered": "Penduduk terjangkau", "minutes": "menit", "no_data": "tidak ada data",
        "response_layer": "Waktu respons per kecamatan (rata-rata, menit)",
        "cover_layer": "Cakupan desa dari pos (porsi dalam batas SLA)",
        "posts": "Pos", "gaps": "Daftar kesenjangan: desa dengan penduduk tak terjangkau",
        "desa": "Desa/kelurahan", "kecamatan": "Kecamatan", "uncovered": "Tak terjangkau",
        "nearest": "Pos terdekat", "eta": "Waktu tempuh", "estimate": "perkiraan",
        "print": "Cetak", "population_estimated": "Penduduk desa diperkirakan dari kecamatan "
                                                  "(dibagi menurut luas).",
        "eta_estimate": "Waktu tempuh diperkirakan (garis lurus, belum ada jaringan jalan).",
        "none": "Tidak ada kesenjangan.",
    },
    "en": {
        "calls": "Calls", "non_incident": "Non-incident calls", "emergencies": "Emergencies",
        "complaints": "Complaints",
        "mean": "Mean response", "p90": "p90 response", "sla": "SLA compliance",
        "covered": "Population covered", "minutes": "min", "no_data": "no data",
        "response_layer": "Response time by kecamatan (mean, minutes)",
        "cover_layer": "Desa coverage from the posts (share within the SLA)",
        "posts": "Posts", "gaps": "Gap list: desa with population out of reach",
        "desa": "Desa/kelurahan", "kecamatan": "Kecamatan", "uncovered": "Uncovered",
        "nearest": "Nearest post", "eta": "Travel time", "estimate": "estimate",
        "print": "Print", "population_estimated": "Desa population estimated from the "
                                                   "kecamatan (spread by area).",
        "eta_estimate": "Travel times are estimates (straight line, no road network).",
        "none": "No gaps.",
    },
}


@dataclass(frozen=True)
class Tile:
    key: str
    value: str


def _colour(value: float | None, classes: Sequence[tuple[float, str]]) -> str:
    if value is None:
        return NO_DATA
    return next(c for bound, c in classes if value <= bound)


def bounds(*collections: Mapping[str, Any]) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of every coordinate in the collections."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for part in c:
                walk(part)

    for fc in collections:
        for f in fc.get("features") or ():
            walk((f.get("geometry") or {}).get("coordinates") or [])
    return [[min(ys), min(xs)], [max(ys), max(xs)]] if xs else None


def _legend(title: str, rows: Sequence[tuple[str, str]], css_class: str) -> str:
    items = "".join(
        f'<div><span class="swatch" style="background:{c}"></span>{html.escape(t)}</div>'
        for c, t in rows)
    return f'<div class="legend {css_class}"><b>{html.escape(title)}</b>{items}</div>'


_STYLE = """
<style>
.siaga-dash{position:fixed;top:8px;right:8px;z-index:1000;width:360px;max-height:96vh;
 overflow:auto;background:#fff;font:13px sans-serif;padding:8px;border:1px solid #999}
.siaga-dash h1{font-size:16px;margin:0 0 6px}
.tiles{display:grid;grid-template-columns:repeat(2,1fr);gap:4px;margin-bottom:6px}
.tile{border:1px solid #bbb;padding:4px 6px}.tile .v{font-size:18px;font-weight:bold}
.tile .k{font-size:11px;color:#444}
.legend{margin:6px 0}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;
 border:1px solid #999;vertical-align:middle}
table.gaps{border-collapse:collapse;width:100%;font-size:11px}
table.gaps td,table.gaps th{border-bottom:1px solid #ddd;padding:2px;text-align:left}
.note{font-size:11px;color:#7a4b00}
@media print{@page{size:A4 landscape;margin:8mm}.siaga-dash{position:static;width:auto;
 max-height:none;border:none}.print-button{display:none}
 .folium-map{height:120mm!important;width:100%!important;position:relative!important}}
</style>"""


def render_dashboard(
    *, title: str, tiles: Sequence[Tile], kecamatan: Mapping[str, Any],
    coverage: Mapping[str, Any], posts: Sequence[tuple[str, LonLat]],
    gaps: Sequence[Mapping[str, Any]], center: LonLat, lang: str = "id",
    population_estimated: bool = False, eta_estimated: bool = False,
    boundaries: Mapping[str, Any] | None = None, tile_url: str = "",
    tile_attribution: str = "", attribution: Sequence[str] | None = None,
    static_base: str = STATIC_URL,
) -> str:
    """A standalone HTML page.

    ``kecamatan``: FeatureCollection whose properties carry ``nama_kec`` and ``mean_min``
    (``None``: no emergency with an arrival); ``coverage``: FeatureCollection of desa with
    ``nama_desa`` and ``covered_share``; ``gaps``: rows with ``nama_desa``, ``nama_kec``,
    ``uncovered_population``, ``serving_post`` and ``nearest_minutes``.
    """
    t = TEXT.get(lang)
    if t is None:
        raise MapInputError(f"language must be id or en, got {lang!r}")
    if not kecamatan.get("features") and not coverage.get("features"):
        raise MapInputError("nothing to map / tidak ada yang dipetakan")
    fmap = offline_map(center, zoom=11, tile_url=tile_url, tile_attribution=tile_attribution,
                       attribution=attribution, static_base=static_base)
    add_boundaries(fmap, boundaries)
    folium.GeoJson(
        dict(kecamatan), name=t["response_layer"],
        style_function=lambda f: {"fillColor": _colour(f["properties"].get("mean_min"),
                                                       RESPONSE_CLASSES),
                                  "fillOpacity": 0.65, "color": "#444", "weight": 1},
        tooltip=folium.GeoJsonTooltip(fields=["nama_kec", "mean_min", "emergencies"]),
    ).add_to(fmap)
    folium.GeoJson(
        dict(coverage), name=t["cover_layer"], show=False,
        style_function=lambda f: {"fillColor": _colour(f["properties"].get("covered_share"),
                                                       COVER_CLASSES),
                                  "fillOpacity": 0.6, "color": "#666", "weight": 0.5},
        tooltip=folium.GeoJsonTooltip(fields=["nama_desa", "covered_share"]),
    ).add_to(fmap)
    group = folium.FeatureGroup(name=t["posts"])
    for name, at in posts:
        folium.CircleMarker([at.lat, at.lon], radius=6, color="#000", fill=True,
                            fill_color="#ffffff", fill_opacity=1, tooltip=name).add_to(group)
    group.add_to(fmap)
    folium.LayerControl(collapsed=True, position="topleft").add_to(fmap)
    box = bounds(kecamatan, coverage)
    if box:
        # leave room on the right for the panel
        fmap.fit_bounds(box, padding_top_left=(10, 10), padding_bottom_right=(380, 10))

    tile_html = "".join(
        f'<div class="tile" data-kpi="{html.escape(x.key)}"><div class="v">'
        f'{html.escape(x.value)}</div><div class="k">{html.escape(t[x.key])}</div></div>'
        for x in tiles)
    limits = [b for b, _ in RESPONSE_CLASSES]
    response_rows = [(c, f"≤ {b:g} {t['minutes']}" if b != float("inf")
                      else f"> {limits[-2]:g} {t['minutes']}") for b, c in RESPONSE_CLASSES]
    response_rows.append((NO_DATA, t["no_data"]))
    cover_rows = [(c, label) for (_, c), label in zip(COVER_CLASSES, COVER_LABELS, strict=True)]
    gap_rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(str(g.get("nama_desa", ""))), html.escape(str(g.get("nama_kec", ""))),
            "—" if g.get("uncovered_population") is None
            else f"{g['uncovered_population']:,.0f}",
            html.escape(str(g.get("serving_post") or "—")),
            "—" if g.get("nearest_minutes") is None
            else f"{g['nearest_minutes']:.0f} {t['minutes']}")
        for g in gaps)
    notes = "".join(f'<p class="note">{html.escape(t[k])}</p>' for k, on in
                    (("population_estimated", population_estimated),
                     ("eta_estimate", eta_estimated)) if on)
    panel = (
        f'{_STYLE}<div class="siaga-dash" lang="{lang}"><h1>{html.escape(title)}</h1>'
        f'<button class="print-button" onclick="window.print()">{t["print"]}</button>'
        f'<div class="tiles">{tile_html}</div>'
        f'{_legend(t["response_layer"], response_rows, "legend-response")}'
        f'{_legend(t["cover_layer"], cover_rows, "legend-coverage")}{notes}'
        f'<h2 style="font-size:13px">{html.escape(t["gaps"])}</h2>'
        + (f'<table class="gaps"><tr><th>{t["desa"]}</th><th>{t["kecamatan"]}</th>'
           f'<th>{t["uncovered"]}</th><th>{t["nearest"]}</th><th>{t["eta"]}</th></tr>'
           f'{gap_rows}</table>' if gaps else f'<p>{t["none"]}</p>')
        + '</div>')
    fmap.get_root().html.add_child(Element(panel))  # type: ignore[attr-defined]
    return fmap.get_root().render()
