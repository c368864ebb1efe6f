"""The dispatcher console page (Leaflet + ``static/console.js``), rendered from a template."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import jinja2

from geo.types import LonLat
from maps.assets import STATIC_URL, TEMPLATE_DIR
from maps.attribution import MAP_ATTRIBUTION
from maps.i18n import (
    CALL_KINDS,
    CATEGORIES,
    CHANNELS,
    DEFAULT_LANGUAGE,
    STATUS_COLOURS,
    STRINGS,
    strings,
)
from maps.timezone import zone_for_code


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console page needs to start (no secrets: the page is public until login).

    ``boundary_urls`` are GeoJSON URLs drawn as outlines (kelurahan first, then coarser levels);
    ``roads_url`` a GeoJSON of road lines (optional).
    """

    kode_kab: str
    center: LonLat
    region_name: str = ""
    zoom: int = 13
    tile_url: str = ""
    tile_attribution: str = ""
    boundary_urls: Sequence[str] = field(default_factory=tuple)
    roads_url: str = ""
    attribution: str = MAP_ATTRIBUTION
    default_language: str = DEFAULT_LANGUAGE


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]))


def _json_for_script(value: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` breakout)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def render_console(config: ConsoleConfig, *, lang: str | None = None,
                   static_base: str = STATIC_URL) -> str:
    """HTML of the console for ``config`` in ``lang`` (``id`` default, ``en``)."""
    lang = lang if lang in STRINGS else config.default_language
    zone = zone_for_code(config.kode_kab)
    payload = {
        "kode_kab": config.kode_kab,
        "region_name": config.region_name,
        "center": {"lon": config.center.lon, "lat": config.center.lat},
        "zoom": config.zoom,
        "tile_url": config.tile_url,
        "tile_attribution": config.tile_attribution,
        "boundary_urls": list(config.boundary_urls),
        "roads_url": config.roads_url,
        "attribution": config.attribution,
        "default_language": lang,
        "strings": STRINGS,
        "zone": {"label": zone.label, "iana": zone.iana, "utc_offset_h": zone.utc_offset_h},
        "status_colours": STATUS_COLOURS,
        "categories": CATEGORIES,
    }
    return _env().get_template("console.html").render(
        lang=lang, t=strings(lang), static=static_base.rstrip("/"), categories=CATEGORIES,
        channels=CHANNELS, call_kinds=CALL_KINDS, attribution=config.attribution,
        config_json=_json_for_script(payload))
