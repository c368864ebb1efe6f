"""Coverage and hotspot maps: pure measures and offline HTML."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Point, box, mapping

from geo.types import LonLat
from maps.coverage import CoverageBand, Station, coverage_by_area, render_coverage_map
from maps.exceptions import MapInputError
from maps.hotspot import hotspot_grid, render_hotspot_map
from tests.unit.maps.test_console import external_refs

AREAS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"kode_desa": "34.71.01.1001", "nama_desa": "Barat"},
     "geometry": mapping(box(110.00, -7.01, 110.01, -7.00))},
    {"type": "Feature", "properties": {"kode_desa": "34.71.01.1002", "nama_desa": "Timur"},
     "geometry": mapping(box(110.01, -7.01, 110.02, -7.00))},
]}


def test_coverage_share_per_area():
    bands = [CoverageBand(10, box(110.00, -7.01, 110.015, -7.00)),
             CoverageBand(5, mapping(box(110.00, -7.01, 110.005, -7.00)))]
    shares = {(a.name, a.minutes): a.covered_share for a in coverage_by_area(bands, AREAS)}
    assert shares[("Barat", 5)] == pytest.approx(0.5)
    assert shares[("Timur", 5)] == 0
    assert shares[("Barat", 10)] == pytest.approx(1.0)
    assert shares[("Timur", 10)] == pytest.approx(0.5)


def test_coverage_map_html_is_offline_and_attributed():
    bands = [CoverageBand(5, Point(110.005, -7.005).buffer(0.003)),
             CoverageBand(10, Point(110.005, -7.005).buffer(0.006))]
    html = render_coverage_map(bands, [Station("YK-DAMKAR-01", LonLat(110.005, -7.005))],
                               boundaries=AREAS, title="Jangkauan <Damkar>",
                               attribution=["Jalan / Roads: © OpenStreetMap contributors"])
    assert external_refs(html) == []
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "OpenStreetMap contributors" in html
    assert "YK-DAMKAR-01" in html and "Jangkauan &lt;Damkar&gt;" in html
    assert "≤ 5 menit" in html and "≤ 10 menit" in html


def test_coverage_refuses_unusable_input():
    with pytest.raises(MapInputError, match="no coverage band"):
        render_coverage_map([], [])
    with pytest.raises(MapInputError, match="positive"):
        render_coverage_map([CoverageBand(0, box(0, 0, 1, 1))], [])
    with pytest.raises(MapInputError, match="empty"):
        render_coverage_map([CoverageBand(5, Point(0, 0).buffer(0))], [])


def _cluster(lon, lat, n, spread_deg):
    return [LonLat(lon + spread_deg * math.cos(i), lat + spread_deg * math.sin(i * 1.3))
            for i in range(n)]


def test_hotspot_grid_ranks_the_dense_cluster_first():
    pts = _cluster(110.37, -7.80, 40, 0.0005) + _cluster(110.40, -7.83, 5, 0.0005)
    cells = hotspot_grid(pts, cell_m=250, bandwidth_m=200)
    assert sum(c.count for c in cells) == 45
    top = cells[0]
    assert abs(top.center.lon - 110.37) < 0.004 and abs(top.center.lat + 7.80) < 0.004
    assert top.density_per_km2 > cells[-1].density_per_km2
    densities = [c.density_per_km2 for c in cells]
    assert densities == sorted(densities, reverse=True)


def test_hotspot_density_integrates_to_the_count():
    # A lone point: the kernel peak is 1 / (2π σ²) per m², i.e. ~3.98 per km² for σ = 200 m.
    cells = hotspot_grid([LonLat(110.0, -7.0)], cell_m=1, bandwidth_m=200)
    assert cells[0].density_per_km2 == pytest.approx(1e6 / (2 * math.pi * 200**2), rel=1e-3)


def test_hotspot_refuses_bad_points():
    with pytest.raises(MapInputError, match="no incident"):
        hotspot_grid([])
    with pytest.raises(MapInputError, match="index 1"):
        hotspot_grid([LonLat(110, -7), LonLat(float("nan"), -7)])
    with pytest.raises(MapInputError, match="positive"):
        hotspot_grid([LonLat(110, -7)], cell_m=0)


def test_hotspot_map_uses_the_vendored_heat_plugin():
    html = render_hotspot_map(_cluster(110.37, -7.80, 20, 0.001), title="Titik rawan")
    assert "/static/vendor/leaflet.heat/leaflet-heat.js" in html
    assert external_refs(html) == []
    assert "heatLayer" in html and "Titik rawan" in html
    assert "CC BY-IGO" in html  # default attribution
