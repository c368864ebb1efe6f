"""The analytics map pages render Gi* classes and siting results offline (no CDN)."""

from __future__ import annotations

import pytest

from geo.types import LonLat
from maps.analytics import GI_CLASSES, render_gi_map, render_siting_map
from maps.exceptions import MapInputError


def _square(lon: float, lat: float, gi_bin: int) -> dict:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": f"d{gi_bin}", "count": 3, "z": 1.0, "gi_bin": gi_bin}}


def test_gi_choropleth_colours_each_class_and_has_no_cdn():
    fc = {"type": "FeatureCollection",
          "features": [_square(110.36 + 0.01 * i, -7.8, b) for i, b in enumerate((3, 0, -2))]}
    html = render_gi_map(fc, center=LonLat(110.37, -7.8), title="Gi*")
    assert "Titik panas 99%" in html and "Cold spot 95% confidence" in html
    assert GI_CLASSES[3][0] in html
    assert "cdn." not in html and "unpkg" not in html


def test_siting_page_and_bad_input():
    html = render_siting_map([LonLat(110.36, -7.8)], [LonLat(110.37, -7.79)],
                             [LonLat(110.38, -7.81)])
    assert "Pos usulan / proposed post" in html
    with pytest.raises(MapInputError):
        render_gi_map({"type": "FeatureCollection", "features": []}, center=LonLat(110, -7))
    with pytest.raises(MapInputError):
        render_gi_map({"features": [_square(110.0, -7.0, 5)]}, center=LonLat(110, -7))
    with pytest.raises(MapInputError):
        render_siting_map([], [], [])
