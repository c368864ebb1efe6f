"""The console page: offline assets only, both languages complete, local time zones."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from geo.types import LonLat
from maps.assets import STATIC_DIR, VENDORED, resolve_static
from maps.console import ConsoleConfig, render_console
from maps.i18n import CATEGORIES, STRINGS
from maps.timezone import WIB, WIT, WITA, zone_for_code


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"])
        if tag in ("img", "iframe") and a.get("src"):
            self.refs.append(a["src"])


def external_refs(html: str) -> list[str]:
    """Script, stylesheet, image and frame URLs that leave the server (absolute http(s) or //)."""
    parser = _Refs()
    parser.feed(html)
    return [r for r in parser.refs if re.match(r"^(https?:)?//", r)]


def _cfg(**kw) -> ConsoleConfig:
    return ConsoleConfig(kode_kab="34.71", center=LonLat(110.3695, -7.8014),
                         boundary_urls=("/api/v1/regions/34.71/desa.geojson",), **kw)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_console_references_no_external_url(lang):
    html = render_console(_cfg(), lang=lang)
    refs = _Refs()
    refs.feed(html)
    assert "/static/vendor/leaflet/leaflet.js" in refs.refs
    assert "/static/console.js" in refs.refs
    assert external_refs(html) == []
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    for ref in refs.refs:
        assert resolve_static(ref.removeprefix("/static/")) is not None, ref  # served by the app


def test_console_language_and_attribution():
    html_id = render_console(_cfg(), lang="id")
    html_en = render_console(_cfg(), lang="en")
    assert '<html lang="id">' in html_id and "Buat kejadian" in html_id
    assert '<html lang="en">' in html_en and "Create incident" in html_en
    for html in (html_id, html_en):
        assert "BPS/OCHA COD-AB (CC BY-IGO)" in html
        assert "Kemendagri" in html and "OpenStreetMap contributors (ODbL)" in html


def test_both_languages_define_every_string():
    assert set(STRINGS["id"]) == set(STRINGS["en"])
    assert all(v.strip() for lang in STRINGS.values() for v in lang.values())
    assert {"fire", "flood", "landslide", "medical", "traffic_accident"} <= set(CATEGORIES)


def test_config_json_cannot_break_out_of_the_script_element():
    html = render_console(_cfg(tile_attribution="</script><script>alert(1)</script>"))
    assert "</script><script>alert(1)" not in html
    # one inline element (the config JSON); every other script is a file of the app
    inline = [tag for tag in re.findall(r"<script[^>]*>", html) if " src=" not in tag]
    assert inline == ['<script id="siaga-config" type="application/json">']


def test_tile_url_is_passed_only_when_configured():
    assert '"tile_url": ""' in render_console(_cfg())
    html = render_console(_cfg(tile_url="http://tiles.local/{z}/{x}/{y}.png"))
    assert "http://tiles.local/{z}/{x}/{y}.png" in html
    assert external_refs(html) == []  # tiles are fetched by Leaflet, not as page assets


@pytest.mark.parametrize(("code", "zone"), [
    ("34.71", WIB), ("34", WIB), ("51.06", WITA), ("51.06.01.2001", WITA), ("64.71", WITA),
    ("63.71", WITA), ("62.01", WIB), ("61.71", WIB), ("81.71", WIT), ("94.01", WIT),
    ("31.71", WIB), ("73.71", WITA),
])
def test_time_zone_by_province(code, zone):
    assert zone_for_code(code) == zone


def test_time_zone_rejects_garbage():
    with pytest.raises(ValueError, match="region code"):
        zone_for_code("xx")


def test_console_shows_the_regions_zone():
    html = render_console(ConsoleConfig(kode_kab="51.06", center=LonLat(115.35, -8.29)))
    assert '"label": "WITA"' in html and "Asia/Makassar" in html


def test_vendored_libraries_ship_their_licences():
    for name, (_version, licence, path) in VENDORED.items():
        text = (STATIC_DIR / path).read_text()
        assert "Redistribution and use in source and binary forms" in text, name
        assert licence == "BSD-2-Clause"


def test_static_resolution_refuses_traversal():
    assert resolve_static("console.js") is not None
    assert resolve_static("../console.py") is None
    assert resolve_static("vendor/../../i18n.py") is None
    assert resolve_static("nope.js") is None
