"""The compiled road graph of one region and profile as plain data (arrays, no queries).

Arrays (built by :func:`geo.routing.build.compile_graph`, stored in one ``.npz``): node WGS 84
coordinates, one row per directed edge with ``edge_run_s`` (driving seconds), ``edge_penalty_s``
(traffic signal at the head node), ``edge_length_m``, the edge geometry (ragged lon/lat arrays),
the street name and the reversed edge (``edge_twin``, -1 on one-way roads), and CSR adjacency
(forward and reversed). Positions are projected to a local equirectangular plane (metres,
accurate to ~0.1 % across a regency) for snapping and geometry.

The algorithms (:mod:`geo.routing.dijkstra`, :mod:`~geo.routing.table`,
:mod:`~geo.routing.path`, :mod:`~geo.routing.isochrone`) take a :class:`RoadGraph` as input;
:class:`geo.routing.index.RoutingIndex` is the facade that wires them together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.geodesy import M_PER_DEG

__all__ = ["Csr", "RoadGraph", "SearchTree"]


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


class RoadGraph:
    """The arrays of one compiled road graph, its local projection and edge lookup by node pair.

    Parameters
    ----------
    arrays
        The compiled arrays (see the module docstring).
    meta
        At least ``region`` (Kemendagri ``kode_kab``), ``profile`` and ``offroad_speed_kmh``.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        self.meta = dict(meta)
        self.region: str = str(meta["region"])
        self.profile: str = str(meta["profile"])
        self.offroad_mps: float = float(meta["offroad_speed_kmh"]) / 3.6
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
        self._kx = M_PER_DEG * math.cos(math.radians(self._lat0))
        self.geom_x, self.geom_y = self.to_xy(self.geom_lon, self.geom_lat)
        # Out-neighbours padded to the largest out-degree: row = tail node (+ a virtual row).
        deg = np.diff(self.fwd_indptr)
        tails = self.edge_u[self.fwd_edge]
        slot = np.arange(self.n_edges) - self.fwd_indptr[tails]
        width = max(1, int(deg.max(initial=1)))
        self._nbr = np.full((self.n_nodes + 1, width), -1, dtype=np.intp)
        self._nbr_edge = np.zeros(self._nbr.shape, dtype=np.intp)
        self._nbr[tails, slot] = self.edge_v[self.fwd_edge]
        self._nbr_edge[tails, slot] = self.fwd_edge

    def to_xy(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS 84 degrees to local metres (equirectangular around the graph's centre)."""
        x = (np.asarray(lon, dtype=np.float64) - self._lon0) * self._kx
        y = (np.asarray(lat, dtype=np.float64) - self._lat0) * M_PER_DEG
        return x, y

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Local metres back to WGS 84 degrees."""
        return (
            np.asarray(x) / self._kx + self._lon0,
            np.asarray(y) / M_PER_DEG + self._lat0,
        )

    def edge_id(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Directed edge ids for node pairs (the compiled graph has at most one edge per pair)."""
        u = np.asarray(u, dtype=np.intp)
        match = self._nbr[u] == np.asarray(v)[:, None]
        if not match.any(axis=1).all():
            raise KeyError("no directed edge between some of the given node pairs")
        return self._nbr_edge[u, match.argmax(axis=1)]
