"""The registry admin page: the regency's posts, units and trackers, with upload forms for the
CSV/GeoJSON files (``static/registry.js`` posts the chosen file to the import routes).

Renders what it is given (plain rows); Bahasa Indonesia by default, English available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jinja2

from maps.assets import STATIC_URL, TEMPLATE_DIR

TEXT: dict[str, dict[str, str]] = {
    "id": {
        "title": "Registri armada", "posts": "Pos dan markas", "units": "Unit",
        "trackers": "Pelacak GPS", "unknown": "Pelacak belum terdaftar (terlihat oleh ingest)",
        "name": "Nama", "agency": "Instansi", "kind": "Jenis", "address": "Alamat",
        "location": "Lokasi (lon, lat)", "call_sign": "Kode panggil", "vehicle": "Kendaraan",
        "profile": "Profil", "capabilities": "Kemampuan", "home_post": "Pos asal",
        "crew": "Awak", "status": "Status", "tracker": "Pelacak", "protocol": "Protokol",
        "device": "Id pelacak", "unit": "Unit", "last_seen": "Terakhir terlihat",
        "login": "Login MQTT", "yes": "ya", "no": "belum", "revoked": "dicabut",
        "import_posts": "Impor pos (CSV atau GeoJSON)",
        "import_units": "Impor unit (CSV atau GeoJSON)", "upload": "Unggah",
        "export": "Ekspor", "none": "Belum ada data.", "language": "English",
        "hint": "Berkas diperiksa utuh: satu baris salah menolak seluruh berkas. "
                "Impor pos lebih dulu, lalu unit.",
        "console": "Kembali ke konsol",
    },
    "en": {
        "title": "Fleet registry", "posts": "Posts and bases", "units": "Units",
        "trackers": "GPS trackers", "unknown": "Unregistered trackers (seen by ingest)",
        "name": "Name", "agency": "Agency", "kind": "Kind", "address": "Address",
        "location": "Location (lon, lat)", "call_sign": "Call sign", "vehicle": "Vehicle",
        "profile": "Profile", "capabilities": "Capabilities", "home_post": "Home post",
        "crew": "Crew", "status": "Status", "tracker": "Tracker", "protocol": "Protocol",
        "device": "Tracker id", "unit": "Unit", "last_seen": "Last seen",
        "login": "MQTT login", "yes": "yes", "no": "not yet", "revoked": "revoked",
        "import_posts": "Import posts (CSV or GeoJSON)",
        "import_units": "Import units (CSV or GeoJSON)", "upload": "Upload",
        "export": "Export", "none": "Nothing yet.", "language": "Bahasa Indonesia",
        "hint": "Files are checked whole: one bad row refuses the whole file. "
                "Import posts first, then units.",
        "console": "Back to the console",
    },
}


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                              autoescape=jinja2.select_autoescape(["html"]))


def render_registry_page(*, posts: Sequence[Mapping[str, Any]],
                         units: Sequence[Mapping[str, Any]],
                         trackers: Sequence[Mapping[str, Any]], lang: str = "id",
                         kode_kab: str | None = None, static_base: str = STATIC_URL) -> str:
    """HTML of the page; rows are the JSON objects of the registry routes."""
    lang = lang if lang in TEXT else "id"
    query = f"&kode_kab={kode_kab}" if kode_kab else ""
    return _env().get_template("registry.html").render(
        lang=lang, other_lang="en" if lang == "id" else "id", t=TEXT[lang], posts=posts,
        units=units, registered=[t for t in trackers if t.get("registered") or t.get("revoked_at")],
        unknown=[t for t in trackers if not t.get("registered") and not t.get("revoked_at")],
        query=query, static=static_base.rstrip("/"))
