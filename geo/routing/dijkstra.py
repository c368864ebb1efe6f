"""Shortest-path searches over a :class:`~geo.routing.graph.RoadGraph` (seconds and metres).

Searches towards a destination run on the reversed graph (row = head node): the whole graph, or
its skeleton: the core without the dead-end trees (:mod:`geo.routing.pendant`) with the chains
of through-nodes contracted (:mod:`geo.routing.chains`); the contracted nodes are then filled
from the skeleton's answers. The inner loop is :func:`geo.routing.kernels.shortest_tree`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.routing.chains import Chains
from geo.routing.graph import Csr, RoadGraph, SearchTree
from geo.routing.kernels import shortest_tree
from geo.routing.pendant import Pendant
from geo.routing.results import Snap

__all__ = ["SearchGraphs", "origin_nodes", "search", "search_to"]


@dataclass
class SearchGraphs:
    """The search structures of one road graph: the whole graph both ways, the reversed skeleton,
    the dead-end trees and chains taken out of it, and per node the skeleton nodes its answer
    comes from (``needs``)."""

    pendant: Pendant
    chains: Chains
    rev_full: Csr
    fwd_full: Csr
    rev_skeleton: Csr
    needs: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, graph: RoadGraph) -> SearchGraphs:
        g = graph
        costs = (g.edge_travel_s, g.edge_length_m)
        pendant = Pendant.of(g.n_nodes, g.edge_u, g.edge_v, *costs)
        chains = Chains.of(g.n_nodes, g.edge_u, g.edge_v, pendant.core_edge, g.edge_id, *costs)
        plain = np.flatnonzero(
            pendant.core_edge & ~chains.is_pass[g.edge_u] & ~chains.is_pass[g.edge_v]
        )
        tails, heads, sec, metres, first = chains.shortcuts()
        rev_skeleton = Csr.by_row(
            g.n_nodes,
            np.concatenate([g.edge_v[plain], heads]),
            np.concatenate([g.edge_u[plain], tails]),
            np.concatenate([g.edge_travel_s[plain], sec]),
            np.concatenate([g.edge_length_m[plain], metres]),
            np.concatenate([g.edge_v[plain], first]),
        )
        # the skeleton nodes each node's answer comes from (a dead-end tree's anchor, then a
        # chain's ends)
        core_of = np.arange(g.n_nodes, dtype=np.int64)
        core_of[pendant.node] = pendant.anchor
        need_a, need_b = chains.needs()
        return cls(
            pendant=pendant,
            chains=chains,
            rev_full=Csr.of(g.rev_indptr, g.rev_edge, g.edge_u, *costs),
            fwd_full=Csr.of(g.fwd_indptr, g.fwd_edge, g.edge_v, *costs),
            rev_skeleton=rev_skeleton,
            needs=(need_a[core_of], need_b[core_of]),
        )


def search(
    graph: Csr, n_nodes: int, seed_node: np.ndarray, seed_s: np.ndarray, seed_m: np.ndarray, *,
    seed_pred: np.ndarray | None = None, limit_s: float = np.inf,
    targets: np.ndarray | None = None,
) -> SearchTree:
    """Dijkstra over ``graph`` (``n_nodes`` nodes) from seeded nodes.

    See :func:`geo.routing.kernels.shortest_tree`.
    """
    if seed_pred is None:  # seeds hang off the virtual source, numbered n_nodes
        seed_pred = np.full(len(seed_node), n_nodes, dtype=np.int64)
    dist, metres, pred = shortest_tree(
        graph.indptr, graph.cols, graph.weight_s, graph.length_m, graph.hop,
        np.ascontiguousarray(seed_node, dtype=np.int64),
        np.ascontiguousarray(seed_s, dtype=np.float64),
        np.ascontiguousarray(seed_m, dtype=np.float64),
        np.ascontiguousarray(seed_pred, dtype=np.int64),
        float(limit_s),
        np.zeros(0, dtype=np.int64) if targets is None
        else np.ascontiguousarray(targets, dtype=np.int64),
    )
    return SearchTree(dist, metres, pred)


def search_to(
    g: RoadGraph, sg: SearchGraphs, dest: Snap, *, limit_s: float = np.inf,
    targets: np.ndarray | None = None,
) -> SearchTree:
    """Seconds and metres from every node to the snapped destination (reversed Dijkstra).

    With ``targets`` (node ids), only their answers are wanted: the search stops once they
    are settled and other nodes may be reported unreached.
    """
    e, f, at = int(dest.edge[0]), float(dest.frac[0]), int(dest.node[0])
    t = int(g.edge_twin[e])
    core = bool(sg.pendant.core_node[at] if at >= 0 else sg.pendant.core_edge[e])
    if at >= 0:  # at a junction: reached from every road into it
        seeds = [at], [0.0], [0.0]
    elif t >= 0:
        seeds = (
            [g.edge_u[e], g.edge_u[t]],
            [f * g.edge_run_s[e], (1 - f) * g.edge_run_s[t]],
            [f * g.edge_length_m[e], (1 - f) * g.edge_length_m[t]],
        )
    else:
        seeds = [g.edge_u[e]], [f * g.edge_run_s[e]], [f * g.edge_length_m[e]]
    node, sec, metres = (np.asarray(x) for x in seeds)
    n = g.n_nodes
    if not core:
        return search(sg.rev_full, n, node, sec, metres, limit_s=limit_s, targets=targets)
    if targets is not None:
        targets = np.concatenate([sg.needs[0][targets], sg.needs[1][targets]])
    chains = sg.chains
    sk_node, sk_sec, sk_m, sk_pred, chain = chains.seeds(node, sec, metres, n)
    tree = search(
        sg.rev_skeleton, n, sk_node, sk_sec, sk_m, seed_pred=sk_pred, limit_s=limit_s,
        targets=targets,
    )
    chains.fill(tree.dist_s, tree.pred, tree.length_m, limit_s)
    if chain >= 0:
        chains.settle_destination_chain(
            chain, node, sec, metres, n, tree.dist_s, tree.pred, tree.length_m, limit_s
        )
    sg.pendant.fill(tree.dist_s, tree.pred, tree.length_m, limit_s)
    return tree


def origin_nodes(g: RoadGraph, org: Snap) -> np.ndarray:
    """The nodes whose answers the origins' ETAs are made of (heads of their edges)."""
    on = org.on_network
    e = org.edge[on]
    t = g.edge_twin[e]
    node = org.node[on]
    return np.concatenate([g.edge_v[e], g.edge_v[t[t >= 0]], node[node >= 0]])
