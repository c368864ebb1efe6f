"""Frames without a GPS fix -> the exact status messages of tests/vectors/mqtt/status."""

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from gps_firmware_bridge import gt06, teltonika
from gps_firmware_bridge.status import MAX_CELLS, status_payload, status_topic
from gps_firmware_bridge.tracker_status import CellTower, NoFix, WifiAccessPoint, no_fix_records

from ._vectors import BRIDGE_VECTORS, MQTT_VECTORS, REPO, ids, when

CASES = json.loads((BRIDGE_VECTORS / "status_cases.json").read_text())["cases"]
STATUS_VECTORS = MQTT_VECTORS / "status"


def status_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "schemas" / "mqtt" / "status.v1.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _records(case) -> list[NoFix]:
    now = when(case["now"])
    frame = bytes.fromhex(case["hex"])
    if case["protocol"] == "gt06":
        results, _ = gt06.decode_stream(gt06.Gt06Session(device_id="864717003283581"), frame, now)
    else:
        session = teltonika.TeltonikaSession(device_id="356307042441013")
        results, _, _ = teltonika.decode_stream(session, frame, now)
    assert not [f for r in results for f in r.fixes]  # never published as positions
    return [n for r in results for n in no_fix_records(r.extra)]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_bridge_produces_the_status_vectors(case):
    records = _records(case)
    assert records
    newest = {}  # the server publishes the newest status per device
    for record in records:
        newest[record.device_id] = record
    produced = [
        {"topic": status_topic(r.device_id), "payload": status_payload(r, when(case["now"]))}
        for r in newest.values()
    ]
    expected = []
    for item in case["expect"]:
        vec = json.loads((MQTT_VECTORS / item["mqtt_vector"]).read_text())
        expected.append({"topic": vec["topic"], "payload": vec["payload"]})
    assert produced == expected
    for msg in produced:
        assert not list(status_validator().iter_errors(msg["payload"]))


def test_every_status_vector_is_produced_by_a_case_and_schema_valid():
    produced = {item["mqtt_vector"] for case in CASES for item in case["expect"]}
    vectors = {f"status/{p.name}" for p in STATUS_VECTORS.glob("*.json")}
    assert vectors and vectors == produced
    validator = status_validator()
    for path in STATUS_VECTORS.glob("*.json"):
        assert not list(validator.iter_errors(json.loads(path.read_text())["payload"])), path


def test_payload_stays_within_the_schema_bounds():
    """Too many cells, out-of-range ids and signal values never leave the bridge."""
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    cells = tuple(CellTower(510, 10, 500, 161 + i, -60) for i in range(MAX_CELLS + 8))
    odd = (CellTower(0x7FFF, 10, 1, 2), CellTower(510, 10, 1, 2**40), CellTower(510, 1, 1, 2, 40))
    record = NoFix(
        "864717003283581",
        None,
        "something_new",
        odd + cells,
        tuple(WifiAccessPoint(f"aa:bb:cc:dd:ee:{i % 256:02x}") for i in range(300)),
        "gt06",
    )
    payload = status_payload(record, at)
    assert not list(status_validator().iter_errors(payload))
    assert len(payload["cells"]) == MAX_CELLS
    assert payload["cells"][0] == {"mcc": 510, "mnc": 1, "lac": 1, "cid": 2, "rssi": None}
    assert (payload["time"], payload["reason"], payload["wifi"]) == (None, "no_gps", 255)
