"""Status messages (a tracker alive without a GPS fix) through the real broker into PostGIS.

A valid ``siaga/v1/status/<device>`` message updates the device's last-seen state and creates no
position; a poison status message becomes a reject with its reason, is acknowledged, and the
stream after it goes on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from tests.integration.tracking.helpers import mosquitto_pub, scalar, wait_for
from tests.integration.tracking.test_poison import iso, wait_connected

STATUS_VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "mqtt" / "status"


def _device(engine, device_id: str):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT registered, last_seen_at, last_status_at, last_status_reason, last_cells, "
            "last_wifi_count FROM device WHERE device_id = :d"), {"d": device_id}).one_or_none()


def test_status_updates_last_seen_without_a_position_and_poison_is_rejected(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    worker = ingest_process(mqtt_url, f"ingest-{token}", topic_prefix)
    worker.wait_subscribed()
    dev = f"{token}-ALIVE"
    topic = f"{topic_prefix}siaga/v1/status/{dev}"
    vector = json.loads((STATUS_VECTORS / "gt06_cells_only.json").read_text())
    now = datetime.now(UTC).replace(microsecond=0)
    status = {**vector["payload"], "device_id": dev, "time": iso(now - timedelta(seconds=20)),
              "received_at": iso(now - timedelta(seconds=19))}
    poison = {
        "nesting_too_deep": [b"[" * 3000 + b"]" * 3000],
        "malformed_json": [b'{"v":1,"\xff":2}'],
        "unknown_field": [json.dumps({**status, "lat": -7.8}).encode()],
        "invalid_value": [
            json.dumps({**status, "cells": [{"mcc": 510, "mnc": 10, "lac": 1, "cid": 2**40}]})
            .encode(),
            json.dumps({**status, "source": "gt\x0006"}).encode(),
            json.dumps({**status, "reason": "lost"}).encode(),
        ],
        "device_mismatch": [json.dumps({**status, "device_id": f"{token}-OTHER"}).encode()],
        "payload_too_large": [json.dumps({**status, "pad": "x" * 70_000}).encode()],
    }
    for payloads in poison.values():
        for payload in payloads:
            mosquitto_pub(mqtt_url, topic, payload)
    mosquitto_pub(mqtt_url, topic, json.dumps(status).encode())
    total = sum(len(p) for p in poison.values())
    wait_for(lambda: (_device(engine, dev) or (None,) * 6)[2] is not None, 30,
             "the status after the poison applied")
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM position_reject WHERE topic = :t",
                            t=topic) >= total, 30, "every poison status rejected")
    row = _device(engine, dev)
    assert row.registered is False  # recorded as an unknown tracker, like a first fix
    assert row.last_status_reason == "no_gps"
    assert row.last_cells == vector["payload"]["cells"]
    assert row.last_wifi_count == 0
    assert abs((row.last_status_at - now).total_seconds()) < 60
    assert row.last_seen_at == row.last_status_at
    assert scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d", d=dev) == 0
    assert scalar(engine, "SELECT count(*) FROM latest_position WHERE device_id = :d",
                  d=dev) == 0
    with engine.connect() as conn:
        reasons = Counter(r[0] for r in conn.execute(text(
            "SELECT reason FROM position_reject WHERE topic = :t"), {"t": topic}))
    assert reasons == {reason: len(p) for reason, p in poison.items()}

    # a fix afterwards: the device has both a last fix and its last status
    fix = {"v": 1, "device_id": dev, "seq": 1, "fix_time": iso(now - timedelta(seconds=5)),
           "lat": -7.8, "lon": 110.36}
    mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/{dev}", json.dumps(fix).encode())
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d",
                            d=dev) == 1, 30, "the fix after the status")
    assert _device(engine, dev).last_status_reason == "no_gps"  # kept, not cleared by a fix
    assert worker.proc.poll() is None
    assert worker.terminate() == 0
    log = worker.log_path.read_text(errors="replace")
    assert "'statuses': 1" in log and "Traceback" not in log
    # everything was acknowledged: a new worker on the same session receives nothing again
    again = ingest_process(mqtt_url, f"ingest-{token}", topic_prefix)
    wait_connected(again, 2)
    time.sleep(2)
    assert again.terminate() == 0
    assert scalar(engine, "SELECT count(*) FROM position_reject WHERE topic = :t",
                  t=topic) == total
