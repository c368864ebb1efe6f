"""The shared plausibility check, including implied-speed jumps."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.unit.tracking.tracks import T0, fix
from tracking.plausibility import (
    JumpGuard,
    PlausibilityLimits,
    check_coordinates,
    check_fix,
    implied_speed_mps,
)

LIMITS = PlausibilityLimits(max_jump_speed_mps=60.0)


@pytest.mark.parametrize(("lon", "lat", "code"), [
    (math.nan, 1.0, "not_finite"), (1.0, math.inf, "not_finite"), (0.0, 0.0, "null_island"),
    (10.0, 90.1, "lat_out_of_range"), (180.1, 1.0, "lon_out_of_range"), (110.0, -7.8, None),
])
def test_coordinates(lon, lat, code):
    problem = check_coordinates(lon, lat)
    assert (problem.code if problem else None) == code


def test_fix_time_window():
    f = fix(0, 0)
    assert check_fix(f, now=T0 + timedelta(seconds=10), limits=LIMITS) is None
    assert check_fix(f, now=T0 - timedelta(minutes=6), limits=LIMITS).code == "fix_time_future"
    assert check_fix(f, now=T0 + timedelta(days=400), limits=LIMITS).code == "fix_time_too_old"


def test_implied_speed():
    assert implied_speed_mps(fix(0, 0), fix(10, 100)) == pytest.approx(10.0, rel=1e-3)
    assert implied_speed_mps(fix(10, 100), fix(0, 0)) == pytest.approx(10.0, rel=1e-3)


def test_jump_guard_rejects_teleport_and_keeps_reference_on_good_fix():
    guard = JumpGuard(LIMITS)
    guard.seed([fix(0, 0)])
    kept, flags, rejected = guard.screen([fix(10, 100), fix(20, 50_000), fix(30, 300)])
    assert [f.fix_time for f in kept] == [T0 + timedelta(seconds=10), T0 + timedelta(seconds=30)]
    assert flags == {}
    assert [(f.fix_time, p.code) for f, p in rejected] == [(T0 + timedelta(seconds=20),
                                                            "implied_speed")]
    assert guard.previous("AMB-1").fix_time == T0 + timedelta(seconds=30)


def test_jump_guard_flag_mode_keeps_the_fix_with_a_flag():
    guard = JumpGuard(PlausibilityLimits(max_jump_speed_mps=60.0, flag_jumps=True))
    kept, flags, rejected = guard.screen([fix(0, 0), fix(1, 5_000)])
    assert len(kept) == 2 and rejected == [] and flags[1].code == "implied_speed"


def test_late_fix_is_compared_with_the_newest_fix():
    guard = JumpGuard(LIMITS)
    guard.seed([fix(3600, 0)])
    kept, _, rejected = guard.screen([fix(0, 20_000)])  # an hour earlier, 20 km away: plausible
    assert len(kept) == 1 and rejected == []
