"""Pictures of the monthly report, drawn with matplotlib's Agg canvas (no pyplot, no display):
the response-time distribution and a map of incidents by kecamatan. PNG bytes out."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator
from shapely.geometry import MultiPolygon, Polygon

from dispatch.reporting.model import KecamatanArea, Lang, label

_DPI = 150


def response_histogram(response_s: Sequence[float], lang: Lang = "id",
                       limit_min: float | None = None) -> bytes:
    """Histogram of response times in minutes (2-minute bins), with the SLA limit as a line."""
    fig = Figure(figsize=(6.4, 3.2), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = [s / 60.0 for s in response_s]
    if values:
        top = max(values)
        edges = [2.0 * i for i in range(int(math.ceil(max(top, 1.0) / 2.0)) + 1)]
        if len(edges) < 2:
            edges = [0.0, 2.0]
        ax.hist(values, bins=edges, color="#2b6cb0", edgecolor="white")
        if limit_min is not None:
            ax.axvline(limit_min, color="#c53030", linestyle="--", linewidth=1.5,
                       label=f"{label('sla_limit', lang)} {limit_min:g} {label('minutes', lang)}")
            ax.legend(loc="best", fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, label("no_data", lang), ha="center", va="center",
                transform=ax.transAxes)
    ax.set_title(label("distribution", lang))
    ax.set_xlabel(label("minutes", lang))
    ax.set_ylabel(label("responses", lang))
    fig.tight_layout()
    return _png(fig)


def kecamatan_map(areas: Sequence[KecamatanArea], lang: Lang = "id") -> bytes:
    """Kecamatan polygons shaded by incident count (darker = more), each labelled with its
    name and count. Longitude/latitude axes, aspect corrected for the latitude."""
    fig = Figure(figsize=(6.4, 5.6), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    peak = max((a.count for a in areas), default=0)
    cmap = colormaps["OrRd"]
    for area in areas:
        share = area.count / peak if peak else 0.0
        color = cmap(0.12 + 0.78 * share)
        for poly in _polygons(area.geom):
            ax.add_patch(PathPatch(_path(poly), facecolor=color, edgecolor="#333333",
                                   linewidth=0.6))
        p = area.geom.representative_point()
        ax.annotate(f"{area.nama_kec}\n{area.count}", (p.x, p.y), ha="center", va="center",
                    fontsize=6)
    if areas:
        minx = min(a.geom.bounds[0] for a in areas)
        miny = min(a.geom.bounds[1] for a in areas)
        maxx = max(a.geom.bounds[2] for a in areas)
        maxy = max(a.geom.bounds[3] for a in areas)
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.set_aspect(1.0 / max(math.cos(math.radians((miny + maxy) / 2.0)), 0.1))
    else:
        ax.text(0.5, 0.5, label("no_data", lang), ha="center", va="center",
                transform=ax.transAxes)
    ax.set_title(label("map", lang))
    ax.tick_params(labelsize=6)
    fig.tight_layout()
    return _png(fig)


def _polygons(geom: object) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return []


def _path(poly: Polygon) -> Path:
    """A matplotlib path of a polygon with its holes."""
    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for ring in [poly.exterior, *poly.interiors]:
        coords = list(ring.coords)
        verts += coords
        codes += ([int(Path.MOVETO)] + [int(Path.LINETO)] * (len(coords) - 2)
                  + [int(Path.CLOSEPOLY)])
    return Path(verts, codes)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()
