"""Query-time shortcuts of ETA tables give the same answers as the plain computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from geo.geodesy import EARTH_RADIUS_M
from geo.routing import table as table_mod
from geo.routing.index import RoutingIndex
from geo.routing.profiles import load_profiles
from geo.routing.table import Reachability
from geo.types import LonLat
from tests.fixtures.routing import whole_graph


def _random_graph(seed: int, n: int = 300, m: int = 420) -> tuple[np.ndarray, np.ndarray]:
    """A sparse random digraph: many small strongly connected pieces, some one-way links."""
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    return u[keep], v[keep]


def _reaching_plain(n: int, u: np.ndarray, v: np.ndarray, targets: list[int]) -> np.ndarray:
    """Nodes with a path to any target: a BFS over the reversed graph, no components."""
    rev = csr_matrix((np.ones(len(u), dtype=np.int8), (v, u)), shape=(n, n))
    ok = np.zeros(n, dtype=bool)
    for t in targets:
        ok[breadth_first_order(rev, t, directed=True, return_predecessors=False)] = True
    return ok


def test_cached_reachability_matches_a_plain_search_and_stays_bounded():
    n = 300
    u, v = _random_graph(7, n)
    reach = Reachability(n, u, v)
    rng = np.random.default_rng(3)
    queries = [
        sorted(rng.choice(n, size=int(rng.integers(1, 3)), replace=False).tolist())
        for _ in range(60)
    ]
    for targets in queries + queries[::-1]:  # second pass hits the cache (where not evicted)
        got = reach.reaching(targets)
        np.testing.assert_array_equal(got, _reaching_plain(n, u, v, targets))
        assert not got.flags.writeable
    assert len(reach._cache) <= table_mod._REACHING_CACHE
    # two targets in one component share one cache entry
    comp = reach.label[queries[0][0]]
    same = np.flatnonzero(reach.label == comp)
    assert reach.reaching([int(same[0])]) is reach.reaching([int(same[-1])])


# -- the core search with dead-end trees filled from their anchors ----------------------------

_DEG = 0.0009  # ~100 m


def _road_index(seed: int) -> RoutingIndex:
    """A 6 x 6 street grid (some one-way streets) with two-way dead-end trees hung on it, a
    one-way dead end, and two small separate pieces (one of two nodes, one of three)."""
    rng = np.random.default_rng(seed)
    lon: list[float] = []
    lat: list[float] = []
    roads: list[tuple[int, int, bool]] = []  # (a, b, two_way)

    def node(x: float, y: float) -> int:
        lon.append(110.0 + x * _DEG)
        lat.append(-7.8 + y * _DEG)
        return len(lon) - 1

    side = 6
    grid = [
        [node(i + rng.normal(0, 0.05), j + rng.normal(0, 0.05)) for j in range(side)]
        for i in range(side)
    ]
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < side and j + dj < side:
                    roads.append((grid[i][j], grid[i + di][j + dj], rng.random() > 0.15))
    tree_nodes: list[int] = []
    for _ in range(12):  # dead-end trees: chains, sometimes branching off an earlier tree
        start = (
            int(rng.choice(tree_nodes))
            if tree_nodes and rng.random() < 0.4
            else grid[int(rng.integers(side))][int(rng.integers(side))]
        )
        prev = start
        for _ in range(int(rng.integers(1, 4))):
            x = (lon[prev] - 110.0) / _DEG + rng.uniform(-0.6, 0.6)
            y = (lat[prev] + 7.8) / _DEG + rng.uniform(-0.6, 0.6)
            new = node(x, y)
            roads.append((prev, new, True))
            tree_nodes.append(new)
            prev = new
    one_way_end = node(-0.7, 0.3)
    roads.append((grid[0][0], one_way_end, False))
    a, b = node(9.0, 9.0), node(9.5, 9.0)
    roads.append((a, b, True))
    c, d, e = node(-3.0, 2.0), node(-3.0, 2.6), node(-3.0, 3.1)
    roads += [(c, d, True), (d, e, True)]
    return _compile(np.array(lon), np.array(lat), roads)


def _compile(lon: np.ndarray, lat: np.ndarray, roads: list[tuple[int, int, bool]]) -> RoutingIndex:
    prof = load_profiles()["ambulance"]
    ra = np.array([r[0] for r in roads])
    rb = np.array([r[1] for r in roads])
    two = np.array([r[2] for r in roads])
    u = np.concatenate([ra, rb[two]])
    v = np.concatenate([rb, ra[two]])
    n, m = len(lon), len(u)
    twin = np.full(m, -1, dtype=np.int32)
    back = len(roads) + np.arange(int(two.sum()))
    twin[np.flatnonzero(two)] = back
    twin[back] = np.flatnonzero(two)
    length = EARTH_RADIUS_M * np.hypot(
        np.radians(lon[v] - lon[u]) * np.cos(np.radians(lat[u])), np.radians(lat[v] - lat[u])
    )
    run_s = length / (prof.speed_for("residential") / 3.6)
    arrays = {
        "node_osmid": np.arange(n, dtype=np.int64),
        "node_lon": lon,
        "node_lat": lat,
        "edge_u": u.astype(np.int32),
        "edge_v": v.astype(np.int32),
        "edge_run_s": run_s,
        "edge_penalty_s": np.where(np.arange(m) % 7 == 0, 5.0, 0.0),
        "edge_length_m": length,
        "edge_name": np.zeros(m, dtype=np.int32),
        "edge_highway": np.zeros(m, dtype=np.int32),
        "edge_twin": twin,
        "geom_offsets": np.arange(0, 2 * m + 1, 2, dtype=np.int64),
        "geom_lon": np.column_stack([lon[u], lon[v]]).ravel(),
        "geom_lat": np.column_stack([lat[u], lat[v]]).ravel(),
        "names": np.array([""]),
        "highways": np.array(["residential"]),
        "fwd_indptr": np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))]).astype(
            np.int32
        ),
        "fwd_edge": np.argsort(u, kind="stable").astype(np.int32),
        "rev_indptr": np.concatenate([[0], np.cumsum(np.bincount(v, minlength=n))]).astype(
            np.int32
        ),
        "rev_edge": np.argsort(v, kind="stable").astype(np.int32),
    }
    meta = {"region": "99.98", "profile": "ambulance", "offroad_speed_kmh": prof.offroad_speed_kmh}
    return RoutingIndex(arrays, meta)


@pytest.mark.parametrize("seed", range(6))
def test_core_search_gives_the_whole_graph_answers(seed):
    index = _road_index(seed)
    core = index.pendant
    n = index.n_nodes
    assert len(core.node) >= 12 + 3  # the trees, and the lone pieces' far ends
    assert core.core_node[n - 6]  # the one-way dead end is searched, not filled
    assert core.core_node[n - 5] and not core.core_node[n - 4]  # lone two-node piece
    assert list(core.core_node[n - 3 :]) == [False, True, False]  # lone path: its middle
    rng = np.random.default_rng(100 + seed)
    lo, hi = index.node_lon, index.node_lat
    box = ([lo.min() - 0.002, hi.min() - 0.002], [lo.max() + 0.002, hi.max() + 0.002])
    for trial in range(25):
        origins = np.vstack(
            [
                rng.uniform(box[0], box[1], size=(40, 2)),  # anywhere, some off-network
                np.column_stack([lo, hi])[rng.choice(index.n_nodes, 10)],  # at junctions
            ]
        )
        if trial % 2:  # a destination at a junction, often inside a tree
            pick = int(rng.choice(core.node)) if trial % 4 == 1 else int(rng.integers(len(lo)))
            dest = LonLat(float(lo[pick]), float(hi[pick]))
        else:
            dest = LonLat(*(float(c) for c in rng.uniform(box[0], box[1])))
            if index.snap([dest]).edge[0] < 0:
                continue
        horizon = (None, 60.0, 150.0)[trial % 3]
        got = index.table_arrays(origins, dest, horizon_s=horizon)
        tree = index.search_to(index.snap([dest]), limit_s=horizon or np.inf)
        with whole_graph(index):
            want = index.table_arrays(origins, dest, horizon_s=horizon)
            want_tree = index.search_to(index.snap([dest]), limit_s=horizon or np.inf)
        np.testing.assert_array_equal(got.reason_code, want.reason_code)
        np.testing.assert_allclose(got.eta_s, want.eta_s, rtol=0, atol=1e-9)
        np.testing.assert_allclose(got.distance_m, want.distance_m, rtol=0, atol=1e-6)
        np.testing.assert_allclose(tree.dist_s, want_tree.dist_s, rtol=0, atol=1e-9)
        np.testing.assert_allclose(tree.length_m, want_tree.length_m, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(tree.pred >= 0, want_tree.pred >= 0)


@pytest.mark.parametrize("seed", range(4))
def test_search_stopped_at_the_origins_gives_the_full_search_answers(seed):
    """The table's search ends once the origins' nodes are settled; it must not change them."""
    index = _road_index(seed)
    rng = np.random.default_rng(200 + seed)
    lo, hi = index.node_lon, index.node_lat
    box = ([lo.min() - 0.002, hi.min() - 0.002], [lo.max() + 0.002, hi.max() + 0.002])
    for pick in rng.choice(index.n_nodes, 8, replace=False):
        dest = LonLat(float(lo[pick]), float(hi[pick]))
        for size in (1, 3, 60):
            origins = np.vstack(
                [
                    rng.uniform(box[0], box[1], size=(size, 2)),  # some off-network
                    np.column_stack([lo, hi])[rng.choice(index.n_nodes, size)],  # at junctions
                ]
            )
            for horizon in (None, 60.0):
                limit = horizon or np.inf
                got = index.table_arrays(origins, dest, horizon_s=horizon)
                org, dsnap = index.snap(origins), index.snap([dest])
                full = index.search_to(dsnap, limit_s=limit)
                eta, length = table_mod.combine(index, org, dsnap, full)
                ok = np.isfinite(eta) & (eta <= limit)
                np.testing.assert_array_equal(got.reachable, ok)
                np.testing.assert_array_equal(got.eta_s, np.where(ok, eta, np.nan))
                np.testing.assert_array_equal(got.distance_m, np.where(ok, length, np.nan))
                # the stopped search answers the origins' nodes exactly; any other finite
                # answer is the time of a real path, so never below the full search's
                wanted = index._origin_nodes(org)
                part = index.search_to(dsnap, limit_s=limit, targets=wanted)
                np.testing.assert_array_equal(part.dist_s[wanted], full.dist_s[wanted])
                np.testing.assert_array_equal(part.length_m[wanted], full.length_m[wanted])
                seen = np.isfinite(part.dist_s)
                assert (part.dist_s[seen] >= full.dist_s[seen] - 1e-9).all()
    bad = origins.copy()
    bad[0] = (200.0, 0.0)
    with pytest.raises(ValueError):
        index.table_arrays(bad, dest)
    from geo.routing.exceptions import OutsideNetworkError

    far = LonLat(float(box[1][0]) + 1.0, float(box[1][1]))
    with pytest.raises(OutsideNetworkError):
        index.table_arrays(origins, far)
