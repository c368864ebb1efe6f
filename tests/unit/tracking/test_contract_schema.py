"""The JSON Schema file and the hand-written parser agree on every vector and bad case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

from tests.unit.tracking.test_contract import VECTORS, fix_obj  # noqa: E402
from tracking.contract import SCHEMA_REASONS, parse_message  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "schemas" / "mqtt" / "position.v1.json").read_text())
NOW = datetime(2026, 11, 23, 2, 20, tzinfo=UTC)

CASES = [json.loads(p.read_text())["payload"] for p in VECTORS] + [
    fix_obj(), [fix_obj(seq=1), fix_obj(seq=2)], fix_obj(seq=...), fix_obj(lat=...),
    fix_obj(extra=True), fix_obj(v=2), fix_obj(v=True), fix_obj(lat="1"), fix_obj(lat=90.5),
    fix_obj(lon=180.01), fix_obj(lon=-180.0, lat=-90.0), fix_obj(seq=-1), fix_obj(seq=2.0),
    fix_obj(seq=2.5), fix_obj(satellites=True), fix_obj(speed_mps=None), fix_obj(speed_mps=-0.1),
    fix_obj(heading_deg=360), fix_obj(heading_deg=360.5), fix_obj(battery_pct=101),
    fix_obj(hdop=-1), fix_obj(accuracy_m="5"), fix_obj(ignition=None), fix_obj(ignition=1),
    fix_obj(source=5), fix_obj(device_id=""), fix_obj(device_id="x" * 65),
    fix_obj(fix_time=12345), fix_obj(fix_time="yesterday"), fix_obj(fix_time="2026-11-23T02:15:00"),
    [], [fix_obj(), 3], "text", 1, None, [fix_obj(seq=1), fix_obj(lat=-91)],
]


def schema_valid(instance) -> bool:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return validator.is_valid(instance)


def test_schema_file_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("payload", CASES, ids=lambda p: json.dumps(p)[:60])
def test_schema_and_parser_agree(payload):
    result = parse_message("siaga/v1/pos/DEV-1", json.dumps(payload).encode(), received_at=NOW)
    parser_valid = not any(r.reason in SCHEMA_REASONS for r in result.rejections)
    assert parser_valid == schema_valid(payload), [r.reason for r in result.rejections]
