"""The lookup-grid fast path of ``Geocoder.reverse_many`` agrees bit for bit with the exact path.

The exact path (``ReverseIndex.query(..., fast=False)``: shapely STRtree ``covered_by`` and
segment-tree nearest queries) is the reference; PostGIS agreement of that path is tested in
``tests/integration/geo/test_reverse_postgis.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, shape

from geo._segment import expand_pairs, segment_distance
from geo.geocode import AdminArea, Geocoder

DATA = Path(__file__).resolve().parents[3] / "data"


def _area(kode: str) -> AdminArea:
    return AdminArea(kode, "Desa " + kode, "desa", kode[:8], "Kec", kode[:5], "Kab", kode[:2],
                     "Prov", None, None)


def _pilot(name: str) -> Geocoder:
    features = json.loads((DATA / name / "desa.geojson").read_text())["features"]
    return Geocoder([(_area(f["properties"]["kode_desa"]), shape(f["geometry"]))
                     for f in features])


@pytest.fixture(scope="module")
def synthetic() -> Geocoder:
    """Irregular tessellation with shared edges, a sliver gap, a hole, an overlap, two parts."""
    rng = np.random.default_rng(3)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(110.0, 110.1, 25),
                                                 rng.uniform(-8.1, -8.0, 25)]))
    frame = box(110.0, -8.1, 110.1, -8.0)
    cells = shapely.get_parts(shapely.intersection(shapely.voronoi_polygons(seeds), frame))
    desa = [(_area(f"99.01.01.{2001 + i}"), cell) for i, cell in enumerate(cells)]
    hole = Polygon(box(110.12, -8.1, 110.16, -8.06).exterior.coords,
                   [box(110.13, -8.09, 110.15, -8.07).exterior.coords])
    desa += [
        (_area("99.01.02.2001"), box(110.1002, -8.1, 110.12, -8.0)),  # 0.0002° sliver to x=110.1
        (_area("99.01.02.2002"), hole),
        (_area("99.01.02.2003"), box(110.14, -8.065, 110.17, -8.04)),  # overlaps the hole ring
        (_area("99.01.02.2004"), MultiPolygon([box(110.2, -8.1, 110.21, -8.09),
                                               box(110.23, -8.1, 110.24, -8.09)])),
        (_area("99.01.02.2005"), box(110.16, -8.1, 110.18, -8.07)),  # shares x=110.16 with hole
    ]
    return Geocoder(desa)


def _probe_points(gc: Geocoder, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points, points near rings, exact vertices, edge points and tiny offsets."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(gc.geometries)
    coords = shapely.get_coordinates(gc.geometries)
    pick = coords[rng.integers(0, coords.shape[0], n)]
    nxt = coords[np.minimum(rng.integers(0, coords.shape[0], n) + 1, coords.shape[0] - 1)]
    t = rng.uniform(0, 1, (n, 1))
    along = pick + (nxt - pick) * t  # mostly on or near edges
    tiny = pick + rng.choice([-1e-12, 0.0, 1e-12], (n, 2))
    near = pick + rng.uniform(-0.01, 0.01, (n, 2))
    uniform = np.column_stack([rng.uniform(x0 - 0.02, x1 + 0.02, n),
                               rng.uniform(y0 - 0.02, y1 + 0.02, n)])
    pts = np.vstack([pick, along, tiny, near, uniform])
    return pts[:, 0].copy(), pts[:, 1].copy()


def _assert_same(gc: Geocoder, lons: np.ndarray, lats: np.ndarray, tolerance_m: float) -> None:
    fast = gc._reverse.query(lons, lats, tolerance_m)
    slow = gc._reverse.query(lons, lats, tolerance_m, fast=False)
    np.testing.assert_array_equal(fast[1], slow[1])  # match
    np.testing.assert_array_equal(fast[0], slow[0])  # polygon
    np.testing.assert_array_equal(fast[2], slow[2])  # distance, bit for bit (NaN == NaN)


@pytest.mark.parametrize("tolerance_m", [500.0, 0.0, 30.0, 1500.0])
def test_synthetic_fast_path_agrees_with_exact_path(synthetic, tolerance_m):
    lons, lats = _probe_points(synthetic, 3000, seed=11)
    _assert_same(synthetic, lons, lats, tolerance_m)


def test_shared_edges_and_vertices_of_axis_aligned_boxes(synthetic):
    # Exactly representable points on the shared edge x = 110.16 and the box corners.
    lats = np.linspace(-8.1, -8.06, 401)
    lons = np.full_like(lats, 110.16)
    corners = shapely.get_coordinates(synthetic.geometries[-5:])
    _assert_same(synthetic, np.concatenate([lons, corners[:, 0]]),
                 np.concatenate([lats, corners[:, 1]]), 500.0)


@pytest.mark.parametrize("name", ["bangli", "kota-yogyakarta", "balikpapan"])
def test_pilot_fast_path_agrees_with_exact_path(name):
    gc = _pilot(name)
    lons, lats = _probe_points(gc, 4000, seed=5)
    _assert_same(gc, lons, lats, 500.0)


def test_grid_answers_every_point_near_its_region():
    gc = _pilot("kota-yogyakarta")
    region = gc._reverse.regions[0]
    lons, lats = _probe_points(gc, 2000, seed=9)
    x0, y0, x1, y1 = region.bounds
    inside = (lons > x0 - 0.004) & (lons < x1 + 0.004) & (lats > y0 - 0.004) & (lats < y1 + 0.004)
    *_, done = region.grid.resolve(lons[inside], lats[inside], 500.0)
    assert done.all()
    assert region.grid.nbytes() < 50e6


def test_segment_distance_is_bit_identical_to_shapely():
    rng = np.random.default_rng(2)
    n = 20_000
    a = rng.uniform(-1000, 1000, (n, 2))
    b = a + rng.normal(0, 50, (n, 2))
    b[:100] = a[:100]  # degenerate segments
    p = np.vstack([rng.uniform(-1100, 1100, (n - 200, 2)), a[:100], b[100:200]])
    ours = segment_distance(p[:, 0], p[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    ref = shapely.distance(shapely.points(p), shapely.linestrings(np.stack([a, b], axis=1)))
    np.testing.assert_array_equal(ours, ref)


def test_expand_pairs():
    ptr = np.array([0, 2, 2, 5])
    rep, pos, starts = expand_pairs(ptr, np.array([2, 0, 1, 2]))
    assert rep.tolist() == [0, 0, 0, 1, 1, 3, 3, 3]
    assert pos.tolist() == [2, 3, 4, 0, 1, 2, 3, 4]
    assert starts.tolist() == [0, 3, 5, 5]
