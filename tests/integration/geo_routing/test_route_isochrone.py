"""Routes (geometry, steps) and isochrones on the real pilot graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from geo.routing.exceptions import NoRouteError
from geo.types import LonLat
from tests.fixtures.routing import BALIKPAPAN, YOGYAKARTA
from tests.integration.geo_routing._helpers import long_edges, point_on_edge


def _metres(a: LonLat, b: LonLat) -> float:
    dy = (a.lat - b.lat) * 111_195.0
    dx = (a.lon - b.lon) * 111_195.0 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


@pytest.mark.parametrize("region", [YOGYAKARTA, BALIKPAPAN])
def test_route_starts_and_ends_at_snapped_points_and_matches_table(road_networks, region):
    index = road_networks.get(region, "ambulance")
    edges = long_edges(index, oneway=False)
    # Positions 25 m off the road (a yard), so snapping and the off-road legs matter.
    start = point_on_edge(index, edges[5], 0.3)
    start = LonLat(start.lon + 0.0002, start.lat + 0.0001)
    end = point_on_edge(index, edges[len(edges) // 2], 0.6)
    route = index.route(start, end)
    snap = index.snap([start, end])
    assert _metres(route.geometry[0], snap.point(0)) < 0.01
    assert _metres(route.geometry[-1], snap.point(1)) < 0.01
    eta = index.table([start], end)[0]
    assert route.eta_s == pytest.approx(eta.eta_s, abs=1e-6)
    assert route.distance_m == pytest.approx(eta.distance_m, abs=0.5)
    # The drawn line is as long as the on-road distance (off-road legs are not drawn).
    geom = route.geometry
    line_m = sum(_metres(a, b) for a, b in zip(geom[:-1], geom[1:], strict=True))
    on_road_m = eta.distance_m - snap.offroad_m.sum()
    assert line_m == pytest.approx(on_road_m, rel=0.01)
    steps = route.steps
    assert steps[0].maneuver == "depart" and steps[-1].maneuver == "arrive"
    assert any(s.name for s in steps), "street names come from OSM"
    assert sum(s.duration_s for s in steps) + snap.offroad_m[0] / index.offroad_mps == (
        pytest.approx(route.eta_s, abs=0.01))
    feature = route.to_geojson()
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == len(route.geometry) >= 2
    assert feature["properties"]["steps"][0]["text_en"].startswith("Depart")


def test_route_on_one_edge_is_the_partial_edge(yogya_ambulance):
    index = yogya_ambulance
    e = int(long_edges(index, oneway=False)[0])
    a, b = point_on_edge(index, e, 0.2), point_on_edge(index, e, 0.4)
    route = index.route(a, b)
    assert route.distance_m == pytest.approx(0.2 * index.edge_length_m[e], abs=1.0)
    assert route.eta_s == pytest.approx(0.2 * index.edge_run_s[e], abs=0.2)


def test_route_without_any_path_is_a_clear_error(yogya_ambulance):
    index = yogya_ambulance
    etas = None
    target = point_on_edge(index, long_edges(index, oneway=False)[0], 0.5)
    dead_ends = [e for e in np.flatnonzero(index.edge_twin < 0) if index.edge_length_m[e] > 30]
    points = [point_on_edge(index, e, 0.5) for e in dead_ends]
    etas = index.table(points, target)
    stuck = next(p for p, e in zip(points, etas, strict=True) if e.reason == "no_path")
    with pytest.raises(NoRouteError):
        index.route(stuck, target)


def _area_m2(index, geom) -> float:
    return shapely.area(shapely.transform(geom, lambda xy: np.column_stack(
        index.to_xy(xy[:, 0], xy[:, 1]))))


def test_isochrones_grow_with_time_and_cover_the_origins(yogya_ambulance):
    index = yogya_ambulance
    centre = LonLat(float(np.mean(index.node_lon)), float(np.mean(index.node_lat)))
    station = index.snap([centre]).point(0)
    other = point_on_edge(index, long_edges(index, oneway=False)[200], 0.5)
    areas = [_area_m2(index, index.isochrone([station], m)) for m in (2, 5, 10)]
    assert 0 < areas[0] < areas[1] < areas[2]
    five = index.isochrone([station], 5)
    assert five.contains(shapely.Point(station.lon, station.lat))
    both = index.isochrone([station, other], 5)
    assert both.contains(shapely.Point(other.lon, other.lat))
    assert _area_m2(index, both) >= areas[1]
    # Every road point the table says is within 5 minutes lies in the 5-minute polygon.
    probes = [point_on_edge(index, e, 0.5) for e in long_edges(index, min_m=40)[::50]]
    inside = shapely.contains_xy(five, [p.lon for p in probes], [p.lat for p in probes])
    from_station = [index.table([station], p)[0] for p in probes]
    assert any(e.reachable and e.eta_s < 300 for e in from_station)
    for ok, eta in zip(inside, from_station, strict=True):
        if eta.reachable and eta.eta_s < 280:
            assert ok
