"""Pure Geocoder tests on synthetic polygons (no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import MultiPolygon, box

from geo.exceptions import InvalidCoordinateError
from geo.geocode import (
    MATCH_EXACT,
    MATCH_INVALID,
    MATCH_NEAREST,
    MATCH_OUTSIDE,
    AdminArea,
    Geocoder,
)


def _area(kode: str, nama: str) -> AdminArea:
    return AdminArea(kode, nama, "desa", kode[:8], "Kec " + kode[6:8], kode[:5], "Kab X", kode[:2],
                     "Prov", None, nama.replace(" ", ""))


@pytest.fixture(scope="module")
def gc() -> Geocoder:
    # Two squares sharing the edge lon = 110.01; a two-part desa further east.
    a = MultiPolygon([box(110.00, -8.01, 110.01, -8.00)])
    b = MultiPolygon([box(110.01, -8.01, 110.02, -8.00)])
    c = MultiPolygon([box(110.05, -8.01, 110.06, -8.00), box(110.08, -8.01, 110.09, -8.00)])
    return Geocoder([(_area("99.01.01.2002", "Beta"), b), (_area("99.01.01.2001", "Alfa Satu"), a),
                     (_area("99.01.02.2001", "Gamma"), c)])


def test_exact_inside(gc):
    r = gc.reverse(110.005, -8.005)
    assert (r.match, r.area.kode_desa, r.distance_m) == ("exact", "99.01.01.2001", 0.0)


def test_shared_edge_takes_smallest_code(gc):
    for lat in (-8.005, -8.0, -8.01):
        r = gc.reverse(110.01, lat)
        assert r.match == "exact" and r.area.kode_desa == "99.01.01.2001"


def test_both_parts_of_a_multipart_desa(gc):
    assert gc.reverse(110.055, -8.005).area.kode_desa == "99.01.02.2001"
    assert gc.reverse(110.085, -8.005).area.kode_desa == "99.01.02.2001"


def test_nearest_distance_is_geodesic_metres(gc):
    lat = -8.0 + 0.002  # north of the shared top edge, inside the tolerance
    r = gc.reverse(110.005, lat)
    expected = Geod(ellps="WGS84").inv(110.005, lat, 110.005, -8.0)[2]
    assert r.match == "nearest" and r.area.kode_desa == "99.01.01.2001"
    assert r.distance_m == pytest.approx(expected, abs=0.01)


def test_nearest_equidistant_tie_takes_smallest_code(gc):
    r = gc.reverse(110.01, -7.999)  # north of the shared vertex
    assert r.match == "nearest" and r.area.kode_desa == "99.01.01.2001"


def test_outside_and_tolerance(gc):
    far = gc.reverse(110.005, -7.99)  # ~1.1 km north
    assert far.match == "outside" and far.area is None and math.isnan(far.distance_m)
    assert gc.reverse(110.005, -7.99, tolerance_m=2000).match == "nearest"
    assert gc.reverse(110.005, -7.9995, tolerance_m=0).match == "outside"
    assert gc.reverse(0.0, 0.0).match == "outside"


@pytest.mark.parametrize("lon,lat", [(float("nan"), -8), (110, float("inf")), (181, 0), (0, -91)])
def test_invalid_coordinates_raise(gc, lon, lat):
    with pytest.raises(InvalidCoordinateError):
        gc.reverse(lon, lat)


def test_batch_matches_single_and_marks_invalid(gc):
    rng = np.random.default_rng(1)
    lons = np.concatenate([rng.uniform(109.99, 110.1, 3000), [np.nan, 200.0]])
    lats = np.concatenate([rng.uniform(-8.02, -7.99, 3000), [-8.0, -8.0]])
    batch = gc.reverse_many(lons, lats)
    assert batch.match[-2] == MATCH_INVALID and batch.match[-1] == MATCH_INVALID
    assert {MATCH_EXACT, MATCH_NEAREST, MATCH_OUTSIDE} <= set(batch.match[:-2].tolist())
    for i in range(0, 3000, 7):
        single = gc.reverse(lons[i], lats[i])
        assert single.to_dict() == gc.result_at(batch, i).to_dict()


def test_to_dict_is_flat(gc):
    d = gc.reverse(110.005, -8.005).to_dict()
    assert d["kode_desa"] == "99.01.01.2001" and d["match"] == "exact" and d["distance_m"] == 0
    out = gc.reverse(0, 0).to_dict()
    assert out["kode_desa"] is None and out["match"] == "outside" and out["distance_m"] is None


def test_region_codes_and_empty_geocoder(gc):
    assert gc.region_codes() == ["99.01"]
    empty = Geocoder([])
    assert empty.reverse(110, -8).match == "outside" and empty.search("x") == []
