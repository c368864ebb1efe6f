"""The Perbup SLA rules page of the console: the rules in force, the versions, and an editor
that stores a new version (``static/rules.js`` sends it to ``PUT /api/v1/rules/{kode_kab}``).

Renders what it is given (the JSON of the rules routes); Bahasa Indonesia by default, English
available.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jinja2

from maps.assets import STATIC_URL, TEMPLATE_DIR

TEXT: dict[str, dict[str, str]] = {
    "id": {
        "title": "Aturan SLA (Perbup)", "in_force": "Berlaku sekarang", "version": "Versi",
        "effective": "Berlaku sejak", "reference": "Dasar hukum", "agency": "Instansi",
        "scope": "Kategori / jenis", "start": "Jam mulai", "limit": "Batas (menit)",
        "judge": "Dinilai per", "ack": "Terima (menit)", "default": "semua lainnya",
        "all": "semua", "received": "laporan diterima", "notified": "instansi diberi tahu",
        "each": "kejadian", "mean": "rata-rata", "p90": "persentil 90",
        "versions": "Riwayat versi", "created": "Dibuat", "by": "Oleh", "rules": "Aturan",
        "edit": "Versi baru", "save": "Simpan sebagai versi baru", "none": "Belum ada aturan.",
        "hint": "Ubah JSON di bawah (effective_from dengan zona waktu). Dokumen diperiksa utuh: "
                "satu kesalahan menolak seluruhnya; versi lama tetap tersimpan.",
        "language": "English", "console": "Kembali ke konsol",
    },
    "en": {
        "title": "SLA rules (Perbup)", "in_force": "In force now", "version": "Version",
        "effective": "Effective from", "reference": "Legal basis", "agency": "Agency",
        "scope": "Category / kind", "start": "Clock starts", "limit": "Limit (min)",
        "judge": "Judged on", "ack": "Acknowledge (min)", "default": "everything else",
        "all": "all", "received": "report received", "notified": "agency notified",
        "each": "each incident", "mean": "average", "p90": "90th percentile",
        "versions": "Versions", "created": "Created", "by": "By", "rules": "Rules",
        "edit": "New version", "save": "Store as a new version", "none": "No rules yet.",
        "hint": "Edit the JSON below (effective_from with a time zone). The document is checked "
                "whole: one mistake refuses all of it; older versions stay stored.",
        "language": "Bahasa Indonesia", "console": "Back to the console",
    },
}


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]))


def render_rules_page(*, kode_kab: str, rule_set: Mapping[str, Any] | None,
                      versions: Sequence[Mapping[str, Any]], lang: str = "id",
                      static_base: str = STATIC_URL) -> str:
    """HTML of the page; ``rule_set`` is the JSON of ``GET /api/v1/rules/{kode_kab}``."""
    lang = lang if lang in TEXT else "id"
    draft: dict[str, Any] = {"effective_from": "", "reference": "",
                             "default": {"start": "notified", "limit_min": 30, "judge": "each"},
                             "rules": []}
    if rule_set is not None:
        draft = {k: rule_set[k] for k in ("effective_from", "reference", "default", "rules")}
    rows = [] if rule_set is None else [dict(rule_set["default"], is_default=True),
                                         *rule_set["rules"]]
    return _env().get_template("rules.html").render(
        lang=lang, other_lang="en" if lang == "id" else "id", t=TEXT[lang], kode_kab=kode_kab,
        rule_set=rule_set, rows=rows, versions=versions,
        draft=json.dumps(draft, ensure_ascii=False, indent=2), static=static_base.rstrip("/"))
