"""Offline map assets: vendored Leaflet and plugins served by the app, never from a CDN.

Vendored under ``maps/static/vendor/<lib>/`` with their LICENSE files (see README.txt there).
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: URL path under which :data:`STATIC_DIR` is served by the API.
STATIC_URL = "/static"

LEAFLET_JS = "vendor/leaflet/leaflet.js"
LEAFLET_CSS = "vendor/leaflet/leaflet.css"
LEAFLET_HEAT_JS = "vendor/leaflet.heat/leaflet-heat.js"

VENDORED = {
    "leaflet": ("1.9.4", "BSD-2-Clause", "vendor/leaflet/LICENSE"),
    "leaflet.heat": ("0.2.0", "BSD-2-Clause", "vendor/leaflet.heat/LICENSE"),
}


def asset_url(relative: str, base: str = STATIC_URL) -> str:
    """URL of a static asset (``vendor/leaflet/leaflet.js`` → ``/static/vendor/...``)."""
    return f"{base.rstrip('/')}/{relative.lstrip('/')}"


def resolve_static(relative: str) -> Path | None:
    """The file under :data:`STATIC_DIR` for a request path, or ``None`` (missing/traversal)."""
    root = STATIC_DIR.resolve()
    candidate = (root / relative).resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None
    return candidate
