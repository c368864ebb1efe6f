"""Ranking by road ETA, straight-line estimates, station fallback, unreachable units last."""

from dispatch.geodesy import haversine_m
from dispatch.ranking import Candidate, ProfileSpeed, RoadEstimate, rank_units
from geo.types import LonLat

TARGET = LonLat(110.3700, -7.8000)
SPEEDS = {"fire_truck": ProfileSpeed("fire_truck", 36.0, 1.4),
          "ambulance": ProfileSpeed("ambulance", 45.0, 1.3)}


def cand(uid, dx_m, status="available", profile="fire_truck", caps=("pumper",), source="gps"):
    pos = None if dx_m is None else LonLat(TARGET.lon + dx_m / 110_574.0, TARGET.lat)
    return Candidate(uid, f"U{uid}", "DAMKAR", status, profile, frozenset(caps), pos, source)


def test_road_eta_order_wins_over_straight_line():
    near, far = cand(1, 500), cand(2, 2000)
    road = {1: RoadEstimate(True, 600.0, 4000.0), 2: RoadEstimate(True, 300.0, 2500.0)}
    ranked = rank_units([near, far], TARGET, road=road, speeds=SPEEDS, on_scene_s=400)
    assert [r.unit_id for r in ranked] == [2, 1]
    assert [r.rank for r in ranked] == [1, 2]
    assert ranked[0].sla_can_be_met is True and ranked[1].sla_can_be_met is False
    assert not ranked[0].estimated and ranked[0].distance_m == 2500.0
    assert ranked[1].straight_line_m < ranked[0].straight_line_m


def test_straight_line_estimate_when_no_road_network():
    c = cand(1, 1000)
    [r] = rank_units([c], TARGET, road={}, speeds=SPEEDS)
    d = haversine_m(c.position, TARGET)
    assert r.estimated and r.reachable
    assert abs(r.distance_m - d * 1.4) < 1e-6
    assert abs(r.eta_s - d * 1.4 / 10.0) < 1e-6  # 36 km/h = 10 m/s
    assert r.sla_can_be_met is None


def test_station_position_is_marked_and_returning_units_allowed():
    c1 = cand(1, 800, status="returning")
    c2 = cand(2, 900, source="station")
    ranked = rank_units([c1, c2], TARGET, road={}, speeds=SPEEDS)
    assert [(r.unit_id, r.status, r.position_source) for r in ranked] == [
        (1, "returning", "gps"), (2, "available", "station")]


def test_busy_units_and_missing_capabilities_are_excluded():
    units = [cand(1, 100, status="dispatched"), cand(2, 100, status="out_of_service"),
             cand(3, 100, status="on_scene"), cand(4, 100, caps=("rescue",)), cand(5, 300)]
    ranked = rank_units(units, TARGET, road={}, speeds=SPEEDS, capabilities=["pumper"])
    assert [r.unit_id for r in ranked] == [5]


def test_unreachable_units_listed_last_with_reason():
    units = [cand(1, None, source="none"), cand(2, 100), cand(3, 5000),
             cand(4, 200, profile="hovercraft")]
    road = {2: RoadEstimate(False, reason="not_connected"), 3: RoadEstimate(True, 900.0, 6000.0)}
    ranked = rank_units(units, TARGET, road=road, speeds=SPEEDS)
    assert [(r.unit_id, r.reachable, r.reason) for r in ranked] == [
        (3, True, None), (1, False, "no_position"), (2, False, "not_connected"),
        (4, False, "unknown_profile")]


def test_available_preferred_over_returning_at_equal_eta():
    a, b = cand(1, 100, status="returning"), cand(2, 100)
    road = {1: RoadEstimate(True, 100.0, 1.0), 2: RoadEstimate(True, 100.0, 1.0)}
    assert [r.unit_id for r in rank_units([a, b], TARGET, road=road, speeds=SPEEDS)] == [2, 1]
