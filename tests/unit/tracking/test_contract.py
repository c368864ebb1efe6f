"""The MQTT contract parser: shared vectors, every rejection reason, OwnTracks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracking.contract import fix_to_payload, parse_message
from tracking.plausibility import PlausibilityLimits

MQTT_VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "mqtt"
# Top level: payloads the bridge produces exactly; third_party/: native payloads of other trackers;
# status/: the status contract (tests/unit/tracking/test_status_contract.py).
VECTORS = sorted(p for p in MQTT_VECTORS.rglob("*.json") if "status" not in p.parent.name)
NOW = datetime(2026, 11, 23, 2, 20, tzinfo=UTC)
TOPIC = "siaga/v1/pos/DEV-1"


def fix_obj(**over):
    base = {"v": 1, "device_id": "DEV-1", "seq": 1, "fix_time": "2026-11-23T02:15:00Z",
            "lat": -7.8, "lon": 110.36}
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


def parse(obj, topic=TOPIC, **kw):
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return parse_message(topic, raw, received_at=NOW, **kw)


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_shared_vectors_parse_as_expected(path):
    vector = json.loads(path.read_text())
    result = parse(vector["payload"], topic=vector["topic"])
    assert len(result.fixes) == vector["expect"]["accepted"]
    assert len(result.rejections) == vector["expect"]["rejected"]
    items = vector["payload"] if isinstance(vector["payload"], list) else [vector["payload"]]
    for fix, item in zip(result.fixes, items, strict=True):
        assert fix_to_payload(fix) == {"source": "native", **item}
        assert fix.received_at == NOW


def test_single_fix_fields_and_units():
    vector = json.loads((MQTT_VECTORS / "third_party" / "single_fix.json").read_text())
    (fix,) = parse(vector["payload"], topic=vector["topic"]).fixes
    assert fix.device_id == "862104056789012"
    assert fix.fix_time == datetime(2026, 11, 23, 2, 15, 30, tzinfo=UTC)
    assert (fix.lon, fix.lat) == (110.364722, -7.801389)
    assert (fix.speed_mps, fix.heading_deg, fix.satellites, fix.seq) == (12.5, 87.0, 11, 1024)
    assert fix.ignition is True and fix.source == "gt06"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b"42", "invalid_structure"),
        (b"[]", "invalid_structure"),
        (fix_obj(lat=...), "missing_field"),
        (fix_obj(extra=1), "unknown_field"),
        (fix_obj(v=2), "unsupported_version"),
        (fix_obj(lat="x"), "invalid_type"),
        (fix_obj(lat=91.0), "lat_out_of_range"),
        (fix_obj(lon=-180.5), "lon_out_of_range"),
        (fix_obj(lat=0.0, lon=0.0), "null_island"),
        (fix_obj(fix_time="2026-11-23 02:15:00"), "invalid_fix_time"),
        (fix_obj(fix_time="2026-02-30T00:00:00Z"), "invalid_fix_time"),
        (fix_obj(fix_time="2026-11-23T03:00:00Z"), "fix_time_future"),
        (fix_obj(fix_time="2019-01-01T00:00:00Z"), "fix_time_too_old"),
        (fix_obj(device_id="DEV-2"), "device_mismatch"),
        (fix_obj(device_id="bad/id"), "invalid_device_id"),
        (fix_obj(device_id="a+b"), "invalid_device_id"),
        (fix_obj(speed_mps=-1), "invalid_value"),
        (fix_obj(heading_deg=361), "invalid_value"),
        (fix_obj(seq=1.5), "invalid_type"),
        (fix_obj(ignition="yes"), "invalid_type"),
    ],
)
def test_each_bad_input_is_rejected_with_its_reason(payload, reason):
    result = parse(payload)
    assert result.fixes == []
    (rejection,) = result.rejections
    assert rejection.reason == reason
    assert rejection.message and rejection.message_en
    assert rejection.topic == TOPIC and rejection.received_at == NOW


def test_nan_literal_is_rejected_as_not_finite():
    raw = json.dumps(fix_obj()).replace("-7.8", "NaN").encode()
    (rejection,) = parse(raw).rejections
    assert rejection.reason == "not_finite"
    assert rejection.payload == raw


def test_bad_topic_is_rejected():
    (rejection,) = parse(fix_obj(), topic="siaga/v1/pos/").rejections
    assert rejection.reason == "invalid_topic"


def test_batch_keeps_good_items_and_rejects_bad_ones_with_index():
    batch = [fix_obj(seq=1), fix_obj(seq=2, lat=95.0), fix_obj(seq=3)]
    result = parse(batch)
    assert [f.seq for f in result.fixes] == [1, 3]
    (rejection,) = result.rejections
    assert (rejection.reason, rejection.item_index) == ("lat_out_of_range", 1)
    assert json.loads(rejection.payload)["seq"] == 2


def test_prefix_is_stripped():
    result = parse(fix_obj(), topic="t-123/" + TOPIC, prefix="t-123/")
    assert len(result.fixes) == 1


def test_future_window_is_configurable():
    limits = PlausibilityLimits(max_future_s=3600)
    assert len(parse(fix_obj(fix_time="2026-11-23T03:00:00Z"), limits=limits).fixes) == 1


def test_offset_times_are_converted_to_utc():
    (fix,) = parse(fix_obj(fix_time="2026-11-23T09:15:00+07:00")).fixes
    assert fix.fix_time == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)


OT_TOPIC = "owntracks/budi/hp1"


def ot(**over):
    base = {"_type": "location", "tst": int((NOW - timedelta(seconds=30)).timestamp()),
            "lat": -7.79, "lon": 110.37, "vel": 36, "cog": 90, "acc": 12, "alt": 110, "batt": 80,
            "tid": "bd", "conn": "m"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


def test_owntracks_location_is_converted():
    (fix,) = parse(ot(), topic=OT_TOPIC).fixes
    assert fix.device_id == "owntracks:budi:hp1"
    assert fix.source == "owntracks" and fix.seq is None
    assert fix.fix_time == NOW - timedelta(seconds=30)
    assert fix.speed_mps == pytest.approx(10.0)
    assert (fix.heading_deg, fix.accuracy_m, fix.altitude_m, fix.battery_pct) == (90, 12, 110, 80)


@pytest.mark.parametrize("kind", ["transition", "waypoint", "lwt", "card"])
def test_owntracks_other_types_are_ignored_and_counted(kind):
    result = parse({"_type": kind, "tst": 1}, topic=OT_TOPIC)
    assert result.fixes == [] and result.rejections == []
    assert result.ignored == f"owntracks_{kind}"


def test_owntracks_subtopics_are_ignored():
    assert parse(ot(), topic=OT_TOPIC + "/event").ignored == "owntracks_subtopic"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (ot(lat=...), "missing_field"),
        (ot(lat=0.0, lon=0.0), "null_island"),
        (ot(lat=-100.0), "lat_out_of_range"),
        (ot(tst="yesterday"), "invalid_type"),
        ({"lat": 1}, "invalid_structure"),
        (ot(tst=int((NOW + timedelta(hours=2)).timestamp())), "fix_time_future"),
    ],
)
def test_owntracks_bad_input_is_rejected(payload, reason):
    (rejection,) = parse(payload, topic=OT_TOPIC).rejections
    assert rejection.reason == reason
