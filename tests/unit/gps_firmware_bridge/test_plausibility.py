"""The shared plausibility check."""

import math
from dataclasses import replace

import pytest

from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.plausibility import check_fix

from ._vectors import when

NOW = when("2026-11-23T02:16:00Z")
GOOD = Fix("BPBD-01", when("2026-11-23T02:15:30Z"), 110.36, -7.8, speed_mps=10.0)


def test_good_fix_passes():
    assert check_fix(GOOD, NOW) is None


@pytest.mark.parametrize(
    "change",
    [
        {"lat": 91.0},
        {"lon": -181.0},
        {"lat": math.nan},
        {"lon": math.inf},
        {"lat": 0.0, "lon": 0.0},
        {"fix_time": when("2026-11-23T03:00:00Z")},
        {"fix_time": when("2025-01-01T00:00:00Z")},
        {"speed_mps": 150.0},
        {"speed_mps": -1.0},
        {"heading_deg": 400.0},
        {"battery_pct": 120.0},
        {"hdop": math.nan},
        {"device_id": "a/b"},
    ],
)
def test_implausible_fixes_are_rejected(change):
    rejection = check_fix(replace(GOOD, **change), NOW)
    assert rejection is not None and rejection.reason == "implausible"
