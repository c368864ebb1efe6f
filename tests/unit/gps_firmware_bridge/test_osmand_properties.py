"""OsmAnd request decoder: invalid optional values are dropped (position kept), invalid
coordinates are request errors, and Hypothesis properties over arbitrary requests."""

from __future__ import annotations

import json
import math
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gps_firmware_bridge import osmand
from gps_firmware_bridge.fix import DecodeResult, Fix, fix_payload
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS

from ._vectors import validator, when

NOW = when("2026-11-23T02:16:00Z")
STAMP = "2026-11-23T02:15:30Z"
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _get(query: str) -> DecodeResult:
    return osmand.decode_request("GET", "/?" + query, b"", "", NOW)


def test_out_of_range_and_non_finite_coordinates_are_request_errors():
    for query in (
        "id=u1&lat=95&lon=110",
        "id=u1&lat=-7.8&lon=190",
        "id=u1&lat=nan&lon=110",
        "id=u1&lat=-7.8&lon=inf",
        "id=u1&lat=-inf&lon=110",
        "id=u1&location=1e400,2",
    ):
        result = _get(query)
        assert result.fixes == ()
        assert [r.reason for r in result.rejections] == ["bad_coordinate"], query
        assert result.rejections[0].reason in osmand.REQUEST_ERRORS
        detail = result.rejections[0].detail
        assert "koordinat" in detail and "coordinate" in detail  # Indonesian, then English


def test_invalid_optional_values_are_dropped_and_noted_position_kept():
    result = _get(f"id=u1&lat=-7.8&lon=110.37&timestamp={STAMP}&speed=-1&batt=101&hdop=2")
    assert result.rejections == ()
    (fix,) = result.fixes
    assert (fix.lat, fix.lon, fix.speed_mps, fix.battery_pct, fix.hdop) == (
        -7.8,
        110.37,
        None,
        None,
        2.0,
    )
    assert sorted(n.detail.split("=")[0] for n in result.notes) == ["battery_pct", "speed_mps"]
    assert all(n.reason == "dropped_field" for n in result.notes)


def test_json_body_with_wrong_shapes_is_rejected_not_raised():
    for body in (b'{"location": []}', b'{"location": {"coords": 5}}', b"[1,2]", b'"x"', b"null"):
        result = osmand.decode_request("POST", "/", body, "application/json", NOW)
        assert result.fixes == ()
        assert result.rejections[0].reason in osmand.REQUEST_ERRORS


def _assert_typed(result: object) -> None:
    assert isinstance(result, DecodeResult)
    for fix in result.fixes:
        assert isinstance(fix, Fix)
        assert -90 <= fix.lat <= 90 and -180 <= fix.lon <= 180
        assert not list(validator().iter_errors(fix_payload(fix, 0)))
    assert len(result.fixes) + len(result.rejections) == 1


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "-0", "", "1_0", "0x10", "\x00", "9" * 5000]),
).map(str)
fields = st.sampled_from(
    ["id", "deviceid", "lat", "lon", "location", "timestamp", "speed", "bearing", "heading",
     "altitude", "accuracy", "hdop", "batt", "ignition", "valid", "x"]
)  # fmt: skip


@PROPS
@given(st.dictionaries(fields, st.one_of(numbers, st.text(max_size=30)), max_size=12))
def test_any_query_gives_a_result_never_an_exception(params):
    params.setdefault("id", "u1")
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
    _assert_typed(osmand.decode_request("GET", "/?" + query, b"", "", NOW))
    _assert_typed(
        osmand.decode_request("POST", "/", query.encode(), "application/x-www-form-urlencoded", NOW)
    )


@PROPS
@given(st.binary(max_size=400), st.text(max_size=200), st.sampled_from(["GET", "POST", "PUT"]))
def test_random_bytes_and_targets_never_raise(body, target, method):
    for ctype in ("", "application/json", "text/plain; charset=\x00"):
        _assert_typed(osmand.decode_request(method, target, body, ctype, NOW))


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@PROPS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "device_id": json_values,
            "location": st.fixed_dictionaries(
                {},
                optional={
                    "timestamp": json_values,
                    "coords": st.dictionaries(
                        st.sampled_from(["latitude", "longitude", "speed", "heading", "altitude"]),
                        json_values,
                    ),
                    "battery": json_values,
                },
            )
            | json_values,
        },
    )
)
def test_traccar_json_shapes_never_raise(obj):
    body = json.dumps(obj).encode()
    _assert_typed(osmand.decode_request("POST", "/", body, "application/json", NOW))


@PROPS
@given(
    lat=st.floats(-90, 90).filter(lambda v: abs(v) > 1e-6),
    lon=st.floats(-180, 180),
    speed=st.floats(allow_nan=True, allow_infinity=True),
    batt=st.floats(allow_nan=True, allow_infinity=True),
    altitude=st.floats(allow_nan=True, allow_infinity=True),
)
def test_valid_position_is_always_kept_whatever_the_optional_values(
    lat, lon, speed, batt, altitude
):
    query = (
        f"id=u1&lat={lat!r}&lon={lon!r}&timestamp={STAMP}"
        f"&speed={speed!r}&batt={batt!r}&altitude={altitude!r}"
    )
    result = _get(query)
    (fix,) = result.fixes
    assert (fix.lat, fix.lon) == (lat, lon)
    for value in (fix.speed_mps, fix.battery_pct, fix.altitude_m):
        assert value is None or math.isfinite(value)
    assert fix.speed_mps is None or 0 <= fix.speed_mps <= DEFAULT_LIMITS.max_speed_mps
    assert fix.battery_pct is None or 0 <= fix.battery_pct <= 100
