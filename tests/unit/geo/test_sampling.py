"""Demand points inside polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from geo.geodesy import M_PER_DEG
from geo.sampling import area_km2, grid_points


def test_points_lie_inside_their_polygon_and_count_follows_area():
    d = 1000.0 / M_PER_DEG  # ~1 km at the equator
    big = box(110.0, 0.0, 110.0 + 2 * d, 2 * d)  # ~4 km²
    small = box(110.0 + 2 * d, 0.0, 110.0 + 3 * d, d)  # ~1 km²
    pts = grid_points([big, small], 250.0)
    for i, geom in enumerate((big, small)):
        mine = pts.lonlat[pts.owner == i]
        assert shapely.covers(geom, shapely.points(mine)).all()
    n_big, n_small = np.bincount(pts.owner)
    assert 3.0 < n_big / n_small < 5.0  # ~4x the area, ~4x the points
    assert area_km2([big, small]) == pytest.approx([4.0, 1.0], rel=1e-3)


def test_a_polygon_smaller_than_the_grid_gets_its_representative_point():
    tiny = MultiPolygon([box(110.0, -7.0, 110.0001, -6.9999)])
    pts = grid_points([tiny], 500.0)
    assert pts.owner.tolist() == [0]
    assert tiny.covers(shapely.points(pts.lonlat)[0])


def test_bad_spacing_is_refused():
    with pytest.raises(ValueError):
        grid_points([box(0, 0, 1, 1)], 0)
    assert grid_points([], 100).lonlat.shape == (0, 2)
