"""Properties of the MQTT contract parser: any input is a fix or a typed rejection.

Arbitrary bytes, arbitrary JSON (NaN, infinities, huge integers, NUL, lone surrogates, deep
nesting) and schema-shaped payloads with extreme values never raise out of
:func:`tracking.contract.parse_message`; every accepted fix fits the ``position`` columns
(``int8`` ``seq``, ``int4`` ``satellites``, finite ``float8``, ``text`` without NUL or lone
surrogates), every rejection names a known reason in storable text, and the JSON Schema and the
parser agree on schema-shaped payloads.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tracking.contract import SCHEMA_REASONS, ParseResult, parse_message
from tracking.fields import DEVICE_ID_RE, MAX_SOURCE_LEN
from tracking.payload import INT4_MAX, INT8_MAX

NOW = datetime(2026, 11, 23, 2, 20, tzinfo=UTC)
DEV = "DEV-1"
TOPICS = [f"siaga/v1/pos/{DEV}", "owntracks/budi@bpbd/hp 1"]
REASONS = SCHEMA_REASONS | {"payload_too_large", "invalid_topic", "device_mismatch",
                            "null_island", "fix_time_future", "fix_time_too_old"}
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: any code point, lone surrogates and NUL included
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
EXTREME_INTS = st.one_of(st.integers(), st.sampled_from(
    [0, -1, INT4_MAX, INT4_MAX + 1, INT8_MAX, INT8_MAX + 1, -(2**63), 2**64, 10**300]))
EXTREME_FLOATS = st.one_of(st.floats(), st.sampled_from(
    [0.0, -0.0, 1e308, -1e308, 1.7976931348623157e308, 5e-324, math.inf, -math.inf, math.nan]))
JSON_SCALARS = st.one_of(st.none(), st.booleans(), EXTREME_INTS, EXTREME_FLOATS, ANY_TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(ANY_TEXT, children, max_size=4)),
    max_leaves=30)


def storable(text: str) -> bool:
    """PostgreSQL ``text`` (UTF-8) holds it: no NUL, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def finite_or_none(value) -> bool:
    return value is None or (type(value) is float and math.isfinite(value))


def check_result(result: ParseResult) -> None:
    """The parsed fixes fit the database columns; the rejections are typed and storable."""
    assert isinstance(result, ParseResult)
    for fix in result.fixes:
        assert isinstance(fix.device_id, str) and storable(fix.device_id)
        assert fix.fix_time.tzinfo is not None
        assert type(fix.lat) is float and -90.0 <= fix.lat <= 90.0
        assert type(fix.lon) is float and -180.0 <= fix.lon <= 180.0
        assert fix.seq is None or (type(fix.seq) is int and 0 <= fix.seq <= INT8_MAX)
        assert fix.satellites is None or (type(fix.satellites) is int
                                          and 0 <= fix.satellites <= INT4_MAX)
        for value in (fix.speed_mps, fix.heading_deg, fix.altitude_m, fix.hdop, fix.accuracy_m,
                      fix.battery_pct):
            assert finite_or_none(value), value
        assert fix.ignition is None or type(fix.ignition) is bool
        assert storable(fix.source) and len(fix.source) <= MAX_SOURCE_LEN
    for rejection in result.rejections:
        assert rejection.reason in REASONS, rejection.reason
        assert rejection.message and rejection.message_en
        assert storable(rejection.message) and storable(rejection.message_en)
        assert isinstance(rejection.payload, bytes)


@PROPERTY
@given(payload=st.binary(max_size=400), topic=st.sampled_from(TOPICS))
def test_arbitrary_bytes_never_raise(payload, topic):
    check_result(parse_message(topic, payload, received_at=NOW))


@PROPERTY
@given(value=JSON_VALUES, topic=st.sampled_from(TOPICS))
def test_arbitrary_json_never_raises(value, topic):
    payload = json.dumps(value, allow_nan=True).encode()
    check_result(parse_message(topic, payload, received_at=NOW))


@PROPERTY
@given(depth=st.integers(0, 3000), opener=st.sampled_from([b"[", b'{"a":']),
       topic=st.sampled_from(TOPICS))
def test_any_nesting_depth_never_raises(depth, opener, topic):
    closer = b"]" if opener == b"[" else b"}"
    payload = opener * depth + b"1" + closer * depth
    check_result(parse_message(topic, payload, received_at=NOW))


@PROPERTY
@given(topic=st.text(st.characters(exclude_categories=()), max_size=40),
       payload=st.binary(min_size=1, max_size=60))
def test_arbitrary_topics_never_raise(topic, payload):
    result = parse_message(topic, payload, received_at=NOW)
    check_result(result)
    for fix in result.fixes:
        assert DEVICE_ID_RE.match(fix.device_id.split(":")[-1])


def _fix_times():
    formatted = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 11, 24),
                             timezones=st.just(UTC)).map(
        lambda t: t.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if t.second % 2 else ".5Z"))
    return st.one_of(formatted, st.sampled_from([
        "2026-11-23T02:15:00Z", "2026-11-23T09:15:00+07:00", "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00", "2026-02-30T00:00:00Z", "kemarin", ""]), EXTREME_INTS)


NUMBER_OR_ANY = st.one_of(EXTREME_INTS, EXTREME_FLOATS, st.none(), st.booleans(), ANY_TEXT)
FIX_SHAPED = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1.0, 2, True]),
     "device_id": st.one_of(st.just(DEV), ANY_TEXT),
     "fix_time": _fix_times(),
     "lat": st.one_of(st.floats(-90, 90), EXTREME_FLOATS, EXTREME_INTS),
     "lon": st.one_of(st.floats(-180, 180), EXTREME_FLOATS, EXTREME_INTS)},
    optional={"seq": st.one_of(EXTREME_INTS, EXTREME_FLOATS), "satellites": EXTREME_INTS,
              "speed_mps": NUMBER_OR_ANY, "heading_deg": NUMBER_OR_ANY,
              "altitude_m": NUMBER_OR_ANY, "hdop": NUMBER_OR_ANY, "accuracy_m": NUMBER_OR_ANY,
              "battery_pct": NUMBER_OR_ANY, "ignition": st.one_of(st.booleans(), st.none(),
                                                                  st.integers(0, 1)),
              "source": st.one_of(st.sampled_from(["gt06", "native", "x" * 64, "x" * 65]),
                                  ANY_TEXT)})
#: with unknown members now and then (names with NUL or lone surrogates included)
FIX_SHAPED = st.tuples(FIX_SHAPED, st.one_of(st.just({}), st.dictionaries(
    ANY_TEXT, JSON_SCALARS, max_size=2))).map(lambda pair: {**pair[1], **pair[0]})


@PROPERTY
@given(item=FIX_SHAPED, batch=st.booleans())
def test_schema_shaped_payloads_with_extreme_values_fit_the_columns(item, batch):
    payload = json.dumps([item, item] if batch else item, allow_nan=True).encode()
    check_result(parse_message(f"siaga/v1/pos/{DEV}", payload, received_at=NOW))


jsonschema = pytest.importorskip("jsonschema")
SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "schemas" / "mqtt"
                     / "position.v1.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@PROPERTY
@given(item=FIX_SHAPED)
def test_the_schema_and_the_parser_agree_on_schema_shaped_payloads(item):
    try:  # NaN/Infinity literals are not JSON: the schema has nothing to say about them
        payload = json.dumps(item, allow_nan=False).encode()
    except ValueError:
        assume(False)
    result = parse_message(f"siaga/v1/pos/{DEV}", payload, received_at=NOW)
    parser_valid = not any(r.reason in SCHEMA_REASONS for r in result.rejections)
    assert parser_valid == VALIDATOR.is_valid(json.loads(payload)), [
        (r.reason, r.message_en) for r in result.rejections]
