"""Helpers for routing tests on the real pilot graphs: points on edges, the exported-CSV graph."""

from __future__ import annotations

import csv
from pathlib import Path

import networkx as nx
import numpy as np

from geo.routing.index import RoutingIndex
from geo.types import LonLat


def point_on_edge(index: RoutingIndex, edge: int, frac: float) -> LonLat:
    """The WGS 84 point at ``frac`` of the edge's length along its geometry."""
    return index.point_along(edge, frac)


def snaps_to(index: RoutingIndex, point: LonLat, edge: int) -> bool:
    """Whether ``point`` snaps onto ``edge`` (or its reverse twin)."""
    got = int(index.snap([point]).edge[0])
    return got in (int(edge), int(index.edge_twin[edge]))


def graph_from_csv(path: Path) -> nx.DiGraph:
    """A networkx graph of the exported edges (OSM node ids, ``travel_s`` and ``length_m``)."""
    graph = nx.DiGraph()
    with Path(path).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            graph.add_edge(int(row["u"]), int(row["v"]), travel_s=float(row["travel_s"]),
                           length_m=float(row["length_m"]))
    return graph


def long_edges(index: RoutingIndex, *, oneway: bool | None = None, min_m: float = 80.0,
               classes: tuple[str, ...] | None = None) -> np.ndarray:
    """Edge ids longer than ``min_m``, longest first, optionally one-way only / of some classes."""
    mask = index.edge_length_m >= min_m
    if oneway is not None:
        mask &= (index.edge_twin < 0) if oneway else (index.edge_twin >= 0)
    if classes is not None:
        names = index.highways[index.edge_highway]
        mask &= np.isin(names, classes)
    ids = np.flatnonzero(mask)
    return ids[np.argsort(-index.edge_length_m[ids], kind="stable")]
