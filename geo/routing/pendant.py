"""Dead-end trees hanging off the road network, searched without a heap.

A city graph has many cul-de-sacs and alleys (``gang``): trees of two-way roads attached to the
rest of the network at one junction, the *anchor*. The fastest path from any node of such a tree
to a destination outside it runs down the tree to the anchor, so its seconds are the anchor's plus
a constant known when the index is built. A search therefore runs over the *core* (every edge
between two core nodes) and fills the tree nodes with one vector operation afterwards; in Kota
Yogyakarta a quarter of the nodes are in such trees. Only a destination on a tree edge needs the
whole graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.routing.kernels import fill_trees


@dataclass(frozen=True)
class Pendant:
    """Nodes of the two-way dead-end trees and how they reach their anchor.

    ``node`` are the tree nodes, ``parent`` the next node towards the anchor, ``anchor`` the core
    node the tree hangs from and ``to_anchor_s``/``to_anchor_m`` the seconds and metres from the
    node to the anchor.
    ``core_node`` flags the nodes outside every tree, ``core_edge`` the edges between them.
    """

    node: np.ndarray
    parent: np.ndarray
    anchor: np.ndarray
    to_anchor_s: np.ndarray
    to_anchor_m: np.ndarray
    core_node: np.ndarray
    core_edge: np.ndarray

    @classmethod
    def of(
        cls, n_nodes: int, u: np.ndarray, v: np.ndarray, travel_s: np.ndarray,
        length_m: np.ndarray,
    ) -> Pendant:
        """Find the trees by peeling two-way leaves, outermost first.

        ``u``/``v`` are the directed edges (at most one per ordered pair), ``travel_s`` their
        seconds and ``length_m`` their metres. A node is peeled when exactly one road piece
        joins it to the unpeeled graph and that piece is two-way.
        """
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        keys, count = np.unique(lo * n_nodes + hi, return_counts=True)
        a, b = keys // n_nodes, keys % n_nodes
        two_way = count == 2
        alive_pair = a != b
        alive = np.ones(n_nodes, dtype=bool)
        parent = np.full(n_nodes, -1, dtype=np.int64)
        rounds: list[np.ndarray] = []
        while True:
            ends = np.concatenate([a[alive_pair], b[alive_pair]])
            deg = np.bincount(ends, minlength=n_nodes)
            leaf = alive & (deg == 1)
            pairs = np.flatnonzero(alive_pair & (leaf[a] | leaf[b]) & two_way)
            if not len(pairs):
                break
            pa, pb = a[pairs], b[pairs]
            # a lone two-node piece: peel only its higher end, keep the lower as its anchor
            peel_b = leaf[pb]
            node = np.where(peel_b, pb, pa)
            other = np.where(peel_b, pa, pb)
            node, keep = np.unique(node, return_index=True)
            other = other[keep]
            parent[node] = other
            alive[node] = False
            alive_pair[pairs] = False
            rounds.append(node)
        # innermost round first: every parent is core or already resolved
        anchor = np.arange(n_nodes, dtype=np.int64)
        to_anchor_s = np.zeros(n_nodes)
        to_anchor_m = np.zeros(n_nodes)
        edge_key = u * n_nodes + v
        by_key = np.argsort(edge_key)
        sorted_key = edge_key[by_key]
        for node in reversed(rounds):
            par = parent[node]
            edge = by_key[np.searchsorted(sorted_key, node * n_nodes + par)]
            anchor[node] = anchor[par]
            to_anchor_s[node] = travel_s[edge] + to_anchor_s[par]
            to_anchor_m[node] = length_m[edge] + to_anchor_m[par]
        peeled = np.flatnonzero(~alive)
        return cls(
            node=peeled,
            parent=parent[peeled].astype(np.int32),
            anchor=anchor[peeled],
            to_anchor_s=to_anchor_s[peeled],
            to_anchor_m=to_anchor_m[peeled],
            core_node=alive,
            core_edge=alive[u] & alive[v],
        )

    def fill(
        self, dist: np.ndarray, pred: np.ndarray, length_m: np.ndarray, limit_s: float
    ) -> None:
        """Complete a core search's seconds, predecessors and metres (in place) for the tree
        nodes."""
        fill_trees(
            self.node, self.parent, self.anchor, self.to_anchor_s, self.to_anchor_m,
            dist, pred, length_m, float(limit_s),
        )
