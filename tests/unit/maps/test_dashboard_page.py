"""The dashboard renderer: tiles, legends, gaps, notes, escaping and language."""

from __future__ import annotations

import pytest

from geo.types import LonLat
from maps.dashboard import Tile, render_dashboard
from maps.exceptions import MapInputError

SQUARE = {"type": "Polygon", "coordinates": [[[110.0, -7.0], [110.1, -7.0], [110.1, -6.9],
                                              [110.0, -6.9], [110.0, -7.0]]]}
KEC = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": SQUARE,
     "properties": {"nama_kec": "Kec <A>", "mean_min": 12.5, "emergencies": 3}}]}
DESA = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": SQUARE,
     "properties": {"nama_desa": "Desa A", "covered_share": 0.4}}]}


def _page(**kw):
    args = {"title": "Dasbor <uji>", "tiles": [Tile("calls", "12"), Tile("sla", "80%")],
            "kecamatan": KEC, "coverage": DESA, "posts": [("Pos 1", LonLat(110.05, -6.95))],
            "gaps": [{"nama_desa": "Desa A", "nama_kec": "Kec <A>",
                      "uncovered_population": 1234.4, "serving_post": "Pos 1",
                      "nearest_minutes": 17.2}],
            "center": LonLat(110.05, -6.95)} | kw
    return render_dashboard(**args)


def test_indonesian_page():
    page = _page(population_estimated=True, eta_estimated=True)
    assert 'data-kpi="calls"' in page and "Panggilan" in page and "Kepatuhan SLA" in page
    assert "Waktu respons per kecamatan" in page and "Cakupan desa dari pos" in page
    assert "1,234" in page and "17 menit" in page
    assert "diperkirakan dari kecamatan" in page and "garis lurus" in page
    assert "Dasbor &lt;uji&gt;" in page and "<uji>" not in page
    assert "@media print" in page and "window.print()" in page
    assert "fitBounds" in page


def test_english_and_no_gaps():
    page = _page(lang="en", gaps=[])
    assert "Calls" in page and "No gaps." in page and "diperkirakan" not in page


def test_bad_input():
    with pytest.raises(MapInputError):
        _page(lang="fr")
    empty = {"type": "FeatureCollection", "features": []}
    with pytest.raises(MapInputError):
        _page(kecamatan=empty, coverage=empty)
