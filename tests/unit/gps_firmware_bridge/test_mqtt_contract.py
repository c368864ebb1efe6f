"""Inputs -> outbox -> MQTT messages equal tests/vectors/mqtt payloads and satisfy the schema."""

import json

import pytest

from gps_firmware_bridge import gt06, nmea, osmand, teltonika
from gps_firmware_bridge.fix import Fix, topic_for
from gps_firmware_bridge.flush import plan_flush
from gps_firmware_bridge.outbox import Outbox

from ._vectors import BRIDGE_VECTORS, MQTT_VECTORS, ids, validator, when

CASES = json.loads((BRIDGE_VECTORS / "mqtt_cases.json").read_text())["cases"]


def _decode(case) -> list[Fix]:
    now = when(case["now"])
    if case["protocol"] == "nmea":
        return [
            f
            for f in nmea.decode_lines(case["device_id"], case["lines"], now)
            if isinstance(f, Fix)
        ]
    if case["protocol"] == "gt06":
        results, _ = gt06.decode_stream(gt06.Gt06Session(), bytes.fromhex(case["hex"]), now)
    elif case["protocol"] == "teltonika":
        results, _, _ = teltonika.decode_stream(
            teltonika.TeltonikaSession(), bytes.fromhex(case["hex"]), now
        )
    else:
        results = [
            osmand.decode_request(
                case["method"], case["target"], case["body"].encode(), case["content_type"], now
            )
        ]
    return [f for r in results for f in r.fixes]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_bridge_produces_the_contract_payloads(case, tmp_path):
    fixes = _decode(case)
    assert fixes
    with Outbox(tmp_path / "o.sqlite") as box:
        if case["prior_acked"]:
            earlier = [fixes[0]] * case["prior_acked"]
            box.put_many(earlier)
            for msg in plan_flush(box.pending(), 100, 100):
                box.delete(msg.row_ids)
        box.put_many(fixes)
        newest = box.backlog_newest() if case["offline"] else []
        plan = plan_flush(box.pending(), 100, 100, newest)
    produced = [{"topic": m.topic, "payload": json.loads(m.payload)} for m in plan]
    expected = []
    for item in case["expect"]:
        if "mqtt_vector" in item:
            vec = json.loads((MQTT_VECTORS / item["mqtt_vector"]).read_text())
            expected.append({"topic": vec["topic"], "payload": vec["payload"]})
        else:
            expected.append(item)
    assert produced == expected
    schema = validator()
    for msg in produced:
        assert not list(schema.iter_errors(msg["payload"]))
        items = msg["payload"] if isinstance(msg["payload"], list) else [msg["payload"]]
        assert all(topic_for(p["device_id"]) == msg["topic"] for p in items)


def test_the_bridge_produces_every_top_level_mqtt_vector():
    """Each tests/vectors/mqtt/*.json is the exact output of at least one bridge case."""
    produced_by_cases = {
        item["mqtt_vector"] for case in CASES for item in case["expect"] if "mqtt_vector" in item
    }
    top_level = {path.name for path in MQTT_VECTORS.glob("*.json")}
    assert top_level and top_level <= produced_by_cases, top_level - produced_by_cases


def test_every_mqtt_vector_is_schema_valid():
    schema = validator()
    for path in sorted(MQTT_VECTORS.rglob("*.json")):
        if path.parent.name == "status":  # status.v1 (test_status_contract.py)
            continue
        assert not list(schema.iter_errors(json.loads(path.read_text())["payload"])), path.name
