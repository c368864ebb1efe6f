"""Emerging hot spots: categories from constructed bin histories, and a space-time cube with a
new and an intensifying cluster built in."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.analytics.emerging import categorise, emerging_hotspots, mann_kendall
from dispatch.analytics.exceptions import AnalyticsInputError

H, C, N = 1, -1, 0


@pytest.mark.parametrize(
    ("bins", "trend", "expected"),
    [
        ([N, N, N, N, N, N, N, N, N, H], 0, "new_hot"),
        ([N, N, N, N, N, N, N, H, H, H], 0, "consecutive_hot"),
        ([H, H, H, H, H, H, H, H, H, H], 1, "intensifying_hot"),
        ([H, H, H, H, H, H, H, H, H, H], 0, "persistent_hot"),
        ([H, H, H, H, H, H, H, H, H, H], -1, "diminishing_hot"),
        ([N, H, N, N, H, H, N, N, N, H], 0, "sporadic_hot"),
        ([N, C, N, N, H, N, N, N, N, H], 0, "oscillating_hot"),
        ([H, H, H, H, H, H, H, H, H, N], 0, "historical_hot"),
        ([N, N, N, N, N, N, N, N, N, C], 0, "new_cold"),
        ([C, C, C, C, C, C, C, C, C, C], -1, "intensifying_cold"),
        ([C, C, C, C, C, C, C, C, C, C], 1, "diminishing_cold"),
        ([N, H, N, N, N, N, N, N, N, N], 0, "none"),
        ([N, N, N, N, N, N, N, N, N, N], 0, "none"),
    ],
)
def test_categories_follow_the_definitions(bins, trend, expected):
    tau = np.array([float(trend)])
    p = np.array([0.001 if trend else 0.9])
    assert categorise(np.array([bins]), tau, p) == [expected]


def test_mann_kendall_monotone_and_flat():
    tau, p = mann_kendall(np.arange(12.0))
    assert tau == pytest.approx(1.0) and p < 0.001
    assert mann_kendall(np.ones(12)) == (0.0, 1.0)


def test_cube_with_a_new_and_an_intensifying_cluster():
    from libpysal.weights import lat2W

    size, steps = 12, 10
    w = lat2W(size, size, rook=False)
    rng = np.random.default_rng(4)
    cube = rng.integers(0, 2, (size * size, steps)).astype(float)
    col, row = np.arange(size * size) % size, np.arange(size * size) // size
    new = (col <= 2) & (row <= 2)  # south-west block: only in the last step
    grows = (col >= 8) & (row >= 8)  # north-east block: every step, growing
    cube[new, -1] = 15.0
    cube[grows] = 6.0 + 3.0 * np.arange(steps)
    res = emerging_hotspots(cube, w, permutations=999, seed=9)
    centre_new = int(np.flatnonzero(new & (col == 1) & (row == 1))[0])
    centre_grows = int(np.flatnonzero(grows & (col == 10) & (row == 10))[0])
    assert res.category[centre_new] == "new_hot"
    assert res.category[centre_grows] in {"intensifying_hot", "persistent_hot"}
    assert (res.gi_bin[centre_grows] > 0).all()
    far = (col >= 5) & (col <= 6) & (row >= 5) & (row <= 6)
    assert all(not res.category[i].endswith("_hot") for i in np.flatnonzero(far))


def test_cube_shape_and_confidence_errors():
    from libpysal.weights import lat2W

    w = lat2W(3, 3)
    with pytest.raises(AnalyticsInputError, match=" / "):
        emerging_hotspots(np.ones((9, 1)), w)
    with pytest.raises(AnalyticsInputError, match=" / "):
        emerging_hotspots(np.ones((9, 3)), w, confidence=0.8)
