"""The printable incident sheet: everything an agency (OPD) needs on paper, from the plain data
the API gathers (incident, agencies, assignments, SOP checklist, notes, timeline)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from maps.assets import TEMPLATE_DIR
from maps.i18n import STRINGS, strings
from maps.timezone import zone_for_code


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]))


def _local(iso: str | None, kode_kab: str) -> str:
    """``iso`` (UTC) as the regency's local time, e.g. ``17-08-2026 09:05:12 WIB``."""
    if not iso:
        return ""
    zone = zone_for_code(kode_kab)
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(zone.iana))
    return f"{moment:%d-%m-%Y %H:%M:%S} {zone.label}"


def render_sheet(data: Mapping[str, Any], *, lang: str = "id") -> str:
    """HTML of the sheet in ``lang`` (``id``, ``en``), laid out for A4 printing."""
    lang = lang if lang in STRINGS else "id"
    t = strings(lang)
    kab = str(data.get("kode_kab", ""))
    return _env().get_template("incident_sheet.html").render(
        lang=lang, t=t, i=data, when=lambda iso: _local(iso, kab),
        category=t.get(f"cat_{data.get('category')}", data.get("category")),
        status=t.get(f"inc_{data.get('status')}", data.get("status")),
        channel=t.get(f"ch_{data.get('channel')}", data.get("channel")))
