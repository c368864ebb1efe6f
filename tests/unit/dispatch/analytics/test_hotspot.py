"""Gi* hotspots: a synthetic grid with a hot cluster known by construction, and equality with
esda run directly on the same weights and seed."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics.hotspot import (
    classify,
    contiguity_weights,
    gi_star,
    grid_counts,
    measure_values,
)


def _synthetic_grid(size: int = 20, cell_m: float = 250.0):
    """A size x size grid of background counts 0..2 with a 4x4 block of 12 at cols/rows 3..6."""
    rng = np.random.default_rng(3)
    col, row = np.meshgrid(np.arange(size), np.arange(size))
    counts = rng.integers(0, 3, size * size).astype(float)
    block = (col.ravel() >= 3) & (col.ravel() <= 6) & (row.ravel() >= 3) & (row.ravel() <= 6)
    counts[block] = 12.0
    grid = grid_counts(np.column_stack([col.ravel(), row.ravel()]), counts, cell_m)
    return grid, block


def test_hot_cluster_found_where_it_was_built():
    grid, block = _synthetic_grid()
    g = gi_star(grid.count, grid.weights(), permutations=999, seed=7)
    hot = np.zeros(len(grid.count), bool)
    hot[g.hot] = True
    # the cluster's core (cells whose 8 neighbours are all in the block) is hot at 95 % at
    # least (with 999 permutations and FDR over 400 cells, 99 % needs many more p = 0.001)
    core = (grid.col >= 4) & (grid.col <= 5) & (grid.row >= 4) & (grid.row <= 5)
    assert (g.gi_bin[core] >= 2).all()
    # and nothing far from the cluster is hot
    far = (grid.col >= 10) | (grid.row >= 10)
    assert not hot[far].any()
    assert hot[block].sum() >= 12


def test_identical_to_esda_on_the_same_weights_and_seed():
    import esda
    from esda.getisord import G_Local

    grid, _ = _synthetic_grid()
    w = grid.weights()
    ours = gi_star(grid.count, w, permutations=999, seed=42)
    ref = G_Local(
        grid.count,
        w,
        transform="B",
        permutations=999,
        star=True,
        keep_simulations=False,
        n_jobs=1,
        seed=42,
    )
    np.testing.assert_array_equal(ours.z, ref.Zs)
    np.testing.assert_array_equal(ours.p_sim, ref.p_sim)
    expected = np.zeros(len(ref.Zs), dtype=np.int8)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        sig = ref.p_sim <= esda.fdr(ref.p_sim, alpha)
        expected[sig] = level * np.sign(ref.Zs[sig])
    np.testing.assert_array_equal(ours.gi_bin, expected)


def test_same_seed_same_answer_and_without_fdr_plain_alpha():
    grid, _ = _synthetic_grid()
    w = grid.weights()
    a = gi_star(grid.count, w, seed=5)
    b = gi_star(grid.count, w, seed=5)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    plain = gi_star(grid.count, w, seed=5, fdr=False)
    assert plain.p_threshold == {
        0.90: pytest.approx(0.10),
        0.95: pytest.approx(0.05),
        0.99: pytest.approx(0.01),
    }
    # FDR thresholds are never looser than the plain ones
    assert all(a.p_threshold[c] <= plain.p_threshold[c] + 1e-12 for c in a.p_threshold)
    assert len(plain.hot) >= len(a.hot)


def test_classify_bins_by_confidence():
    z = np.array([3.0, 2.0, 1.0, -2.5, 0.5])
    p = np.array([0.001, 0.03, 0.08, 0.004, 0.5])
    bins, _ = classify(z, p, fdr=False)
    assert bins.tolist() == [3, 2, 1, -3, 0]


def test_contiguity_weights_on_polygons_and_hot_desa():
    # 6 x 6 square "desa"; queen contiguity: a corner has 3 neighbours, an inner square 8
    boxes = [shapely.box(i, j, i + 1, j + 1) for j in range(6) for i in range(6)]
    w = contiguity_weights(boxes)
    assert w.cardinalities[0] == 3 and w.cardinalities[7] == 8
    counts = np.ones(36)
    counts[[0, 1, 6, 7]] = 30.0  # the south-west corner block
    g = gi_star(counts, w, seed=1, fdr=False)
    assert g.gi_bin[0] > 0 and g.gi_bin[35] <= 0


def test_measure_rate_density_and_count():
    counts = np.array([2.0, 4.0, 6.0])
    vals, name = measure_values(counts, population=np.array([1000, 2000, 3000]))
    assert name == "rate_per_1000" and vals.tolist() == [2.0, 2.0, 2.0]
    vals, name = measure_values(
        counts, population=np.array([1000, np.nan, 3000]), area_km2=np.array([1.0, 2.0, 3.0])
    )
    assert name == "density_per_km2" and vals.tolist() == [2.0, 2.0, 2.0]
    assert measure_values(counts)[1] == "count"


@pytest.mark.parametrize("values", [np.zeros(36), np.full(36, np.nan), -np.ones(36), np.ones(5)])
def test_bad_values_get_a_typed_bilingual_error(values):
    w = contiguity_weights([shapely.box(i, j, i + 1, j + 1) for j in range(6) for i in range(6)])
    with pytest.raises(AnalyticsInputError, match=" / "):
        gi_star(values, w)


def test_grid_fills_empty_cells_and_refuses_huge_grids():
    grid = grid_counts(np.array([[0, 0], [2, 1]]), np.array([3, 1]), 100.0)
    assert len(grid.count) == 6 and grid.count.sum() == 4
    assert grid.x_m[grid.count == 3][0] == 50.0
    with pytest.raises(AnalyticsInputError):
        grid_counts(np.array([[0, 0], [1000, 1000]]), np.array([1, 1]), 10.0)
