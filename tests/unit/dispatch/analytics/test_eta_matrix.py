"""The many-to-many ETA matrix agrees with the routing index's own 1xN tables, cell by cell."""

from __future__ import annotations

import numpy as np
import pytest

from geo.exceptions import RoutingError
from geo.routing.matrix import eta_matrix
from geo.types import LonLat


def _points(index, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    nodes = rng.choice(index.n_nodes, n, replace=False)
    jitter = rng.normal(0.0, 0.0004, (n, 2))
    return np.column_stack([index.node_lon[nodes], index.node_lat[nodes]]) + jitter


def test_matrix_equals_the_table_of_each_target(yogya_ambulance):
    index = yogya_ambulance
    sources, targets = _points(index, 25, 1), _points(index, 40, 2)
    horizon_s = 420.0
    m = eta_matrix(index, sources, targets, horizon_s=horizon_s)
    assert m.eta_s.shape == (25, 40)
    finite = 0
    for j, (lon, lat) in enumerate(targets):
        table = index.table_arrays(sources, LonLat(float(lon), float(lat)), horizon_s=horizon_s)
        expected = np.where(table.reachable, table.eta_s, np.inf)
        np.testing.assert_allclose(m.eta_s[:, j], expected, rtol=1e-5, atol=1e-3)
        finite += int(np.isfinite(expected).sum())
    assert 0 < finite < 25 * 40  # some pairs within the horizon, some beyond


def test_coverage_threshold_and_off_network_points(yogya_ambulance):
    index = yogya_ambulance
    far = np.array([[index.node_lon.max() + 0.5, index.node_lat.max() + 0.5]])
    sources = np.vstack([_points(index, 3, 3), far])
    m = eta_matrix(index, sources, np.vstack([_points(index, 5, 4), far]), horizon_s=600.0)
    assert not m.source_on_network[-1] and not m.target_on_network[-1]
    assert np.isinf(m.eta_s[-1]).all() and np.isinf(m.eta_s[:, -1]).all()
    assert (m.covers(5.0) == (m.eta_s <= 300.0)).all()
    with pytest.raises(RoutingError, match=" / "):
        m.covers(11.0)
    with pytest.raises(RoutingError, match=" / "):
        eta_matrix(index, sources, sources, horizon_s=0.0)
