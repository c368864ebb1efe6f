"""The printable shift handover page (``/console/handover``): renders the JSON of
``GET /api/v1/handover`` in Bahasa Indonesia (default) or English, times in the regency's zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jinja2

from maps.assets import STATIC_URL, TEMPLATE_DIR
from maps.i18n import STRINGS, strings
from maps.timezone import zone_for_code


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]))


def duration_text(seconds: float | None) -> str:
    """``h:mm`` (or ``m:ss`` under an hour) of a duration in seconds, signed; ``–`` for none."""
    if seconds is None:
        return "–"
    sign, s = ("-" if seconds < 0 else ""), int(round(abs(seconds)))
    if s >= 3600:
        return f"{sign}{s // 3600}:{s % 3600 // 60:02d} h"
    return f"{sign}{s // 60}:{s % 60:02d}"


def render_handover_page(handover: Mapping[str, Any], *, lang: str = "id",
                         static_base: str = STATIC_URL) -> str:
    """HTML of the handover ``handover`` (the API's JSON, with ``kode_kab``)."""
    lang = lang if lang in STRINGS else "id"
    zone = zone_for_code(handover["kode_kab"])
    offset = timedelta(hours=zone.utc_offset_h)

    def local(iso: str | None) -> str:
        if not iso:
            return "–"
        at = datetime.fromisoformat(iso) + offset
        return f"{at:%d-%m-%Y %H:%M} {zone.label}"

    return _env().get_template("handover.html").render(
        lang=lang, other_lang="en" if lang == "id" else "id", t=strings(lang), h=handover,
        local=local, dur=duration_text, static=static_base.rstrip("/"))
