"""Arithmetic of ETA tables on top of one reversed search: partial edges at both ends, off-road
legs, junction positions and unreachability reasons.
Seconds and metres throughout.
"""

from __future__ import annotations

import threading

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from geo.routing.graph import RoadGraph, SearchTree
from geo.routing.results import Snap

#: How many destination-component reachability masks a :class:`Reachability` keeps.
_REACHING_CACHE = 16


class Reachability:
    """Which nodes can reach which, through the strongly connected components (SCC).

    The condensation of a road graph is small (one giant component plus dead-end pieces), so a
    breadth-first search over it answers "is there any path" in microseconds.
    """

    def __init__(self, n_nodes: int, u: np.ndarray, v: np.ndarray) -> None:
        adj = csr_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n_nodes, n_nodes))
        self.count, self.label = connected_components(adj, directed=True, connection="strong")
        cu, cv = self.label[u], self.label[v]
        cross = cu != cv
        pairs = np.unique(np.column_stack([cv[cross], cu[cross]]), axis=0)
        self.reverse = csr_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
            shape=(self.count, self.count),
        )
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    def reaching(self, targets: list[int]) -> np.ndarray:
        """Boolean mask of the nodes from which some node in ``targets`` can be reached.

        The mask depends only on the targets' components: the last few are kept (most
        destinations lie in the one giant component, so this is nearly always a lookup).
        Callers must not modify the returned array.
        """
        comps = tuple(sorted({int(self.label[t]) for t in targets}))
        mask = self._cache.get(comps)
        if mask is None:
            ok = np.zeros(self.count, dtype=bool)
            for comp in comps:
                ok[
                    breadth_first_order(
                        self.reverse, comp, directed=True, return_predecessors=False
                    )
                ] = True
            mask = ok[self.label]
            mask.flags.writeable = False
            with self._lock:
                if len(self._cache) >= _REACHING_CACHE:
                    self._cache.pop(next(iter(self._cache)), None)
                self._cache[comps] = mask
        return mask


def can_reach(
    graph: RoadGraph, reachability: Reachability, dest: Snap, org: Snap, which: np.ndarray
) -> np.ndarray:
    """Whether origins ``which`` are connected to the destination at all (any time)."""
    e, t = int(dest.edge[0]), int(graph.edge_twin[dest.edge[0]])
    tails = [int(graph.edge_u[e])] + ([int(graph.edge_u[t])] if t >= 0 else [])
    can = reachability.reaching(tails if dest.node[0] < 0 else [int(dest.node[0])])
    oe = org.edge[which]
    ot = graph.edge_twin[oe]
    via_twin = np.where(ot >= 0, can[graph.edge_v[np.maximum(ot, 0)]], False)
    node = org.node[which]
    at_node = np.where(node >= 0, can[np.maximum(node, 0)], False)
    return can[graph.edge_v[oe]] | via_twin | at_node


def combine(
    graph: RoadGraph, org: Snap, dest: Snap, tree: SearchTree | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-origin seconds and metres: node distances plus partial edges and off-road legs.

    ``tree`` is the search towards ``dest`` (``None`` when no origin is on the network).
    """
    n = len(org.edge)
    eta = np.full(n, np.inf)
    length = np.full(n, np.nan)
    on = np.flatnonzero(org.on_network)
    if not len(on) or tree is None:
        return eta, length
    dist, tree_m = tree.dist_s, tree.length_m
    e, s = org.edge[on], org.frac[on]
    t = graph.edge_twin[e]
    has = t >= 0
    tt = np.where(has, t, 0)
    off_s = org.offroad_m[on] / graph.offroad_mps
    a_s = (1 - s) * graph.edge_run_s[e] + graph.edge_penalty_s[e] + dist[graph.edge_v[e]]
    a_m = (1 - s) * graph.edge_length_m[e] + tree_m[graph.edge_v[e]]
    b_s = np.where(
        has, s * graph.edge_run_s[tt] + graph.edge_penalty_s[tt] + dist[graph.edge_v[tt]], np.inf
    )
    b_m = s * graph.edge_length_m[tt] + tree_m[graph.edge_v[tt]]
    best_s, best_m = np.where(b_s < a_s, b_s, a_s), np.where(b_s < a_s, b_m, a_m)
    # At a junction: leave it along any road.
    node = org.node[on]
    at = np.maximum(node, 0)
    c_s = np.where(node >= 0, dist[at], np.inf)
    use = c_s < best_s
    best_s, best_m = np.where(use, c_s, best_s), np.where(use, tree_m[at], best_m)
    # Same road piece as the destination: drive along it directly.
    de, ds = int(dest.edge[0]), float(dest.frac[0])
    same = e == de
    if same.any():
        dt = int(graph.edge_twin[de])
        fwd_s = np.where(s <= ds, (ds - s) * graph.edge_run_s[de], np.inf)
        fwd_m = (ds - s) * graph.edge_length_m[de]
        back_s = np.where((s >= ds) & (dt >= 0), (s - ds) * graph.edge_run_s[dt], np.inf)
        back_m = (s - ds) * graph.edge_length_m[dt]
        direct_s = np.minimum(fwd_s, back_s)
        direct_m = np.where(fwd_s <= back_s, fwd_m, back_m)
        use = same & (direct_s < best_s)
        best_s, best_m = np.where(use, direct_s, best_s), np.where(use, direct_m, best_m)
    dest_off_s = float(dest.offroad_m[0]) / graph.offroad_mps
    eta[on] = best_s + off_s + dest_off_s
    length[on] = best_m + org.offroad_m[on] + float(dest.offroad_m[0])
    return eta, length
