"""OsmAnd HTTP decoder driven by tests/vectors/bridge/osmand.json (Traccar's published requests)."""

import pytest

from gps_firmware_bridge import osmand
from gps_firmware_bridge.fix import fix_payload

from ._vectors import cases, ids, validator, when

CASES = cases("osmand")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_vector(case):
    result = osmand.decode_request(
        case["method"],
        case["target"],
        case["body"].encode(),
        case["content_type"],
        when(case["now"]),
    )
    exp = case["expect"]
    assert [fix_payload(f, None) for f in result.fixes] == exp["fixes"]
    assert [r.reason for r in result.rejections] == exp["rejections"]
    for f in result.fixes:
        assert not list(validator().iter_errors(fix_payload(f, 0)))


def test_speed_is_knots_by_default_and_configurable():
    now = when("2013-08-22T13:20:00Z")
    target = "/?id=1&lat=1&lon=2&timestamp=1377177267&speed=10"
    knots = osmand.decode_request("GET", target, b"", "", now).fixes[0]
    mps = osmand.decode_request("GET", target, b"", "", now, speed_unit="mps").fixes[0]
    assert knots.speed_mps == pytest.approx(5.1444, abs=1e-3)
    assert mps.speed_mps == 10.0


def test_garbage_json_body_is_rejected_not_raised():
    result = osmand.decode_request(
        "POST", "/", b"{not json", "application/json", when("2026-01-01T00:00:00Z")
    )
    assert [r.reason for r in result.rejections] == ["bad_request"]
