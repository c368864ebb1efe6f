"""Hostile and extreme payloads: each is a typed rejection (or a quiet ignore), never an exception.

Every case here once raised out of the parser (``RecursionError``, ``OverflowError``) or was
accepted with a value its column cannot hold (``seq`` 2**63, ``satellites`` 2**31, NUL or a lone
surrogate in text), which stalled or crashed the ingest worker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tracking.contract import parse_message
from tracking.payload import INT4_MAX, INT8_MAX, MAX_DEPTH, MAX_PAYLOAD_BYTES, decode_json

NOW = datetime(2026, 11, 23, 2, 20, tzinfo=UTC)
TOPIC = "siaga/v1/pos/DEV-1"
GOOD = ('{"v":1,"device_id":"DEV-1","seq":1,"fix_time":"2026-11-23T02:15:00Z",'
        '"lat":-7.8,"lon":110.36')


def with_fields(extra: str) -> bytes:
    """The good fix with raw JSON text ``extra`` appended to its members."""
    return (GOOD + extra + "}").encode()


HOSTILE = [
    ("deep_array", b"[" * 3000 + b"]" * 3000, "nesting_too_deep"),
    ("deep_object", b'{"a":' * 3000 + b"1" + b"}" * 3000, "nesting_too_deep"),
    ("deep_unclosed", b"[" * 200_000, "malformed_json"),
    ("deep_inside_item", ("[" + GOOD + ',"x":' + "[" * 40 + "]" * 40 + "}]").encode(),
     "nesting_too_deep"),
    ("seq_2_63", with_fields("").replace(b'"seq":1', b'"seq":9223372036854775808'),
     "invalid_value"),
    ("seq_1e20", with_fields("").replace(b'"seq":1', b'"seq":1e20'), "invalid_value"),
    ("seq_5000_digits", with_fields("").replace(b'"seq":1', b'"seq":' + b"9" * 5000),
     "malformed_json"),
    ("satellites_2_31", with_fields(',"satellites":2147483648'), "invalid_value"),
    ("speed_10_400", with_fields(',"speed_mps":1' + "0" * 400), "not_finite"),
    ("altitude_1e400", with_fields(',"altitude_m":-1e400'), "not_finite"),
    ("altitude_nan", with_fields(',"altitude_m":NaN'), "not_finite"),
    ("hdop_infinity", with_fields(',"hdop":Infinity'), "not_finite"),
    ("lat_infinity", with_fields("").replace(b'"lat":-7.8', b'"lat":-Infinity'), "not_finite"),
    ("lat_10_400", with_fields("").replace(b'"lat":-7.8', b'"lat":1' + b"0" * 400),
     "not_finite"),
    ("source_nul", with_fields(',"source":"gt\\u000006"'), "invalid_value"),
    ("source_lone_surrogate", with_fields(',"source":"\\ud800"'), "invalid_value"),
    ("source_too_long", with_fields(',"source":"' + "x" * 65 + '"'), "invalid_value"),
    ("unknown_field_nul", with_fields(',"a\\u0000b":1'), "unknown_field"),
    ("unknown_field_surrogate", with_fields(',"\\udc00":1'), "unknown_field"),
    ("device_id_nul", with_fields("").replace(b'"device_id":"DEV-1"',
                                              b'"device_id":"DEV\\u0000-1"'),
     "invalid_device_id"),
    ("invalid_utf8", b'{"v":1,"\xff\xfe":2}', "malformed_json"),
    ("json_string", b'"fix"', "invalid_structure"),
    ("json_number", b"1e999", "invalid_structure"),
    ("json_null", b"null", "invalid_structure"),
    ("oversized", b"[" + b" " * MAX_PAYLOAD_BYTES + b"]", "payload_too_large"),
    ("fix_time_year_1_offset", with_fields("").replace(b"2026-11-23T02:15:00Z",
                                                       b"0001-01-01T00:00:00+01:00"),
     "fix_time_too_old"),
    ("fix_time_year_9999_offset", with_fields("").replace(b"2026-11-23T02:15:00Z",
                                                          b"9999-12-31T23:59:59-01:00"),
     "fix_time_future"),
    ("fix_time_arabic_digits", with_fields("").replace(
        b"2026-11-23T02:15:00Z", "\u0662\u0660\u0662\u0666-11-23T02:15:00Z".encode()),
     "invalid_fix_time"),
]


@pytest.mark.parametrize(("payload", "reason"), [(p, r) for _, p, r in HOSTILE],
                         ids=[name for name, _, _ in HOSTILE])
def test_hostile_payload_is_a_rejection_with_a_reason(payload, reason):
    result = parse_message(TOPIC, payload, received_at=NOW)
    assert result.fixes == []
    (rejection,) = result.rejections
    assert rejection.reason == reason
    assert rejection.payload == payload
    # the messages are stored as PostgreSQL text: never NUL or a lone surrogate in them
    for text in (rejection.message, rejection.message_en):
        assert text and "\x00" not in text
        text.encode("utf-8")


def test_deep_nesting_is_refused_before_json_recursion():
    depth_ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert decode_json(depth_ok)[1] is None
    too_deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert decode_json(too_deep)[1].code == "nesting_too_deep"
    # brackets inside strings are not nesting, escaped quotes do not end a string
    in_strings = json.dumps(["[" * 100, '{"\\"[[[', {"k": "]]]]"}]).encode()
    assert decode_json(in_strings) == (json.loads(in_strings), None)


@pytest.mark.parametrize("value", [INT8_MAX, 0])
def test_seq_at_the_int8_bounds_is_accepted(value):
    payload = with_fields("").replace(b'"seq":1', f'"seq":{value}'.encode())
    (fix,) = parse_message(TOPIC, payload, received_at=NOW).fixes
    assert fix.seq == value


def test_satellites_at_the_int4_bound_is_accepted():
    (fix,) = parse_message(TOPIC, with_fields(f',"satellites":{INT4_MAX}'),
                           received_at=NOW).fixes
    assert fix.satellites == INT4_MAX


def test_a_poison_item_in_a_batch_rejects_only_that_item():
    good = json.loads(with_fields(""))
    batch = [good, {**good, "seq": 2**63}, {**good, "seq": 3, "source": "a\x00"},
             {**good, "seq": 4}]
    result = parse_message(TOPIC, json.dumps(batch).encode(), received_at=NOW)
    assert [f.seq for f in result.fixes] == [1, 4]
    assert [(r.reason, r.item_index) for r in result.rejections] == [("invalid_value", 1),
                                                                      ("invalid_value", 2)]


@pytest.mark.parametrize("device_id", ["budi@bpbd.go.id", "Ambulans 2", "unit-é", "x" * 128])
def test_mqtt_usernames_with_at_signs_and_spaces_are_device_ids(device_id):
    payload = with_fields("").replace(b'"DEV-1"', json.dumps(device_id).encode())
    result = parse_message(f"siaga/v1/pos/{device_id}", payload, received_at=NOW)
    assert result.rejections == []
    assert [f.device_id for f in result.fixes] == [device_id]


@pytest.mark.parametrize("topic", ["siaga/v1/pos/", "siaga/v1/pos/a+b", "siaga/v1/pos/a#",
                                   "siaga/v1/pos/a/b", "siaga/v1/pos/a\x00b",
                                   "siaga/v1/pos/a\nb", "siaga/v1/pos/" + "x" * 129,
                                   "owntracks//phone", "elsewhere/DEV-1"])
def test_topic_levels_mqtt_forbids_are_invalid_topics(topic):
    (rejection,) = parse_message(topic, with_fields(""), received_at=NOW).rejections
    assert rejection.reason == "invalid_topic"
    assert "\x00" not in rejection.message_en


def test_owntracks_users_with_at_signs_and_spaces_are_accepted():
    payload = json.dumps({"_type": "location", "tst": int(NOW.timestamp()) - 10,
                          "lat": -7.79, "lon": 110.37}).encode()
    (fix,) = parse_message("owntracks/budi@bpbd.go.id/hp Budi", payload, received_at=NOW).fixes
    assert fix.device_id == "owntracks:budi@bpbd.go.id:hp Budi"


@pytest.mark.parametrize("topic", [TOPIC, "owntracks/budi/hp1", "owntracks/budi/hp1/event",
                                   "siaga/v1/pos/"])
def test_an_empty_payload_clears_a_retained_message_and_is_ignored(topic):
    result = parse_message(topic, b"", received_at=NOW)
    assert (result.fixes, result.rejections, result.ignored) == ([], [], "empty_payload")


def test_owntracks_unknown_types_are_counted_under_one_name():
    for kind in ("x\x00y", "z" * 10_000, 5, ["a"], None):
        payload = json.dumps({"_type": kind}).encode()
        assert parse_message("owntracks/u/d", payload, received_at=NOW).ignored == (
            "owntracks_other")


@pytest.mark.parametrize("extra", ['"tst":1e300', '"tst":-1e300', '"lat":1' + "0" * 400,
                                   '"vel":1e400', '"batt":NaN'])
def test_owntracks_extreme_numbers_are_rejected(extra):
    tst = int(NOW.timestamp()) - 10
    obj = '{"_type":"location","tst":' + str(tst) + ',"lat":-7.79,"lon":110.37'
    payload = (obj + "," + extra + "}").encode()
    result = parse_message("owntracks/u/d", payload, received_at=NOW)
    assert result.fixes == [] and len(result.rejections) == 1
