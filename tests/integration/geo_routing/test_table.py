"""ETA tables on the real pilot graphs (Kota Yogyakarta 34.71, Balikpapan 64.71)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from geo.exceptions import NoRoadNetworkError, UnknownProfileError
from geo.routing.exceptions import OutsideNetworkError
from geo.routing.export import EDGE_COLUMNS, write_edges_csv
from geo.types import LonLat
from tests.fixtures.routing import BALIKPAPAN, IGNORE_ONEWAY, NO_LIVING_STREET, YOGYAKARTA
from tests.integration.geo_routing._helpers import (
    graph_from_csv,
    long_edges,
    point_on_edge,
    snaps_to,
)


def _oneway_pair(index):
    """Points a quarter and three quarters along a long one-way edge that snap onto it, on a
    street inside the network (one can drive round the block back to the first point)."""
    for e in long_edges(index, oneway=True, min_m=120.0):
        a, b = point_on_edge(index, e, 0.25), point_on_edge(index, e, 0.75)
        if snaps_to(index, a, e) and snaps_to(index, b, e) and index.table([b], a)[0].reachable:
            return int(e), a, b
    pytest.fail("no long one-way edge found in the graph")


def test_oneway_is_honoured_and_mid_edge_snap_gives_partial_edge_eta(yogya_ambulance):
    index = yogya_ambulance
    e, a, b = _oneway_pair(index)
    forward = index.table([a], b)[0]
    backward = index.table([b], a)[0]
    assert forward.reachable and backward.reachable
    # A to B drives half of the edge: exactly the partial edge, no node in between.
    assert forward.eta_s == pytest.approx(0.5 * index.edge_run_s[e], abs=0.5)
    assert forward.distance_m == pytest.approx(0.5 * index.edge_length_m[e], abs=2.0)
    # B to A cannot drive back along the one-way street: it must go round.
    assert backward.eta_s > forward.eta_s + 10.0
    assert backward.distance_m > forward.distance_m


def test_profile_ignoring_oneway_drives_back_directly(routing_test_networks):
    strict = routing_test_networks.get(YOGYAKARTA, "ambulance")
    loose = routing_test_networks.get(YOGYAKARTA, IGNORE_ONEWAY)
    e, a, b = _oneway_pair(strict)
    back_strict = strict.table([b], a)[0].eta_s
    back_loose = loose.table([b], a)[0].eta_s
    assert back_loose == pytest.approx(0.5 * strict.edge_run_s[e], abs=0.5)
    assert back_loose < back_strict


def test_forbidden_class_forces_longer_routes(routing_test_networks):
    free = routing_test_networks.get(YOGYAKARTA, "ambulance")
    banned = routing_test_networks.get(YOGYAKARTA, NO_LIVING_STREET)
    assert "living_street" in set(free.highways[free.edge_highway])
    assert "living_street" not in set(banned.highways[banned.edge_highway])
    target = point_on_edge(free, long_edges(free, classes=("primary",), min_m=100.0)[0], 0.5)
    # Units in the middle of residential streets, kept where both graphs have that street.
    edges = long_edges(free, classes=("residential", "unclassified"), min_m=60.0)
    points = [point_on_edge(free, e, 0.5) for e in edges[::20][:300]]
    on_both = (free.snap(points).offroad_m < 0.5) & (banned.snap(points).offroad_m < 0.5)
    points = [p for p, ok in zip(points, on_both, strict=True) if ok]
    with_gang = free.table(points, target)
    without = banned.table(points, target)
    pairs = [(f.eta_s, b.eta_s) for f, b in zip(with_gang, without, strict=True)
             if f.reachable and b.reachable]
    assert len(pairs) > 50
    # Removing roads can never make a trip faster; some trips get clearly slower.
    assert all(b >= f - 1e-3 for f, b in pairs)
    assert sum(1 for f, b in pairs if b > f + 15.0) >= 1


def test_unreachable_units_are_reported_with_a_reason(yogya_ambulance, tmp_path):
    index = yogya_ambulance
    write_edges_csv(index, tmp_path / "edges.csv")
    graph = graph_from_csv(tmp_path / "edges.csv")
    target = point_on_edge(index, long_edges(index, oneway=False)[0], 0.5)
    dest_edge = int(index.snap([target]).edge[0])
    can_reach = nx.ancestors(graph, int(index.node_osmid[index.edge_u[dest_edge]]))
    # A one-way edge whose head cannot reach the destination at all: a dead end for this trip.
    stuck = None
    for e in np.flatnonzero(index.edge_twin < 0):
        head = int(index.node_osmid[index.edge_v[e]])
        if head not in can_reach and index.edge_length_m[e] > 30:
            p = point_on_edge(index, e, 0.5)
            if snaps_to(index, p, e):
                stuck = p
                break
    assert stuck is not None, "the clipped pilot graph has one-way dead ends"
    near = point_on_edge(index, dest_edge, 0.55)
    candidates = [point_on_edge(index, e, 0.5) for e in long_edges(index)[::10][:50]]
    far = next(p for p, e in zip(candidates, index.table(candidates, target), strict=True)
               if e.reachable and e.eta_s > 120.0)
    outside = LonLat(target.lon + 0.3, target.lat)  # ~33 km east
    etas = index.table([near, far, stuck, outside], target, horizon_s=60.0)
    assert [e.origin_index for e in etas] == [0, 1, 2, 3]
    assert etas[0].reachable and etas[0].reason is None and etas[0].eta_s <= 60.0
    assert not etas[1].reachable and etas[1].reason == "beyond_horizon"
    assert not etas[2].reachable and etas[2].reason == "no_path"
    assert not etas[3].reachable and etas[3].reason == "off_network"
    for e in etas[1:]:
        assert e.eta_s is None and e.distance_m is None
    # Without a horizon the far unit is reachable; the dead end is still no_path.
    again = index.table([far, stuck], target)
    assert again[0].reachable and again[0].eta_s > 60.0
    assert again[1].reason == "no_path"


@pytest.mark.parametrize("region", [YOGYAKARTA, BALIKPAPAN])
def test_etas_agree_with_networkx_over_the_exported_edges(road_networks, region, tmp_path):
    index = road_networks.get(region, "ambulance")
    csv_path = tmp_path / "edges.csv"
    assert write_edges_csv(index, csv_path) == index.n_edges
    assert csv_path.read_text().splitlines()[0].split(",") == EDGE_COLUMNS
    graph = graph_from_csv(csv_path)
    rng = np.random.default_rng(7)
    lon0, lat0 = index.node_lon.min(), index.node_lat.min()
    span_lon, span_lat = np.ptp(index.node_lon), np.ptp(index.node_lat)
    origins = [LonLat(float(lon0 + span_lon * rng.random()), float(lat0 + span_lat * rng.random()))
               for _ in range(300)]
    target = point_on_edge(index, long_edges(index, oneway=False)[3], 0.4)
    etas = index.table(origins, target)
    # Independent reference: networkx Dijkstra towards a virtual destination node placed on the
    # snapped destination edge; the partial edges at both ends come from the snapping result.
    osm = index.node_osmid
    d = index.snap([target])
    de, df, dt = int(d.edge[0]), float(d.frac[0]), int(index.edge_twin[d.edge[0]])
    graph.add_edge(int(osm[index.edge_u[de]]), "D", travel_s=df * index.edge_run_s[de])
    if dt >= 0:
        graph.add_edge(int(osm[index.edge_u[dt]]), "D", travel_s=(1 - df) * index.edge_run_s[dt])
    to_dest = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), "D",
                                                    weight="travel_s")
    snap = index.snap(origins)
    checked = 0
    for i, eta in enumerate(etas):
        if snap.edge[i] < 0:
            assert eta.reason == "off_network"
            continue
        e, s, t = int(snap.edge[i]), float(snap.frac[i]), int(index.edge_twin[snap.edge[i]])
        options = [(1 - s) * index.edge_run_s[e] + index.edge_penalty_s[e]
                   + to_dest.get(int(osm[index.edge_v[e]]), np.inf)]
        if t >= 0:
            options.append(s * index.edge_run_s[t] + index.edge_penalty_s[t]
                           + to_dest.get(int(osm[index.edge_v[t]]), np.inf))
        if e == de and s <= df:
            options.append((df - s) * index.edge_run_s[de])
        if e == de and s >= df and dt >= 0:
            options.append((s - df) * index.edge_run_s[dt])
        expected = min(options)
        if not np.isfinite(expected):
            assert not eta.reachable and eta.reason == "no_path"
            continue
        expected += (snap.offroad_m[i] + d.offroad_m[0]) / index.offroad_mps
        assert eta.reachable
        assert abs(eta.eta_s - expected) <= 0.1
        checked += 1
    assert checked >= 100


def test_unknown_profile_region_and_far_destination_are_clear_errors(road_networks):
    with pytest.raises(UnknownProfileError, match="rocket"):
        road_networks.get(YOGYAKARTA, "rocket")
    with pytest.raises(NoRoadNetworkError, match="51.06"):
        road_networks.get("51.06", "ambulance")
    with pytest.raises(NoRoadNetworkError, match="invalid regency code"):
        road_networks.get("../34.71", "ambulance")
    assert not road_networks.has("../34.71", "ambulance")
    index = road_networks.get(YOGYAKARTA, "ambulance")
    with pytest.raises(OutsideNetworkError, match="1500 m"):
        index.table([LonLat(110.37, -7.80)], LonLat(110.9, -7.80))
    assert road_networks.has(YOGYAKARTA, "fire_truck")
    assert not road_networks.has(YOGYAKARTA, "rocket")
    assert {YOGYAKARTA, BALIKPAPAN} <= set(road_networks.regions())


def test_units_at_junctions_agree_with_node_to_node_networkx(yogya_ambulance, tmp_path):
    index = yogya_ambulance
    write_edges_csv(index, tmp_path / "edges.csv")
    graph = graph_from_csv(tmp_path / "edges.csv")
    signal = np.zeros(index.n_nodes, dtype=bool)
    signal[index.edge_v[index.edge_penalty_s > 0]] = True
    nodes = np.flatnonzero(~signal)[::97]
    dest = int(nodes[len(nodes) // 2])
    at = [LonLat(float(index.node_lon[n]), float(index.node_lat[n])) for n in nodes]
    assert (index.snap(at).node == nodes).all()
    etas = index.table(at, at[len(nodes) // 2])
    osm = index.node_osmid
    ref = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), int(osm[dest]),
                                                weight="travel_s")
    for n, eta in zip(nodes, etas, strict=True):
        want = ref.get(int(osm[n]))
        if want is None:
            assert eta.reason == "no_path"
        else:
            assert eta.eta_s == pytest.approx(want, abs=0.1)
    assert etas[len(nodes) // 2].eta_s == 0.0
