"""Loading of the golden vectors in tests/vectors/bridge and tests/vectors/mqtt."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
BRIDGE_VECTORS = REPO / "tests" / "vectors" / "bridge"
MQTT_VECTORS = REPO / "tests" / "vectors" / "mqtt"
SCHEMA = REPO / "schemas" / "mqtt" / "position.v1.json"


def cases(protocol: str) -> list[dict[str, Any]]:
    return json.loads((BRIDGE_VECTORS / f"{protocol}.json").read_text())["cases"]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in items]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def no_fix_payload(record: Any) -> dict[str, Any]:
    """A :class:`~gps_firmware_bridge.tracker_status.NoFix` as the vectors write it."""
    return {
        "reason": record.reason,
        "time": record.time.strftime("%Y-%m-%dT%H:%M:%SZ") if record.time else None,
        "cells": [[c.mcc, c.mnc, c.lac, c.cid] for c in record.cells],
        "wifi": len(record.wifi),
    }
