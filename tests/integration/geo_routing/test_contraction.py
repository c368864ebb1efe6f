"""The contracted search (dead-end trees and chains of through-nodes taken out) on the real
pilot graphs gives the whole graph's answers, and routes walk the tree it reports."""

from __future__ import annotations

import numpy as np
import pytest

from geo.routing.index import RoutingIndex
from geo.types import LonLat
from tests.fixtures.routing import BALIKPAPAN, whole_graph


@pytest.fixture(scope="module")
def graphs(yogya_ambulance, yogya_raw_ambulance, road_networks):
    return {
        "yogyakarta": yogya_ambulance,
        "yogyakarta-unsimplified": yogya_raw_ambulance,
        "balikpapan": road_networks.get(BALIKPAPAN, "ambulance"),
    }


def _points(index: RoutingIndex, rng: np.random.Generator, count: int) -> list[LonLat]:
    """Points on random edges, half of them on edges of contracted chains, a few at
    through-nodes and junctions."""
    on_chain = np.flatnonzero(
        index.chains.is_pass[index.edge_u] | index.chains.is_pass[index.edge_v]
    )
    edges = np.concatenate([
        rng.choice(on_chain, count // 2),
        rng.integers(0, index.n_edges, count - count // 2 - 6),
    ])
    pts = [index.point_along(int(e), float(f)) for e, f in zip(edges, rng.random(len(edges)),
                                                                strict=True)]
    nodes = np.concatenate([
        rng.choice(index.chains.pass_nodes, 3), rng.integers(0, index.n_nodes, 3)
    ])
    pts += [LonLat(float(index.node_lon[n]), float(index.node_lat[n])) for n in nodes]
    return pts


@pytest.mark.parametrize("name", ["yogyakarta", "yogyakarta-unsimplified", "balikpapan"])
def test_contracted_search_equals_the_whole_graph_search(graphs, name):
    index = graphs[name]
    assert len(index.chains.pass_nodes) > 0.05 * index.n_nodes  # there is something contracted
    rng = np.random.default_rng(11)
    dests = _points(index, rng, 40)
    origins = np.array(_points(index, rng, 300))
    for k, dest in enumerate(dests):
        snap = index.snap([dest])
        limit = (np.inf, 600.0)[k % 2]
        tree = index.search_to(snap, limit_s=limit)
        table = index.table_arrays(origins, dest, horizon_s=None if k % 2 == 0 else limit)
        with whole_graph(index):
            want = index.search_to(snap, limit_s=limit)
            want_table = index.table_arrays(origins, dest,
                                            horizon_s=None if k % 2 == 0 else limit)
        reached = np.isfinite(want.dist_s)
        np.testing.assert_array_equal(np.isfinite(tree.dist_s), reached)
        np.testing.assert_allclose(tree.dist_s[reached], want.dist_s[reached], rtol=0, atol=1e-8)
        np.testing.assert_allclose(tree.length_m[reached], want.length_m[reached], rtol=0,
                                   atol=1e-6)
        np.testing.assert_array_equal(table.reason_code, want_table.reason_code)
        np.testing.assert_allclose(table.eta_s, want_table.eta_s, rtol=0, atol=1e-8)
        np.testing.assert_allclose(table.distance_m, want_table.distance_m, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["yogyakarta", "yogyakarta-unsimplified", "balikpapan"])
def test_routes_walk_the_tree_the_table_reports(graphs, name):
    """The route is rebuilt edge by edge from the predecessors: its seconds and metres must be
    those of the table (a predecessor pointing the wrong way would change them, or loop)."""
    index = graphs[name]
    rng = np.random.default_rng(5)
    pts = _points(index, rng, 80)
    checked = 0
    for origin, dest in zip(pts[::2], pts[1::2], strict=False):
        eta = index.table([origin], dest)[0]
        if not eta.reachable:
            continue
        route = index.route(origin, dest)
        org = index.snap([origin])
        walked_s = sum(s.duration_s for s in route.steps) + org.offroad_m[0] / index.offroad_mps
        assert route.eta_s == pytest.approx(eta.eta_s, abs=1e-9)
        assert walked_s == pytest.approx(eta.eta_s, abs=1e-6)
        assert route.distance_m == pytest.approx(eta.distance_m, abs=1e-6)
        checked += 1
    assert checked >= 30
