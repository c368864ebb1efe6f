"""One geodesy for the platform, and the bridge's own copy pinned to it by shared vectors.

``tests/vectors/geodesy/haversine.json`` holds position pairs with distances computed by a
different formula (the Vincenty atan2 form on the same sphere), rounded to 0.1 mm.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dispatch.geodesy
import geo.geodesy
import maps.hotspot
import tracking.geodesy
from geo.geodesy import EARTH_RADIUS_M, M_PER_DEG, distance_m, haversine_m, haversine_matrix_m
from geo.types import LonLat
from gps_firmware_bridge import roads as bridge

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "geodesy" / "haversine.json").read_text()
)
#: The vectors are rounded to 0.1 mm.
TOL_M = 1e-4


def _ids(vector: dict) -> str:
    return vector["name"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=_ids)
def test_platform_distance_matches_the_shared_vectors(vector: dict) -> None:
    a, b = LonLat(*vector["a"]), LonLat(*vector["b"])
    want = vector["distance_m"]
    assert haversine_m(a.lon, a.lat, b.lon, b.lat) == pytest.approx(want, abs=TOL_M)
    assert distance_m(a, b) == pytest.approx(want, abs=TOL_M)
    assert tracking.geodesy.haversine_m(a.lon, a.lat, b.lon, b.lat) == pytest.approx(
        want, abs=TOL_M
    )
    assert dispatch.geodesy.haversine_m(a, b) == pytest.approx(want, abs=TOL_M)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=_ids)
def test_bridge_distance_matches_the_shared_vectors_and_the_platform(vector: dict) -> None:
    a, b = vector["a"], vector["b"]
    got = bridge.haversine_m(bridge.Point(*a), bridge.Point(*b))
    assert got == pytest.approx(vector["distance_m"], abs=TOL_M)
    assert got == pytest.approx(haversine_m(*a, *b), rel=1e-12, abs=1e-9)


def test_one_earth_radius_everywhere() -> None:
    assert VECTORS["earth_radius_m"] == EARTH_RADIUS_M == bridge.EARTH_RADIUS_M
    assert tracking.geodesy.EARTH_RADIUS_M == dispatch.geodesy.EARTH_RADIUS_M == EARTH_RADIUS_M
    assert maps.hotspot.EARTH_RADIUS_M == EARTH_RADIUS_M
    assert M_PER_DEG == pytest.approx(EARTH_RADIUS_M * math.pi / 180.0, rel=1e-15)


def test_tracking_and_dispatch_use_the_one_module() -> None:
    """Not copies: the very functions of :mod:`geo.geodesy` under their historical names."""
    assert tracking.geodesy.haversine_m is geo.geodesy.haversine_m
    assert dispatch.geodesy.haversine_m is geo.geodesy.distance_m


_lon = st.floats(-180.0, 180.0, allow_nan=False)
_lat = st.floats(-90.0, 90.0, allow_nan=False)


@given(_lon, _lat, _lon, _lat)
def test_bridge_and_platform_agree_anywhere(lon1: float, lat1: float, lon2: float, lat2: float):
    platform = haversine_m(lon1, lat1, lon2, lat2)
    copy = bridge.haversine_m(bridge.Point(lon1, lat1), bridge.Point(lon2, lat2))
    assert copy == pytest.approx(platform, rel=1e-12, abs=1e-9)
    assert 0.0 <= platform <= math.pi * EARTH_RADIUS_M + 1e-6
    assert haversine_m(lon2, lat2, lon1, lat1) == pytest.approx(platform, rel=1e-12, abs=1e-9)


def test_distance_matrix_matches_the_shared_vectors() -> None:
    a = [v["a"] for v in VECTORS["vectors"]]
    b = [v["b"] for v in VECTORS["vectors"]]
    m = haversine_matrix_m(a, b)
    assert m.shape == (len(a), len(b))
    for i, vector in enumerate(VECTORS["vectors"]):
        assert m[i, i] == pytest.approx(vector["distance_m"], abs=TOL_M)
    assert m[0, 1] == pytest.approx(haversine_m(*a[0], *b[1]), abs=TOL_M)
