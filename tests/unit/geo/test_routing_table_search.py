"""Query-time shortcuts of ETA tables give the same answers as the plain computation."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from geo.routing import table as table_mod
from geo.routing.table import Reachability


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
