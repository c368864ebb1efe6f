"""Many-to-many road ETA matrices: from many sources (candidate posts) to many targets (demand).

One bounded Dijkstra per source over the forward road graph, stopped at the horizon; every
target's ETA is then read from that one search tree with the same partial-edge and off-road
arithmetic as :meth:`geo.routing.index.RoutingIndex.table_arrays` (so a cell of the matrix equals
the 1×1 table from that source to that target). No per-pair route is computed.

Seconds throughout; positions are WGS 84 ``(lon, lat)`` arrays of shape ``(n, 2)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from geo.routing.exceptions import RoutingError
from geo.routing.index import Csr, RoutingIndex
from geo.routing.results import Snap

__all__ = ["EtaMatrix", "eta_matrix"]


@dataclass(frozen=True)
class EtaMatrix:
    """ETAs from ``n_sources`` sources to ``n_targets`` targets.

    Attributes
    ----------
    eta_s
        ``(n_sources, n_targets)`` float32 seconds; ``inf`` where the target is beyond the
        horizon, not reachable by road, or either end is off the network.
    horizon_s
        The search horizon in seconds (``inf`` when unbounded).
    source_on_network, target_on_network
        Whether each position snapped to a road within the index's ``max_snap_m``.
    build_s
        Wall-clock seconds spent building the matrix (snapping included).
    """

    eta_s: np.ndarray
    horizon_s: float
    source_on_network: np.ndarray
    target_on_network: np.ndarray
    build_s: float

    def covers(self, minutes: float) -> np.ndarray:
        """Boolean ``(n_sources, n_targets)``: target reachable within ``minutes`` of driving."""
        limit = float(minutes) * 60.0
        if limit > self.horizon_s + 1e-9:
            raise RoutingError(
                f"ambang {minutes} menit melebihi horizon matriks "
                f"{self.horizon_s / 60.0:.1f} menit / threshold {minutes} min exceeds the "
                f"matrix horizon of {self.horizon_s / 60.0:.1f} min"
            )
        return self.eta_s <= limit


def _forward_graph(index: RoutingIndex) -> Csr:
    """The whole directed road graph with rows = tail nodes (built from the index's arrays)."""
    return Csr.of(
        index.fwd_indptr, index.fwd_edge, index.edge_v, index.edge_travel_s, index.edge_length_m
    )


def _source_seeds(index: RoutingIndex, snap: Snap, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Seed nodes and seconds of a forward search leaving source ``i`` (snapped on a road)."""
    e, s, at = int(snap.edge[i]), float(snap.frac[i]), int(snap.node[i])
    off = float(snap.offroad_m[i]) / index.offroad_mps
    nodes = [int(index.edge_v[e])]
    secs = [off + (1.0 - s) * index.edge_run_s[e] + index.edge_penalty_s[e]]
    t = int(index.edge_twin[e])
    if t >= 0:
        nodes.append(int(index.edge_v[t]))
        secs.append(off + s * index.edge_run_s[t] + index.edge_penalty_s[t])
    if at >= 0:
        nodes.append(at)
        secs.append(off)
    uniq, inv = np.unique(np.asarray(nodes, dtype=np.int64), return_inverse=True)
    best = np.full(len(uniq), np.inf)
    np.minimum.at(best, inv, np.asarray(secs, dtype=np.float64))
    return uniq, best


class _Targets:
    """The snapped targets, pre-gathered for the per-source arithmetic."""

    def __init__(self, index: RoutingIndex, snap: Snap) -> None:
        self.on = np.flatnonzero(snap.on_network)
        e = snap.edge[self.on]
        t = index.edge_twin[e]
        self.edge, self.frac = e, snap.frac[self.on]
        self.has_twin = t >= 0
        self.tail = index.edge_u[e]
        self.twin_tail = index.edge_u[np.maximum(t, 0)]
        self.enter_s = self.frac * index.edge_run_s[e]
        self.twin_enter_s = np.where(
            self.has_twin, (1.0 - self.frac) * index.edge_run_s[np.maximum(t, 0)], np.inf
        )
        node = snap.node[self.on]
        self.at_node = node >= 0
        self.node = np.maximum(node, 0)
        self.off_s = snap.offroad_m[self.on] / index.offroad_mps
        self.run_e = index.edge_run_s[e]
        self.run_t = index.edge_run_s[np.maximum(t, 0)]


def _etas_from(
    dist: np.ndarray, tg: _Targets, src_edge: int, src_frac: float, src_off_s: float
) -> np.ndarray:
    """Seconds from one source (its search tree ``dist``) to every on-network target."""
    best = np.minimum(dist[tg.tail] + tg.enter_s, dist[tg.twin_tail] + tg.twin_enter_s)
    best = np.where(tg.at_node, np.minimum(best, dist[tg.node]), best)
    same = tg.edge == src_edge
    if same.any():  # the same road piece: drive along it directly
        fwd = np.where(tg.frac >= src_frac, (tg.frac - src_frac) * tg.run_e, np.inf)
        back = np.where(
            tg.has_twin & (tg.frac <= src_frac), (src_frac - tg.frac) * tg.run_t, np.inf
        )
        direct = np.minimum(fwd, back) + src_off_s
        best = np.where(same, np.minimum(best, direct), best)
    return best + tg.off_s


def eta_matrix(
    index: RoutingIndex,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    horizon_s: float,
) -> EtaMatrix:
    """Road ETAs from every source to every target, one bounded search per source.

    Parameters
    ----------
    index
        The routing index of the region and vehicle profile.
    sources, targets
        ``(n, 2)`` arrays of WGS 84 lon, lat degrees.
    horizon_s
        Searches stop at this many seconds; farther targets get ``inf``. Must be positive.

    Returns
    -------
    EtaMatrix
        ``(len(sources), len(targets))`` seconds.
    """
    if not (horizon_s > 0):
        raise RoutingError(
            f"horizon harus positif (detik), diberikan {horizon_s} / horizon must be a positive "
            f"number of seconds, got {horizon_s}"
        )
    started = time.perf_counter()
    src = np.asarray(sources, dtype=np.float64).reshape(-1, 2)
    tgt = np.asarray(targets, dtype=np.float64).reshape(-1, 2)
    src_snap, tgt_snap = index.snap(src), index.snap(tgt)
    out = np.full((len(src), len(tgt)), np.inf, dtype=np.float32)
    tg = _Targets(index, tgt_snap)
    graph = _forward_graph(index)
    limit = float(horizon_s)
    for i in np.flatnonzero(src_snap.on_network):
        seeds, secs = _source_seeds(index, src_snap, int(i))
        tree = index.search(graph, seeds, secs, np.zeros(len(seeds)), limit_s=limit)
        off_s = float(src_snap.offroad_m[i]) / index.offroad_mps
        eta = _etas_from(tree.dist_s, tg, int(src_snap.edge[i]), float(src_snap.frac[i]), off_s)
        row = np.full(len(tgt), np.inf, dtype=np.float32)
        row[tg.on] = np.where(eta <= limit, eta, np.inf)
        out[i] = row
    return EtaMatrix(
        out,
        limit,
        src_snap.on_network.copy(),
        tgt_snap.on_network.copy(),
        time.perf_counter() - started,
    )
