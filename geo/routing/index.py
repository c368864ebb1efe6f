"""The routing index of one region and vehicle profile: the facade over the routing modules.

:class:`RoutingIndex` is a :class:`~geo.routing.graph.RoadGraph` (the compiled arrays, plain
data) plus the structures built from it once: the edge snapper (:mod:`geo.routing.snap`), the
search graphs (:mod:`geo.routing.dijkstra`) and the reachability between components
(:mod:`geo.routing.table`). Its query methods (snapping, ETA tables, routes, isochrones) hand
those to the algorithms, which take the graph as input and never import this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo.routing.chains import Chains
from geo.routing.dijkstra import SearchGraphs, origin_nodes, search, search_to
from geo.routing.exceptions import NoRouteError, OutsideNetworkError
from geo.routing.graph import Csr, RoadGraph, SearchTree
from geo.routing.isochrone import isochrone
from geo.routing.path import Route, RouteStep, build_route, edge_xy
from geo.routing.pendant import Pendant
from geo.routing.results import REASONS, Eta, EtaTable, Snap
from geo.routing.snap import AT_NODE_M, EdgeSnapper, as_array, snap_points
from geo.routing.table import Reachability, can_reach, combine
from geo.types import LonLat, validate_lonlat

__all__ = [
    "AT_NODE_M", "DEFAULT_MAX_SNAP_M", "REASONS", "Csr", "Eta", "EtaTable", "Route", "RouteStep",
    "RoutingIndex", "SearchTree", "Snap",
]

#: Positions farther than this from every road are "off the network" (m).
DEFAULT_MAX_SNAP_M = 1500.0
_ROLE_ID = {"origin": "asal", "destination": "tujuan"}


class RoutingIndex(RoadGraph):
    """Road routing for one region (Kemendagri ``kode_kab``) and one vehicle profile."""

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        meta: Mapping[str, Any],
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
    ) -> None:
        super().__init__(arrays, meta)
        self.max_snap_m = float(max_snap_m)
        # One representative per physical road piece (the twin pair shares geometry).
        rep = np.flatnonzero((self.edge_twin < 0) | (np.arange(self.n_edges) < self.edge_twin))
        self._snapper = EdgeSnapper(self.geom_offsets, self.geom_x, self.geom_y, rep)
        self.reachability = Reachability(self.n_nodes, self.edge_u, self.edge_v)
        self.searches = SearchGraphs.of(self)
        self._lines_xy: np.ndarray | None = None

    @property
    def pendant(self) -> Pendant:
        """The dead-end trees taken out of the search graph."""
        return self.searches.pendant

    @pendant.setter
    def pendant(self, value: Pendant) -> None:
        self.searches.pendant = value

    @property
    def chains(self) -> Chains:
        """The chains of through-nodes contracted out of the search graph."""
        return self.searches.chains

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

    def point_along(self, edge: int, frac: float) -> LonLat:
        """The WGS 84 point at ``frac`` (0..1) of an edge's length along its geometry."""
        x, y = edge_xy(self, int(edge), 0.0, float(frac))[-1]
        lon, lat = self.to_lonlat(x, y)
        return LonLat(float(lon), float(lat))

    # -- snapping ----------------------------------------------------------------------------
    def snap(self, points: Sequence[LonLat] | np.ndarray) -> Snap:
        """Snap positions to the nearest road edge (vectorised).

        Positions farther than ``max_snap_m`` from every road get ``edge == -1``.
        """
        return snap_points(self, self._snapper, points, self.max_snap_m)

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
    def search(
        self, graph: Csr, seed_node: np.ndarray, seed_s: np.ndarray, seed_m: np.ndarray, *,
        seed_pred: np.ndarray | None = None, limit_s: float = np.inf,
        targets: np.ndarray | None = None,
    ) -> SearchTree:
        """Dijkstra over ``graph`` from seeded nodes (:func:`geo.routing.dijkstra.search`)."""
        return search(
            graph, self.n_nodes, seed_node, seed_s, seed_m, seed_pred=seed_pred,
            limit_s=limit_s, targets=targets,
        )

    def search_to(
        self, dest: Snap, *, limit_s: float = np.inf, targets: np.ndarray | None = None
    ) -> SearchTree:
        """Seconds and metres from every node to the snapped destination (reversed Dijkstra).

        With ``targets`` (node ids), only their answers are wanted: the search stops once they
        are settled and other nodes may be reported unreached.
        """
        return search_to(self, self.searches, dest, limit_s=limit_s, targets=targets)

    def _origin_nodes(self, org: Snap) -> np.ndarray:
        """The nodes whose answers the origins' ETAs are made of (heads of their edges)."""
        return origin_nodes(self, org)

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
        points = as_array(origins)
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
            code[lost] = np.where(can_reach(self, self.reachability, dest, org, lost), 1, 2)
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
        return isochrone(
            self, self._snapper, self.searches.fwd_full, origins, minutes,
            max_snap_m=self.max_snap_m, buffer_m=buffer_m,
        )
