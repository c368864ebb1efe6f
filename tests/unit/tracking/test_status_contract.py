"""The status contract in tracking: shared vectors parse into status reports (never fixes), and
hostile status payloads become typed rejections the JSON Schema agrees with."""

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.contract import SCHEMA_REASONS, parse_message

ROOT = Path(__file__).resolve().parents[3]
STATUS_VECTORS = sorted((ROOT / "tests" / "vectors" / "mqtt" / "status").glob("*.json"))
SCHEMA = jsonschema.Draft202012Validator(
    json.loads((ROOT / "schemas" / "mqtt" / "status.v1.json").read_text()),
    format_checker=jsonschema.FormatChecker(),
)
NOW = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
DEV = "864717003283581"
TOPIC = f"siaga/v1/status/{DEV}"
GOOD = {"v": 1, "device_id": DEV, "time": "2026-11-23T10:00:00Z",
        "received_at": "2026-11-23T10:00:01Z", "reason": "gps_invalid",
        "cells": [{"mcc": 510, "mnc": 10, "lac": 500, "cid": 161, "rssi": -70}], "wifi": 2,
        "source": "gt06"}


def parse(obj, topic=TOPIC):
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return parse_message(topic, raw, received_at=NOW)


@pytest.mark.parametrize("path", STATUS_VECTORS, ids=lambda p: p.name)
def test_status_vectors_parse_into_one_report_and_no_fix(path):
    vector = json.loads(path.read_text())
    result = parse(vector["payload"], topic=vector["topic"])
    assert (result.fixes, result.rejections) == ([], [])
    (status,) = result.statuses
    payload = vector["payload"]
    assert status.device_id == payload["device_id"]
    assert status.reason == payload["reason"]
    assert status.received_at == NOW
    assert status.wifi == payload["wifi"]
    assert status.source == payload["source"]
    assert [{"mcc": c.mcc, "mnc": c.mnc, "lac": c.lac, "cid": c.cid, "rssi": c.rssi}
            for c in status.cells] == payload["cells"]
    assert status.reported_at.strftime("%Y-%m-%dT%H:%M:%SZ") == payload["received_at"]


BAD = {
    "missing_field": [{k: v for k, v in GOOD.items() if k != "reason"},
                      {**GOOD, "cells": [{"mcc": 510, "mnc": 10, "lac": 1}]}],
    "unknown_field": [{**GOOD, "lat": -7.8}, {**GOOD, "a\x00": 1},
                      {**GOOD, "cells": [{**GOOD["cells"][0], "ta": 3}]}],
    "unsupported_version": [{**GOOD, "v": 2}, {**GOOD, "v": "1"}],
    "invalid_device_id": [{**GOOD, "device_id": "a/b"}, {**GOOD, "device_id": ""}],
    "invalid_time": [{**GOOD, "time": "yesterday"}, {**GOOD, "received_at": 5},
                     {**GOOD, "received_at": "2026-02-30T00:00:00Z"}],
    "invalid_value": [{**GOOD, "reason": "lost"}, {**GOOD, "wifi": 256},
                      {**GOOD, "cells": [{**GOOD["cells"][0], "cid": 2**36}]},
                      {**GOOD, "cells": [{**GOOD["cells"][0], "rssi": 5}]},
                      {**GOOD, "source": "gt\x0006"}, {**GOOD, "source": "x" * 65}],
    "invalid_type": [{**GOOD, "wifi": "2"}, {**GOOD, "cells": [{**GOOD["cells"][0], "mcc": 5.5}]},
                     {**GOOD, "wifi": True}],
    "invalid_structure": [[GOOD], {**GOOD, "cells": [GOOD["cells"][0]] * 33},
                          {**GOOD, "cells": {"mcc": 1}}, {**GOOD, "cells": [[510, 10, 1, 2]]}],
}


@pytest.mark.parametrize(("reason", "obj"), [(r, o) for r, objs in BAD.items() for o in objs])
def test_bad_status_is_a_typed_bilingual_rejection_the_schema_also_refuses(reason, obj):
    result = parse(obj)
    assert (result.fixes, result.statuses) == ([], [])
    (rejection,) = result.rejections
    assert rejection.reason == reason
    assert rejection.message and rejection.message_en and rejection.message != rejection.message_en
    assert rejection.topic == TOPIC
    assert list(SCHEMA.iter_errors(obj))


def test_transport_level_rejections():
    assert parse({**GOOD, "device_id": "OTHER"}).rejections[0].reason == "device_mismatch"
    big = json.dumps({**GOOD, "pad": "x" * 70_000}).encode()
    assert parse(big).rejections[0].reason == "payload_too_large"
    assert parse(b"[" * 3000 + b"]" * 3000).rejections[0].reason == "nesting_too_deep"
    assert parse(b'{"v":1,"\xff":2}').rejections[0].reason == "malformed_json"
    assert parse(GOOD, topic="siaga/v1/status/a+b").rejections[0].reason == "invalid_topic"
    assert parse(b"").ignored == "empty_payload"


def test_minimal_status_is_accepted():
    minimal = {k: GOOD[k] for k in ("v", "device_id", "received_at", "reason")}
    assert not list(SCHEMA.iter_errors(minimal))
    (status,) = parse(minimal).statuses
    assert (status.time, status.cells, status.wifi, status.source) == (None, (), 0, "native")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GOOD) + ["cells", "x"]), _json, max_size=9))
def test_any_status_object_is_a_report_or_a_typed_rejection_and_the_schema_agrees(over):
    obj = {**GOOD, **over}
    raw = json.dumps(obj, allow_nan=True).encode()
    result = parse_message(TOPIC, raw, received_at=NOW)
    assert result.fixes == []
    assert len(result.statuses) + len(result.rejections) == 1
    schema_ok = not list(SCHEMA.iter_errors(json.loads(raw)))
    if result.statuses:
        assert schema_ok
    elif result.rejections[0].reason in SCHEMA_REASONS | {"invalid_time"}:
        assert not schema_ok
