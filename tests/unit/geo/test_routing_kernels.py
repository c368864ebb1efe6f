"""The compiled routing kernels against independent references (shapely, scipy)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.routing import snap as snap_mod
from geo.routing.kernels import NO_PRED, shortest_tree
from geo.routing.snap import EdgeSnapper


def _ragged_lines(rng: np.random.Generator, count: int, extent: float):
    """``count`` polylines of 2-5 points in a square of ``extent`` metres (some long, some
    degenerate), as offsets and concatenated coordinates."""
    sizes = rng.integers(2, 6, count)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    x, y = [], []
    for k in range(count):
        start = rng.uniform(0, extent, 2)
        steps = rng.normal(0, extent / (10 if k % 7 else 2), (sizes[k] - 1, 2))
        if k % 11 == 0:
            steps[0] = 0.0  # a zero-length segment
        pts = np.vstack([start, start + np.cumsum(steps, axis=0)])
        x.append(pts[:, 0])
        y.append(pts[:, 1])
    return offsets, np.concatenate(x), np.concatenate(y)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_cells", [snap_mod.MAX_CELLS, 50])
def test_nearest_edge_is_exact_against_shapely(seed, max_cells, monkeypatch):
    monkeypatch.setattr(snap_mod, "MAX_CELLS", max_cells)
    rng = np.random.default_rng(seed)
    extent = 3000.0
    offsets, x, y = _ragged_lines(rng, 150, extent)
    edges = np.arange(0, 150, dtype=np.int64)[rng.random(150) < 0.8]
    snapper = EdgeSnapper(offsets, x, y, edges, cell_m=40.0)
    assert max_cells == snap_mod.MAX_CELLS or snapper.nx * snapper.ny <= 4 * max_cells
    lines = shapely.linestrings(
        np.column_stack([x, y]), indices=np.repeat(np.arange(150), np.diff(offsets))
    )[edges]
    # inside, around and far outside the network; plus points exactly on vertices
    q = np.vstack(
        [
            rng.uniform(-500, extent + 500, (2000, 2)),
            rng.uniform(-20000, 20000, (200, 2)),
            np.column_stack([x, y])[rng.choice(len(x), 50)],
        ]
    )
    max_d = 400.0
    edge, frac, dist, sx, sy = snapper.query(q[:, 0], q[:, 1], max_d)
    pts = shapely.points(q)
    want = shapely.distance(pts[:, None], lines[None, :]).min(axis=1)
    near = want <= max_d
    np.testing.assert_array_equal(edge >= 0, near)
    np.testing.assert_allclose(dist[near], want[near], rtol=0, atol=1e-6)
    assert np.isnan(dist[~near]).all()
    np.testing.assert_array_equal(sx[~near], q[~near, 0])  # too far: the position itself
    # the snapped point lies on the chosen edge, at the reported fraction of its length
    chosen = shapely.linestrings(
        np.column_stack([x, y]), indices=np.repeat(np.arange(150), np.diff(offsets))
    )[edge[near]]
    snapped = shapely.points(sx[near], sy[near])
    np.testing.assert_allclose(shapely.distance(snapped, chosen), 0.0, atol=1e-6)
    along = shapely.line_locate_point(chosen, snapped, normalized=True)
    ok = shapely.length(chosen) > 0
    np.testing.assert_allclose(frac[near][ok], along[ok], atol=1e-6)
    np.testing.assert_allclose(np.hypot(q[near, 0] - sx[near], q[near, 1] - sy[near]),
                               dist[near], atol=1e-6)


def test_nearest_edge_ties_go_to_the_lower_segment():
    # two edges crossing at (50, 0): a point straight above the crossing is equally near both
    offsets = np.array([0, 2, 4])
    x = np.array([0.0, 100.0, 50.0, 50.0])
    y = np.array([0.0, 0.0, -50.0, 50.0])
    for order in (np.array([0, 1]), np.array([1, 0])):
        snapper = EdgeSnapper(offsets, x, y, order)
        edge, *_ = snapper.query(np.array([50.0]), np.array([0.0]), 10.0)
        assert edge[0] == 0


def _random_csr(seed: int, n: int = 400, m: int = 1400):
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    u, v = u[keep], v[keep]
    key = np.unique(u * n + v)  # one edge per ordered pair, as in the compiled road graphs
    u, v = key // n, key % n
    w = rng.uniform(0.5, 60.0, len(u))
    w[rng.random(len(u)) < 0.05] = 0.0  # zero-cost edges exist (merged nodes)
    metres = rng.uniform(1.0, 800.0, len(u))
    order = np.argsort(u, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))]).astype(np.int64)
    return n, u, v, w, metres, order, indptr


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("limit", [np.inf, 90.0])
def test_shortest_tree_matches_scipy_and_its_own_tree(seed, limit):
    n, u, v, w, metres, order, indptr = _random_csr(seed)
    rng = np.random.default_rng(seed + 50)
    seeds = rng.choice(n, 3, replace=False).astype(np.int64)
    seed_s = rng.uniform(0, 20, 3)
    seed_m = rng.uniform(0, 100, 3)
    dist, length, pred = shortest_tree(
        indptr, v[order].astype(np.int32), w[order], metres[order], u[order].astype(np.int32),
        seeds, seed_s, seed_m, np.full(3, n, dtype=np.int64), limit, np.zeros(0, dtype=np.int64),
    )
    # scipy on the same graph with a virtual source joined to the seeds
    graph = csr_matrix(
        (np.concatenate([w, seed_s]) + 1e-300,  # scipy drops explicit zeros
         (np.concatenate([u, np.full(3, n)]), np.concatenate([v, seeds]))),
        shape=(n + 1, n + 1),
    )
    want = dijkstra(graph, directed=True, indices=n, limit=limit)[:n]
    np.testing.assert_allclose(dist, want, rtol=0, atol=1e-9)
    reached = np.isfinite(dist)
    assert (dist[reached] <= limit).all()
    np.testing.assert_array_equal(pred[~reached], NO_PRED)
    assert np.isinf(length[~reached]).all()
    # seconds and metres are those of the reported tree
    pair = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(u, v, strict=True))}
    for node in np.flatnonzero(reached):
        p = int(pred[node])
        if p == n:
            k = int(np.flatnonzero(seeds == node)[0])
            assert dist[node] == pytest.approx(seed_s[k]) and length[node] == seed_m[k]
        else:
            e = pair[(p, int(node))]
            assert dist[node] == pytest.approx(dist[p] + w[e], abs=1e-9)
            assert length[node] == pytest.approx(length[p] + metres[e], abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_shortest_tree_stops_once_the_targets_are_settled(seed):
    n, u, v, w, metres, order, indptr = _random_csr(seed)
    args = (indptr, v[order].astype(np.int32), w[order], metres[order],
            u[order].astype(np.int32), np.array([0], dtype=np.int64), np.zeros(1), np.zeros(1),
            np.array([n], dtype=np.int64), np.inf)
    full = shortest_tree(*args, np.zeros(0, dtype=np.int64))
    near = np.argsort(full[0])[:5]  # the five nearest nodes
    targets = np.concatenate([near, near[:2]]).astype(np.int64)  # duplicates are fine
    part = shortest_tree(*args, targets)
    np.testing.assert_array_equal(part[0][near], full[0][near])
    np.testing.assert_array_equal(part[1][near], full[1][near])
    assert np.isfinite(part[0]).sum() < np.isfinite(full[0]).sum()  # it did stop early
    seen = np.isfinite(part[0])
    np.testing.assert_array_equal(part[0][seen], full[0][seen])
    # an unreachable target: the search runs to the end and reports it unreached
    lonely = np.flatnonzero(~np.isfinite(full[0]))
    if len(lonely):
        t = np.array([near[0], lonely[0]], dtype=np.int64)
        got = shortest_tree(*args, t)
        np.testing.assert_array_equal(got[0], full[0])
