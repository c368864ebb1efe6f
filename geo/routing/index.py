"""The compiled routing index of one region and vehicle profile: snapping and ETA queries.

Arrays (built by :func:`geo.routing.build.compile_graph`, stored in one ``.npz``): node WGS 84
coordinates, one row per directed edge with ``edge_run_s`` (driving seconds), ``edge_penalty_s``
(traffic signal at the head node), ``edge_length_m``, the edge geometry (ragged lon/lat arrays),
the street name and the reversed edge (``edge_twin``, -1 on one-way roads), and CSR adjacency
(forward and reversed). Positions are snapped to the nearest edge in a local equirectangular
projection (metres, accurate to ~0.1 % across a regency).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo.routing.chains import Chains
from geo.routing.exceptions import NoRouteError, OutsideNetworkError
from geo.routing.kernels import shortest_tree
from geo.routing.path import Route, RouteStep, build_route
from geo.routing.pendant import Pendant
from geo.routing.results import REASONS, Eta, EtaTable, Snap
from geo.routing.snap import EdgeSnapper
from geo.routing.table import Reachability, can_reach, combine
from geo.types import LonLat, validate_lonlat

__all__ = ["REASONS", "Eta", "EtaTable", "Route", "RouteStep", "RoutingIndex", "SearchTree", "Snap"]

_EARTH_M_PER_DEG = 6371008.8 * math.pi / 180.0
#: Positions farther than this from every road are "off the network" (m).
DEFAULT_MAX_SNAP_M = 1500.0
#: A snapped point this close (m) to an end of its edge is at that graph node.
AT_NODE_M = 0.01
_ROLE_ID = {"origin": "asal", "destination": "tujuan"}


@dataclass(frozen=True)
class Csr:
    """A directed graph as compressed rows: for row ``r`` the entries ``indptr[r]:indptr[r+1]``
    of ``cols`` (the other node), ``weight_s`` (seconds), ``length_m`` (metres) and ``hop``
    (the predecessor a search records for ``cols``: the row, or the first node of a chain)."""

    indptr: np.ndarray
    cols: np.ndarray
    weight_s: np.ndarray
    length_m: np.ndarray
    hop: np.ndarray

    @classmethod
    def of(
        cls, indptr: np.ndarray, edges: np.ndarray, other: np.ndarray, weight_s: np.ndarray,
        length_m: np.ndarray,
    ) -> Csr:
        """Rows from an edge order (``edges`` sorted by row, ``indptr`` over them)."""
        return cls(
            np.ascontiguousarray(indptr, dtype=np.int64),
            np.ascontiguousarray(other[edges], dtype=np.int32),
            np.ascontiguousarray(weight_s[edges], dtype=np.float64),
            np.ascontiguousarray(length_m[edges], dtype=np.float64),
            np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr)),
        )

    @classmethod
    def by_row(
        cls, n_nodes: int, row: np.ndarray, col: np.ndarray, weight_s: np.ndarray,
        length_m: np.ndarray, hop: np.ndarray,
    ) -> Csr:
        """Rows from loose entries (any order)."""
        order = np.argsort(row, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_nodes))])
        return cls(
            indptr.astype(np.int64),
            np.ascontiguousarray(col[order], dtype=np.int32),
            np.ascontiguousarray(weight_s[order], dtype=np.float64),
            np.ascontiguousarray(length_m[order], dtype=np.float64),
            np.ascontiguousarray(hop[order], dtype=np.int32),
        )


@dataclass(frozen=True)
class SearchTree:
    """A shortest-path tree: per node the seconds (``inf`` when not reached), the metres along
    the tree and the predecessor (the next node towards the search's source; ``n_nodes`` = the
    source itself, negative when not reached)."""

    dist_s: np.ndarray
    length_m: np.ndarray
    pred: np.ndarray


def _as_array(points: Sequence[LonLat] | np.ndarray) -> np.ndarray:
    """(n, 2) float array of lon, lat from LonLat items (or an array passed through)."""
    if isinstance(points, np.ndarray):
        return points.astype(np.float64, copy=False).reshape(-1, 2)
    try:
        flat = np.fromiter(chain.from_iterable(points), dtype=np.float64, count=2 * len(points))
    except (TypeError, ValueError):
        flat = np.asarray(points, dtype=np.float64)
    return flat.reshape(len(points), 2)


class RoutingIndex:
    """Road routing for one region (Kemendagri ``kode_kab``) and one vehicle profile."""

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        meta: Mapping[str, Any],
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
    ) -> None:
        self.meta = dict(meta)
        self.region: str = str(meta["region"])
        self.profile: str = str(meta["profile"])
        self.offroad_mps: float = float(meta["offroad_speed_kmh"]) / 3.6
        self.max_snap_m = float(max_snap_m)
        a = {k: np.asarray(v) for k, v in arrays.items()}
        self.node_lon, self.node_lat = a["node_lon"], a["node_lat"]
        self.node_osmid = a["node_osmid"]
        self.n_nodes = len(self.node_lon)
        self.edge_u, self.edge_v = a["edge_u"], a["edge_v"]
        self.edge_run_s, self.edge_penalty_s = a["edge_run_s"], a["edge_penalty_s"]
        self.edge_travel_s = self.edge_run_s + self.edge_penalty_s
        self.edge_length_m = a["edge_length_m"]
        self.edge_twin, self.edge_name = a["edge_twin"], a["edge_name"]
        self.edge_highway = a["edge_highway"]
        self.names, self.highways = a["names"], a["highways"]
        self.geom_offsets = a["geom_offsets"]
        self.geom_lon, self.geom_lat = a["geom_lon"], a["geom_lat"]
        self.fwd_indptr, self.fwd_edge = a["fwd_indptr"], a["fwd_edge"]
        self.rev_indptr, self.rev_edge = a["rev_indptr"], a["rev_edge"]
        self.n_edges = len(self.edge_u)
        self._lat0 = float(np.mean(self.node_lat))
        self._lon0 = float(np.mean(self.node_lon))
        self._kx = _EARTH_M_PER_DEG * math.cos(math.radians(self._lat0))
        self.geom_x, self.geom_y = self.to_xy(self.geom_lon, self.geom_lat)
        # One representative per physical road piece (the twin pair shares geometry).
        self._rep = np.flatnonzero(
            (self.edge_twin < 0) | (np.arange(self.n_edges) < self.edge_twin)
        )
        self._snapper = EdgeSnapper(self.geom_offsets, self.geom_x, self.geom_y, self._rep)
        self._lines_xy: np.ndarray | None = None
        # Out-neighbours padded to the largest out-degree: row = tail node (+ a virtual row).
        deg = np.diff(self.fwd_indptr)
        tails = self.edge_u[self.fwd_edge]
        slot = np.arange(self.n_edges) - self.fwd_indptr[tails]
        width = max(1, int(deg.max(initial=1)))
        self._nbr = np.full((self.n_nodes + 1, width), -1, dtype=np.intp)
        self._nbr_edge = np.zeros(self._nbr.shape, dtype=np.intp)
        self._nbr[tails, slot] = self.edge_v[self.fwd_edge]
        self._nbr_edge[tails, slot] = self.fwd_edge

        self.reachability = Reachability(self.n_nodes, self.edge_u, self.edge_v)
        # Searches towards a destination run on the reversed graph (row = head node): the
        # whole graph, or its skeleton: the core without the dead-end trees (geo.routing.pendant)
        # with the chains of through-nodes contracted (geo.routing.chains).
        costs = (self.edge_travel_s, self.edge_length_m)
        self.pendant = Pendant.of(self.n_nodes, self.edge_u, self.edge_v, *costs)
        self.chains = Chains.of(
            self.n_nodes, self.edge_u, self.edge_v, self.pendant.core_edge, self.edge_id, *costs
        )
        self._rev_full = Csr.of(self.rev_indptr, self.rev_edge, self.edge_u, *costs)
        self._fwd_full = Csr.of(self.fwd_indptr, self.fwd_edge, self.edge_v, *costs)
        plain = np.flatnonzero(
            self.pendant.core_edge
            & ~self.chains.is_pass[self.edge_u]
            & ~self.chains.is_pass[self.edge_v]
        )
        tails, heads, sec, metres, first = self.chains.shortcuts()
        self._rev_skeleton = Csr.by_row(
            self.n_nodes,
            np.concatenate([self.edge_v[plain], heads]),
            np.concatenate([self.edge_u[plain], tails]),
            np.concatenate([self.edge_travel_s[plain], sec]),
            np.concatenate([self.edge_length_m[plain], metres]),
            np.concatenate([self.edge_v[plain], first]),
        )
        # the skeleton nodes each node's answer comes from (a dead-end tree's anchor, then a
        # chain's ends)
        core_of = np.arange(self.n_nodes, dtype=np.int64)
        core_of[self.pendant.node] = self.pendant.anchor
        need_a, need_b = self.chains.needs()
        self._needs = (need_a[core_of], need_b[core_of])

    @property
    def lines_xy(self) -> np.ndarray:
        """Shapely LineStrings of every directed edge in local metres (built on first use)."""
        if self._lines_xy is None:
            self._lines_xy = shapely.linestrings(
                np.column_stack([self.geom_x, self.geom_y]),
                indices=np.repeat(np.arange(self.n_edges), np.diff(self.geom_offsets)),
            )
        return self._lines_xy

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, *, max_snap_m: float = DEFAULT_MAX_SNAP_M) -> RoutingIndex:
        """Load an index written by :func:`geo.routing.store.build_networks`."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != "meta"}
            meta = json.loads(str(data["meta"]))
        return cls(arrays, meta, max_snap_m=max_snap_m)

    # -- projection --------------------------------------------------------------------------
    def to_xy(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS 84 degrees to local metres (equirectangular around the graph's centre)."""
        x = (np.asarray(lon, dtype=np.float64) - self._lon0) * self._kx
        y = (np.asarray(lat, dtype=np.float64) - self._lat0) * _EARTH_M_PER_DEG
        return x, y

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Local metres back to WGS 84 degrees."""
        return (
            np.asarray(x) / self._kx + self._lon0,
            np.asarray(y) / _EARTH_M_PER_DEG + self._lat0,
        )

    def point_along(self, edge: int, frac: float) -> LonLat:
        """The WGS 84 point at ``frac`` (0..1) of an edge's length along its geometry."""
        from geo.routing.path import _edge_xy

        x, y = _edge_xy(self, int(edge), 0.0, float(frac))[-1]
        lon, lat = self.to_lonlat(x, y)
        return LonLat(float(lon), float(lat))

    # -- snapping ----------------------------------------------------------------------------
    def snap(self, points: Sequence[LonLat] | np.ndarray) -> Snap:
        """Snap positions to the nearest road edge (vectorised).

        Positions farther than ``max_snap_m`` from every road get ``edge == -1``.
        """
        count = len(points)
        if count == 0:
            empty = np.zeros(0)
            none = np.zeros(0, dtype=np.int64)
            return Snap(none, empty, empty, empty, empty, none)
        arr = _as_array(points)
        if not (np.isfinite(arr).all() and (np.abs(arr) <= (180.0, 90.0)).all()):
            for lon, lat in arr:
                validate_lonlat(lon, lat)
        x, y = self.to_xy(arr[:, 0], arr[:, 1])
        edge, frac, offroad, sx, sy = self._snapper.query(x, y, self.max_snap_m)
        lon, lat = self.to_lonlat(sx, sy)
        e = np.maximum(edge, 0)
        along_m = frac * self.edge_length_m[e]
        node = np.where(along_m <= AT_NODE_M, self.edge_u[e], -1)
        node = np.where(self.edge_length_m[e] - along_m <= AT_NODE_M, self.edge_v[e], node)
        return Snap(edge, frac, offroad, lon, lat, np.where(edge >= 0, node, -1))

    def _snap_one(self, point: LonLat, role: str) -> Snap:
        """Snap one point; ``role`` is ``"origin"`` or ``"destination"`` (for the message)."""
        validate_lonlat(point[0], point[1])
        snap = self.snap([LonLat(float(point[0]), float(point[1]))])
        if snap.edge[0] < 0:
            raise OutsideNetworkError(
                f"titik {_ROLE_ID[role]} ({point[1]:.6f}, {point[0]:.6f}) lebih dari "
                f"{self.max_snap_m:.0f} m dari jaringan jalan wilayah {self.region} / "
                f"the {role} ({point[1]:.6f}, {point[0]:.6f}) is more than "
                f"{self.max_snap_m:.0f} m from the road network of region {self.region}"
            )
        return snap

    # -- search ------------------------------------------------------------------------------
    def _virtual_row(self, snap: Snap, forward: bool) -> tuple[np.ndarray, np.ndarray]:
        """Columns/weights of the virtual node's edges for snapped positions.

        ``forward=False``: the positions are a destination; the virtual node is entered from the
        tails of the snapped edge (and its twin). ``forward=True``: the positions are origins; the
        virtual node leaves towards the heads, after the off-road leg.
        """
        e, s = snap.edge[snap.on_network], snap.frac[snap.on_network]
        off = snap.offroad_m[snap.on_network] / self.offroad_mps
        t = self.edge_twin[e]
        has = t >= 0
        if forward:
            node = snap.node[snap.on_network]
            at = node >= 0
            cols = np.concatenate([self.edge_v[e], self.edge_v[t[has]], node[at]])
            w = np.concatenate(
                [
                    off + (1 - s) * self.edge_run_s[e] + self.edge_penalty_s[e],
                    off[has] + s[has] * self.edge_run_s[t[has]] + self.edge_penalty_s[t[has]],
                    off[at],
                ]
            )
        else:
            cols = np.concatenate([self.edge_u[e], self.edge_u[t[has]]])
            w = np.concatenate([s * self.edge_run_s[e], (1 - s[has]) * self.edge_run_s[t[has]]])
        uniq, inv = np.unique(cols, return_inverse=True)
        best = np.full(len(uniq), np.inf)
        np.minimum.at(best, inv, w)
        return uniq.astype(np.int32), best

    def search(
        self, graph: Csr, seed_node: np.ndarray, seed_s: np.ndarray, seed_m: np.ndarray, *,
        seed_pred: np.ndarray | None = None, limit_s: float = np.inf,
        targets: np.ndarray | None = None,
    ) -> SearchTree:
        """Dijkstra over ``graph`` from seeded nodes.

        See :func:`geo.routing.kernels.shortest_tree`.
        """
        if seed_pred is None:  # seeds hang off the virtual source, numbered n_nodes
            seed_pred = np.full(len(seed_node), self.n_nodes, dtype=np.int64)
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
        self, dest: Snap, *, limit_s: float = np.inf, targets: np.ndarray | None = None
    ) -> SearchTree:
        """Seconds and metres from every node to the snapped destination (reversed Dijkstra).

        With ``targets`` (node ids), only their answers are wanted: the search stops once they
        are settled and other nodes may be reported unreached.
        """
        e, f, at = int(dest.edge[0]), float(dest.frac[0]), int(dest.node[0])
        t = int(self.edge_twin[e])
        core = bool(self.pendant.core_node[at] if at >= 0 else self.pendant.core_edge[e])
        if at >= 0:  # at a junction: reached from every road into it
            seeds = [at], [0.0], [0.0]
        elif t >= 0:
            seeds = (
                [self.edge_u[e], self.edge_u[t]],
                [f * self.edge_run_s[e], (1 - f) * self.edge_run_s[t]],
                [f * self.edge_length_m[e], (1 - f) * self.edge_length_m[t]],
            )
        else:
            seeds = [self.edge_u[e]], [f * self.edge_run_s[e]], [f * self.edge_length_m[e]]
        node, sec, metres = (np.asarray(x) for x in seeds)
        if not core:
            return self.search(self._rev_full, node, sec, metres, limit_s=limit_s, targets=targets)
        if targets is not None:
            targets = np.concatenate([self._needs[0][targets], self._needs[1][targets]])
        chains, n = self.chains, self.n_nodes
        sk_node, sk_sec, sk_m, sk_pred, chain = chains.seeds(node, sec, metres, n)
        tree = self.search(
            self._rev_skeleton, sk_node, sk_sec, sk_m, seed_pred=sk_pred, limit_s=limit_s,
            targets=targets,
        )
        chains.fill(tree.dist_s, tree.pred, tree.length_m, limit_s)
        if chain >= 0:
            chains.settle_destination_chain(
                chain, node, sec, metres, n, tree.dist_s, tree.pred, tree.length_m, limit_s
            )
        self.pendant.fill(tree.dist_s, tree.pred, tree.length_m, limit_s)
        return tree

    def _origin_nodes(self, org: Snap) -> np.ndarray:
        """The nodes whose answers the origins' ETAs are made of (heads of their edges)."""
        on = org.on_network
        e = org.edge[on]
        t = self.edge_twin[e]
        node = org.node[on]
        return np.concatenate([self.edge_v[e], self.edge_v[t[t >= 0]], node[node >= 0]])

    def edge_id(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Directed edge ids for node pairs (the compiled graph has at most one edge per pair)."""
        u = np.asarray(u, dtype=np.intp)
        match = self._nbr[u] == np.asarray(v)[:, None]
        if not match.any(axis=1).all():
            raise KeyError("no directed edge between some of the given node pairs")
        return self._nbr_edge[u, match.argmax(axis=1)]

    def table(
        self, origins: Sequence[LonLat], destination: LonLat, *, horizon_s: float | None = None
    ) -> list[Eta]:
        """ETAs from many origins to one destination, all from ONE reversed Dijkstra.

        Every origin gets an :class:`Eta`; unreachable ones carry a reason, never infinity.

        Raises
        ------
        OutsideNetworkError
            When the destination is farther than ``max_snap_m`` from the road network.
        """
        return self.table_arrays(origins, destination, horizon_s=horizon_s).to_list()

    def table_arrays(
        self,
        origins: Sequence[LonLat] | np.ndarray,
        destination: LonLat,
        *,
        horizon_s: float | None = None,
    ) -> EtaTable:
        """Like :meth:`table`, as arrays (no per-origin objects): the hot path for large fleets.

        ``origins`` may also be an ``(n, 2)`` array of lon, lat degrees.
        """
        validate_lonlat(destination[0], destination[1])
        limit = np.inf if horizon_s is None else float(horizon_s)
        points = _as_array(origins)
        both = self.snap(np.vstack([points, [[destination[0], destination[1]]]]))
        org, dest = both.part(slice(0, -1)), both.part(slice(-1, None))
        if dest.edge[0] < 0:
            self._snap_one(destination, "destination")  # raises OutsideNetworkError
        targets = self._origin_nodes(org)
        tree = self.search_to(dest, limit_s=limit, targets=targets) if len(targets) else None
        eta, length = combine(self, org, dest, tree)
        ok = np.isfinite(eta) & (eta <= limit)
        code = np.where(ok, 0, np.where(org.on_network, 1, 3)).astype(np.int8)
        lost = np.flatnonzero(org.on_network & ~np.isfinite(eta))
        if len(lost):
            code[lost] = np.where(can_reach(self, dest, org, lost), 1, 2)
        return EtaTable(np.where(ok, eta, np.nan), np.where(ok, length, np.nan), ok, code)

    def route(self, origin: LonLat, destination: LonLat) -> Route:
        """Fastest route with geometry and turn-by-turn steps.

        Raises
        ------
        OutsideNetworkError
            Either end is too far from the road network.
        NoRouteError
            No road path joins the two points.
        """
        org = self._snap_one(origin, "origin")
        dest = self._snap_one(destination, "destination")
        tree = self.search_to(dest, targets=self._origin_nodes(org))
        eta, _ = combine(self, org, dest, tree)
        if not np.isfinite(eta[0]):
            raise NoRouteError(
                f"tidak ada rute jalan untuk profil {self.profile} / no road route for profile "
                f"{self.profile} between the two points"
            )
        return build_route(self, org, dest, tree.dist_s, tree.pred, float(eta[0]))

    def isochrone(self, origins: Sequence[LonLat], minutes: float, *, buffer_m: float = 40.0):
        """Polygon (WGS 84) of road reachable within ``minutes`` from any of ``origins``."""
        from geo.routing.isochrone import isochrone

        return isochrone(self, origins, minutes, buffer_m=buffer_m)
