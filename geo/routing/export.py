"""Export the directed edges a routing index uses, for checks with independent code."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.routing.index import RoutingIndex

EDGE_COLUMNS = ["u", "v", "u_lon", "u_lat", "v_lon", "v_lat", "length_m", "travel_s"]


def write_edges_csv(index: RoutingIndex, path: Path) -> int:
    """Write one row per directed edge (node ids are OSM ids); returns the number of rows.

    ``travel_s`` is the full edge cost used by the search (driving time plus any signal penalty at
    the head node), ``length_m`` metres, coordinates WGS 84. Written to a temporary file first.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    ids = index.node_osmid
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(EDGE_COLUMNS)
        for e in range(index.n_edges):
            u, v = int(index.edge_u[e]), int(index.edge_v[e])
            writer.writerow(
                [
                    int(ids[u]),
                    int(ids[v]),
                    repr(float(index.node_lon[u])),
                    repr(float(index.node_lat[u])),
                    repr(float(index.node_lon[v])),
                    repr(float(index.node_lat[v])),
                    repr(float(index.edge_length_m[e])),
                    repr(float(index.edge_travel_s[e])),
                ]
            )
    tmp.replace(path)
    return index.n_edges
