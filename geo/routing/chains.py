"""Chains of through-nodes, contracted out of the search graph.

Most nodes of a road graph join exactly two roads: bends kept by an unsimplified graph, and
junctions whose third road was a dead-end tree (see :mod:`geo.routing.pendant`). A *pass* node
has exactly two neighbours in the core and either two-way roads to both or one road in from one
and one road out to the other. Maximal runs of pass nodes between two other (*junction*) nodes
are *chains*; the search runs over the *skeleton*: the junctions, the core roads between them and
one shortcut per chain and direction (seconds and metres summed). A pass node's answer is then
its best way out of the chain: to the end ``b`` forward, or (two-way chains) to the start ``a``.

Chain ``c`` lists its nodes ``a = c0, c1, ..., ck, b = c(k+1)`` in ``nodes[ptr[c]:ptr[c+1]]``
with prefix sums of the forward seconds/metres (``c0 -> ci``) and, for two-way chains, of the
backward ones (``ci -> c0``). Only the destination's own chain needs more than that: its nodes
may reach the destination along the chain (see :meth:`Chains.settle_destination_chain`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geo.routing.kernels import NO_PRED, fill_chains


@dataclass(frozen=True)
class Chains:
    """Chains of pass nodes over a core graph (see the module docstring).

    Per chain: ``ptr`` into ``nodes``, ``two_way``, prefix sums ``fwd_s``/``fwd_m`` and
    ``bwd_s``/``bwd_m`` aligned with ``nodes`` (``inf`` backward on one-way chains).
    Per node: ``is_pass``, ``chain`` (-1 for junctions) and ``pos`` (index within its chain);
    ``pass_nodes`` lists the pass nodes.
    """

    is_pass: np.ndarray
    pass_nodes: np.ndarray
    chain: np.ndarray
    pos: np.ndarray
    ptr: np.ndarray
    nodes: np.ndarray
    two_way: np.ndarray
    fwd_s: np.ndarray
    fwd_m: np.ndarray
    bwd_s: np.ndarray
    bwd_m: np.ndarray

    # -- building --------------------------------------------------------------------------
    @classmethod
    def of(
        cls,
        n_nodes: int,
        u: np.ndarray,
        v: np.ndarray,
        core_edge: np.ndarray,
        edge_id: Callable[[np.ndarray, np.ndarray], np.ndarray],
        travel_s: np.ndarray,
        length_m: np.ndarray,
    ) -> Chains:
        """Find the chains of the core edges (``core_edge``) of a graph with at most one
        directed edge per ordered node pair; ``edge_id(tails, heads)`` names those edges."""
        cu = np.asarray(u, dtype=np.int64)[core_edge]
        cv = np.asarray(v, dtype=np.int64)[core_edge]
        n = n_nodes
        keys = np.unique(np.minimum(cu, cv) * n + np.maximum(cu, cv))
        pa, pb = keys // n, keys % n
        deg = np.bincount(np.concatenate([pa, pb]), minlength=n)
        indeg = np.bincount(cv, minlength=n)
        outdeg = np.bincount(cu, minlength=n)
        in_from = np.full(n, -1, dtype=np.int64)
        in_from[cv] = cu
        out_to = np.full(n, -1, dtype=np.int64)
        out_to[cu] = cv
        two = (deg == 2) & (indeg == 2) & (outdeg == 2)
        one = (deg == 2) & (indeg == 1) & (outdeg == 1) & (in_from != out_to)
        is_pass = two | one
        # the two neighbours of every pass node
        nbr = np.full((n, 2), -1, dtype=np.int64)
        ends = np.concatenate([pa, pb])
        others = np.concatenate([pb, pa])
        order = np.argsort(ends, kind="stable")
        ends, others = ends[order], others[order]
        first = np.searchsorted(ends, np.arange(n))
        has2 = deg == 2
        nbr[has2, 0] = others[first[has2]]
        nbr[has2, 1] = others[first[has2] + 1]
        # one-way pass nodes: neighbour 0 is where the road comes from
        nbr[one, 0], nbr[one, 1] = in_from[one], out_to[one]

        out_ptr = np.concatenate([[0], np.cumsum(np.bincount(cu, minlength=n))])
        out_heads = cv[np.argsort(cu, kind="stable")]
        chain_of = np.full(n, -1, dtype=np.int64)
        pos = np.zeros(n, dtype=np.int64)
        runs: list[list[int]] = []
        kinds: list[bool] = []
        pass_list = is_pass.tolist()
        nbr_list = nbr.tolist()
        visited = [False] * n

        def walk(start: int) -> None:
            for y in out_heads[out_ptr[start] : out_ptr[start + 1]].tolist():
                if not pass_list[y] or visited[y]:
                    continue
                run = [start]
                prev, cur = start, y
                while pass_list[cur] and not visited[cur]:
                    visited[cur] = True
                    run.append(cur)
                    a, b = nbr_list[cur]
                    prev, cur = cur, (b if a == prev else a)
                run.append(cur)
                runs.append(run)
                kinds.append(bool(two[y]))

        for j in np.flatnonzero(~is_pass & (deg > 0)).tolist():
            walk(j)
        # cycles made only of pass nodes (isolated rings): one node of each becomes a junction
        for x in np.flatnonzero(is_pass).tolist():
            if not visited[x]:
                pass_list[x] = False
                is_pass[x] = False
                walk(x)
        ptr = np.concatenate([[0], np.cumsum([len(r) for r in runs])]).astype(np.int64)
        nodes = np.array([x for r in runs for x in r], dtype=np.int64)
        two_way = np.array(kinds, dtype=bool)
        chain_ids = np.repeat(np.arange(len(runs)), np.diff(ptr))
        pos_all = np.arange(len(nodes)) - ptr[chain_ids]
        inner = is_pass[nodes] & (pos_all > 0) & (pos_all < np.diff(ptr)[chain_ids] - 1)
        chain_of[nodes[inner]] = chain_ids[inner]
        pos[nodes[inner]] = pos_all[inner]
        # prefix sums along each chain
        step = np.ones(len(nodes), dtype=bool)
        step[ptr[:-1]] = False  # no step into a chain's first node
        tails, heads = nodes[np.flatnonzero(step) - 1], nodes[step]
        fwd = edge_id(tails, heads)
        ws, wm = np.zeros(len(nodes)), np.zeros(len(nodes))
        ws[step], wm[step] = travel_s[fwd], length_m[fwd]
        fwd_s, fwd_m = _prefix(ptr, ws), _prefix(ptr, wm)
        tw = two_way[chain_ids]
        bwd_s = np.full(len(nodes), np.inf)
        bwd_m = np.full(len(nodes), np.inf)
        if tw.any():
            sel = np.flatnonzero(step & tw)
            bwd = edge_id(nodes[sel], nodes[sel - 1])
            ws, wm = np.zeros(len(nodes)), np.zeros(len(nodes))
            ws[sel], wm[sel] = travel_s[bwd], length_m[bwd]
            bwd_s[tw] = _prefix(ptr, ws)[tw]
            bwd_m[tw] = _prefix(ptr, wm)[tw]
        return cls(
            is_pass, np.flatnonzero(is_pass), chain_of, pos, ptr, nodes, two_way,
            fwd_s, fwd_m, bwd_s, bwd_m,
        )

    # -- the skeleton --------------------------------------------------------------------------
    def shortcuts(self) -> tuple[np.ndarray, ...]:
        """One skeleton edge per chain and direction, loops left out: tails, heads, seconds,
        metres and the first node after the tail (the predecessor a search should record)."""
        a, b = self.nodes[self.ptr[:-1]], self.nodes[self.ptr[1:] - 1]
        last = self.ptr[1:] - 1
        total_s, total_m = self.fwd_s[last], self.fwd_m[last]
        first_in, last_in = self.nodes[self.ptr[:-1] + 1], self.nodes[last - 1]
        keep = a != b
        back = keep & self.two_way
        return (
            np.concatenate([a[keep], b[back]]),
            np.concatenate([b[keep], a[back]]),
            np.concatenate([total_s[keep], self.bwd_s[last][back]]),
            np.concatenate([total_m[keep], self.bwd_m[last][back]]),
            np.concatenate([first_in[keep], last_in[back]]),
        )

    def needs(self) -> tuple[np.ndarray, np.ndarray]:
        """For every node, the two skeleton nodes its answer is made from (itself, twice, for
        a junction; a pass node's chain end, and its start on two-way chains)."""
        n = len(self.is_pass)
        first = np.arange(n, dtype=np.int64)
        second = first.copy()
        p = np.flatnonzero(self.is_pass)
        c = self.chain[p]
        end = self.nodes[self.ptr[c + 1] - 1]
        start = self.nodes[self.ptr[c]]
        first[p] = end
        second[p] = np.where(self.two_way[c], start, end)
        return first, second

    # -- answers of pass nodes -------------------------------------------------------------------
    def fill(
        self, dist: np.ndarray, pred: np.ndarray, length_m: np.ndarray, limit_s: float
    ) -> None:
        """Complete a skeleton search (in place) for every pass node from its chain's ends.

        An end whose own path enters this chain is not used (its way through the chain is
        never shorter than leaving by the other end), so predecessors never run in circles.
        """
        fill_chains(
            self.ptr, self.nodes, self.two_way, self.fwd_s, self.fwd_m, self.bwd_s, self.bwd_m,
            dist, pred, length_m, float(limit_s),
        )

    def seeds(
        self, node: np.ndarray, sec: np.ndarray, metres: np.ndarray, source: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Move search seeds that lie on pass nodes to their chain's ends.

        Returns the skeleton seeds (nodes, seconds, metres, predecessors) and the chain of the
        moved seeds (-1 when none moved; the seeds of one destination share one chain).
        """
        out_n, out_s, out_m, out_p = [], [], [], []
        chain = -1
        for x, s, m in zip(node.tolist(), sec.tolist(), metres.tolist(), strict=True):
            c = int(self.chain[x])
            if c < 0:
                out_n.append(x)
                out_s.append(s)
                out_m.append(m)
                out_p.append(source)
                continue
            chain = c
            base, last = int(self.ptr[c]), int(self.ptr[c + 1]) - 1
            at = base + int(self.pos[x])
            out_n.append(int(self.nodes[base]))
            out_s.append(float(self.fwd_s[at] - self.fwd_s[base]) + s)
            out_m.append(float(self.fwd_m[at] - self.fwd_m[base]) + m)
            out_p.append(int(self.nodes[base + 1]))
            if self.two_way[c]:
                out_n.append(int(self.nodes[last]))
                out_s.append(float(self.bwd_s[last] - self.bwd_s[at]) + s)
                out_m.append(float(self.bwd_m[last] - self.bwd_m[at]) + m)
                out_p.append(int(self.nodes[last - 1]))
        return (
            np.array(out_n, dtype=np.int64),
            np.array(out_s),
            np.array(out_m),
            np.array(out_p, dtype=np.int64),
            chain,
        )

    def settle_destination_chain(
        self, chain: int, node: np.ndarray, sec: np.ndarray, metres: np.ndarray, source: int,
        dist: np.ndarray, pred: np.ndarray, length_m: np.ndarray, limit_s: float,
    ) -> None:
        """After :meth:`fill`: the pass nodes of the destination's chain may also reach the
        seeds (``node`` etc., the unmoved ones) directly along the chain; ties keep the direct
        way, which never runs through a chain end."""
        base, last = int(self.ptr[chain]), int(self.ptr[chain + 1]) - 1
        idx = np.arange(base + 1, last)
        inner = self.nodes[idx]
        best = np.where(np.isfinite(dist[inner]), dist[inner], np.inf)
        best_m, best_p = length_m[inner].copy(), pred[inner].copy()
        for x, s, m in zip(node.tolist(), sec.tolist(), metres.tolist(), strict=True):
            if self.chain[x] != chain:
                continue
            at = base + int(self.pos[x])
            fwd = np.where(idx <= at, self.fwd_s[at] - self.fwd_s[idx] + s, np.inf)
            fwd_m = self.fwd_m[at] - self.fwd_m[idx] + m
            fwd_p = np.where(idx == at, source, self.nodes[np.minimum(idx + 1, last)])
            use = fwd <= best
            best, best_m, best_p = (np.where(use, fwd, best), np.where(use, fwd_m, best_m),
                                    np.where(use, fwd_p, best_p))
            if self.two_way[chain]:
                bwd = np.where(idx >= at, self.bwd_s[idx] - self.bwd_s[at] + s, np.inf)
                bwd_m = self.bwd_m[idx] - self.bwd_m[at] + m
                bwd_p = np.where(idx == at, source, self.nodes[idx - 1])
                use = bwd <= best
                best, best_m, best_p = (np.where(use, bwd, best), np.where(use, bwd_m, best_m),
                                        np.where(use, bwd_p, best_p))
        far = ~(best <= limit_s) | np.isinf(best)  # unreached ends, or beyond the limit
        dist[inner] = np.where(far, np.inf, best)
        length_m[inner] = np.where(far, np.inf, best_m)
        pred[inner] = np.where(far, NO_PRED, best_p)


def _prefix(ptr: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per chain, the running sum of ``w`` (aligned with the chain nodes: the step into each
    node, 0 at each chain's first node), restarting at every chain."""
    total = np.cumsum(w)
    return total - np.repeat(total[ptr[:-1]], np.diff(ptr))
