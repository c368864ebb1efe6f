"""Arrival detection on recorded-style tracks, with exact expected outcomes."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.unit.tracking.tracks import T0, TARGET, fix
from tracking.arrival import ArrivalRule, detect_arrival

RULE = ArrivalRule()  # 100 m in, 150 m out, 3 fixes or 30 s, <= 3 m/s


def approach_and_stop():
    """Approach from 1 km east at 12 m/s, brake, park 20 m from the scene (fixes every 5 s)."""
    track = [fix(5 * i, 1000 - 60 * i, speed_mps=12.0) for i in range(15)]  # 1000 m .. 160 m
    track += [fix(75, 110, speed_mps=6.0), fix(80, 60, speed_mps=4.0)]  # braking, fast
    track += [fix(85, 30, speed_mps=1.5), fix(90, 20, speed_mps=0.0), fix(95, 21, speed_mps=0.0),
              fix(100, 19, speed_mps=0.0), fix(105, 20, speed_mps=0.2)]
    return track


def test_real_arrival_is_the_first_slow_fix_inside_the_fence():
    arrival = detect_arrival(approach_and_stop(), TARGET, RULE)
    assert arrival is not None
    assert arrival.arrived_at == T0 + timedelta(seconds=85)
    assert arrival.first_fix.fix_time == T0 + timedelta(seconds=85)
    assert arrival.last_fix.fix_time == T0 + timedelta(seconds=95)
    assert arrival.fixes_in_dwell == 3
    assert arrival.dwell_s == 10.0
    assert arrival.rule == RULE


def test_unsorted_input_gives_the_same_arrival():
    track = approach_and_stop()
    random.Random(7).shuffle(track)
    arrival = detect_arrival(track, TARGET, RULE)
    assert arrival is not None and arrival.arrived_at == T0 + timedelta(seconds=85)


def test_drive_by_at_speed_is_not_an_arrival():
    # straight through the scene at 14 m/s, passing 5 m from the target, fixes every 2 s
    track = [fix(2 * i, -300 + 28 * i, 5, speed_mps=14.0) for i in range(22)]
    assert detect_arrival(track, TARGET, RULE) is None


def test_drive_by_without_reported_speed_uses_implied_speed():
    track = [fix(2 * i, -300 + 28 * i, 5, speed_mps=None) for i in range(22)]
    assert detect_arrival(track, TARGET, RULE) is None


def test_stop_at_a_red_light_outside_the_fence_is_not_an_arrival():
    track = [fix(5 * i, 180, speed_mps=0.0) for i in range(20)]  # 180 m away, 95 s standing
    assert detect_arrival(track, TARGET, RULE) is None


def test_parked_in_the_drift_band_never_enters():
    # unit parked 120-145 m away: GPS drift keeps it between radius and exit radius
    track = [fix(5 * i, 120 + (i * 7) % 26, speed_mps=0.0) for i in range(30)]
    assert detect_arrival(track, TARGET, RULE) is None


def test_drift_across_the_fence_edge_does_not_break_the_dwell():
    # parked ~100 m away: fixes wobble 95..140 m; only fixes <= 100 m count, band fixes keep dwell
    dists = [130, 97, 125, 140, 99, 135, 96, 128]
    track = [fix(10 * i, d, speed_mps=0.0) for i, d in enumerate(dists)]
    arrival = detect_arrival(track, TARGET, RULE)
    assert arrival is not None
    assert arrival.arrived_at == T0 + timedelta(seconds=10)  # the 97 m fix
    assert arrival.fixes_in_dwell == 2 and arrival.dwell_s == 30.0  # qualified by time at t=40
    assert arrival.last_fix.fix_time == T0 + timedelta(seconds=40)


def test_a_fix_beyond_the_exit_radius_ends_the_dwell():
    dists = [90, 95, 160, 92, 94, 93]  # the 160 m fix resets: arrival is the 92 m fix
    track = [fix(5 * i, d, speed_mps=0.0) for i, d in enumerate(dists)]
    arrival = detect_arrival(track, TARGET, RULE)
    assert arrival is not None
    assert arrival.arrived_at == T0 + timedelta(seconds=15)
    assert arrival.fixes_in_dwell == 3


def test_a_fast_fix_ends_the_dwell():
    track = [fix(0, 50, speed_mps=1.0), fix(5, 40, speed_mps=1.0), fix(10, 30, speed_mps=9.0),
             fix(15, 20, speed_mps=1.0), fix(20, 10, speed_mps=0.0), fix(25, 5, speed_mps=0.0)]
    arrival = detect_arrival(track, TARGET, RULE)
    assert arrival is not None and arrival.arrived_at == T0 + timedelta(seconds=15)


def test_late_out_of_order_batch_moves_the_arrival_earlier():
    live = [fix(600 + 5 * i, 15, speed_mps=0.0) for i in range(6)]  # online from t=600 s
    first = detect_arrival(live, TARGET, RULE)
    assert first is not None and first.arrived_at == T0 + timedelta(seconds=600)
    # the tracker's store-and-forward backlog arrives later, newest first
    backlog = [fix(300 + 10 * i, 25, speed_mps=0.0) for i in range(30)][::-1]
    backlog += [fix(240 + 10 * i, 400 - 40 * i, speed_mps=8.0) for i in range(6)]
    second = detect_arrival(live + backlog, TARGET, RULE)
    assert second is not None
    assert second.arrived_at == T0 + timedelta(seconds=300)
    assert second.fixes_in_dwell == 3 and second.last_fix.fix_time == T0 + timedelta(seconds=320)


def test_since_ignores_fixes_before_dispatch():
    track = [fix(5 * i, 10, speed_mps=0.0) for i in range(10)]
    arrival = detect_arrival(track, TARGET, RULE, since=T0 + timedelta(seconds=20))
    assert arrival is not None and arrival.arrived_at == T0 + timedelta(seconds=20)


def test_min_dwell_seconds_qualifies_with_sparse_fixes():
    rule = ArrivalRule(min_fixes=10, min_dwell_s=60.0)
    track = [fix(0, 10, speed_mps=0.0), fix(30, 12, speed_mps=0.0), fix(61, 9, speed_mps=0.0)]
    arrival = detect_arrival(track, TARGET, rule)
    assert arrival is not None and arrival.dwell_s == 61.0 and arrival.fixes_in_dwell == 3


def test_no_fixes_no_arrival():
    assert detect_arrival([], TARGET, RULE) is None


def test_rule_validation():
    with pytest.raises(ValueError):
        ArrivalRule(radius_m=200, exit_radius_m=100)
