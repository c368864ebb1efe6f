"""Compiling a small hand-made osmnx-style graph: one-way, signals, maxspeed, parallel edges,
forbidden classes, and ETA/snap arithmetic on the compiled index (no files, no services)."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from geo.exceptions import RoadNetworkError
from geo.routing.build import compile_graph
from geo.routing.index import RoutingIndex
from geo.routing.profiles import load_profiles
from geo.types import LonLat

# A 3 x 1 ladder along the equator near 110 E: nodes 1-2-3 on the bottom, 4-5-6 on top,
# ~111 m between columns and rows. 1->2->3 is one-way east; the top road is two-way.
_STEP = 0.001


def _graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(crs="epsg:4326")
    coords = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (0, 1), 5: (1, 1), 6: (2, 1)}
    for n, (i, j) in coords.items():
        g.add_node(n, x=110.0 + i * _STEP, y=j * _STEP)
    g.nodes[5]["signal"] = True

    def road(u, v, highway="residential", oneway=False, **extra):
        length = 111.195 * (abs(coords[u][0] - coords[v][0]) + abs(coords[u][1] - coords[v][1]))
        g.add_edge(u, v, highway=highway, oneway=oneway, length=length, name=f"Jalan {u}{v}",
                   **extra)
        if not oneway:
            g.add_edge(v, u, highway=highway, oneway=oneway, length=length, name=f"Jalan {u}{v}",
                       **extra)

    road(1, 2, "primary", oneway=True)
    road(2, 3, "primary", oneway=True, maxspeed="20")
    road(4, 5)
    road(5, 6)
    road(1, 4, "living_street")
    road(2, 5)
    road(3, 6)
    g.add_edge(4, 5, highway="service", oneway=False, length=500.0)  # slower parallel edge
    return g


def _index(profile) -> RoutingIndex:
    arrays = compile_graph(_graph(), profile)
    meta = {"region": "99.99", "profile": profile.name,
            "offroad_speed_kmh": profile.offroad_speed_kmh}
    return RoutingIndex(arrays, meta)


@pytest.fixture(scope="module")
def amb():
    return load_profiles()["ambulance"]


def _edge(index, u, v) -> int:
    ids = list(index.node_osmid)
    return int(index.edge_id(np.array([ids.index(u)]), np.array([ids.index(v)]))[0])


def test_compiled_weights(amb):
    index = _index(amb)
    e12, e23, e45, e25 = (_edge(index, 1, 2), _edge(index, 2, 3), _edge(index, 4, 5),
                          _edge(index, 2, 5))
    assert index.edge_run_s[e12] == pytest.approx(111.195 / (amb.speed_for("primary") / 3.6))
    assert index.edge_run_s[e23] == pytest.approx(111.195 / (20 / 3.6))  # tagged maxspeed
    assert index.edge_penalty_s[e45] == amb.signal_penalty_s  # enters the signal node 5
    assert index.edge_penalty_s[e25] == amb.signal_penalty_s
    assert index.edge_penalty_s[e12] == 0.0
    assert index.edge_length_m[e45] == pytest.approx(111.195)  # the 500 m parallel edge lost
    assert index.edge_twin[e12] == -1 and index.edge_twin[e45] >= 0
    assert index.names[index.edge_name[e45]] == "Jalan 45"


def test_oneway_and_forbidden_classes(amb):
    index = _index(amb)
    ids = list(index.node_osmid)
    with pytest.raises(KeyError):
        index.edge_id(np.array([ids.index(2)]), np.array([ids.index(1)]))
    truck = _index(load_profiles()["fire_truck"])
    assert "living_street" not in set(truck.highways[truck.edge_highway])
    loose = _index(dataclasses.replace(amb, ignore_oneway=True))
    assert loose.n_edges == index.n_edges + 2  # 2->1 and 3->2 added


def test_partial_edges_and_offroad_leg(amb):
    index = _index(amb)
    e12 = _edge(index, 1, 2)
    a = LonLat(110.0 + 0.25 * _STEP, 0.0)
    b = LonLat(110.0 + 0.75 * _STEP, 0.0)
    forward = index.table([a], b)[0]
    assert forward.eta_s == pytest.approx(0.5 * index.edge_run_s[e12], rel=1e-3)
    back = index.table([b], a)[0]
    assert back.eta_s > forward.eta_s  # round the block: 2 -> 5 -> 4 -> 1 -> a
    yard = LonLat(110.0 + 0.25 * _STEP, -0.0002)  # ~22 m south of the road
    off = index.table([yard], b)[0]
    gap_m = 0.0002 * 111_195.0
    assert off.eta_s == pytest.approx(forward.eta_s + gap_m / (amb.offroad_speed_kmh / 3.6),
                                      rel=1e-3)
    assert off.distance_m == pytest.approx(forward.distance_m + gap_m, rel=1e-3)


def test_graph_without_usable_roads_is_refused(amb):
    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(1, x=110.0, y=0.0)
    g.add_node(2, x=110.001, y=0.0)
    g.add_edge(1, 2, highway="footway", length=111.0)
    with pytest.raises(RoadNetworkError, match="no road usable"):
        compile_graph(g, amb)


def test_eta_table_lists_the_same_frozen_values_as_the_constructor():
    from dataclasses import FrozenInstanceError

    from geo.routing.results import Eta, EtaTable

    table = EtaTable(np.array([12.5, np.nan, np.nan]), np.array([100.0, np.nan, np.nan]),
                     np.array([True, False, False]), np.array([0, 1, 3], dtype=np.int8))
    got = table.to_list()
    assert got == [Eta(0, True, 12.5, 100.0, None), Eta(1, False, None, None, "beyond_horizon"),
                   Eta(2, False, None, None, "off_network")]
    with pytest.raises(FrozenInstanceError):
        got[0].eta_s = 1.0  # type: ignore[misc]
