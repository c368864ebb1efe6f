"""Publishes the broker ACL refuses (real Mosquitto, MQTT v5 PUBACK 0x87) are failures: counted,
kept in the outbox's refused table, never reported as published; the CLI exits non-zero."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import reduce

from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.outbox import Outbox
from gps_firmware_bridge.publisher import MqttConfig, Publisher
from tests.integration.gps_firmware_bridge.test_acl import USERS, _secured_broker, _v5, _wait


def _nmea(path, n: int) -> None:
    def line(body: str) -> str:
        return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    out = []
    for i in range(n):
        t = start + timedelta(seconds=i)
        hms, dmy = t.strftime("%H%M%S"), t.strftime("%d%m%y")
        out.append(line(f"GPRMC,{hms},A,0748.{100 + i:04d},S,11021.883,E,010.0,090.0,{dmy},,,A"))
    path.write_text("\n".join(out) + "\n")


def _bridge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gps_firmware_bridge", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _listener(port: int):
    received: list[str] = []
    ingest, _, _ = _v5("siaga-ingest", port)
    ingest.on_message = lambda c, u, m: received.append(m.topic)
    ingest.subscribe("siaga/v1/pos/#", qos=1)
    return ingest, received


def test_refused_gateway_exits_non_zero_and_keeps_its_fixes(broker_factory, tmp_path):
    broker = _secured_broker(broker_factory)
    ingest, received = _listener(broker.port)
    nmea = tmp_path / "drive.nmea"
    _nmea(nmea, 10)
    outbox = str(tmp_path / "gw.sqlite")
    common = ["--outbox", outbox, "--mqtt-url", broker.url, "--client-id", "gw-refused"]
    # dev-A's login may publish only siaga/v1/pos/dev-A: every fix of dev-B is refused.
    run = _bridge(
        "nmea", "--file", str(nmea), "--device-id", "dev-B", "--every-fix",
        "--exit-when-drained", "--username", "dev-A", "--password", USERS["dev-A"], *common,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "refused 10 fixes" in run.stderr and "menolak" in run.stderr
    with Outbox(outbox) as box:
        stats = box.stats()
        assert (stats.published_total, stats.refused_total, stats.refused_held) == (0, 10, 10)
        assert {reason for _, reason in box.refused_rows()} == {"Not authorized"}

    shown = _bridge("outbox", *common)
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["refused_held"] == 10

    # With the right login the refused fixes are resent and delivered: nothing was lost.
    retry = _bridge(
        "outbox", "--retry-refused", "--drain", "--timeout", "20",
        "--username", "dev-B", "--password", USERS["dev-B"], *common,
    )  # fmt: skip
    assert retry.returncode == 0, retry.stderr
    stats = json.loads(retry.stdout.strip().splitlines()[-1])
    assert (stats["pending"], stats["published_total"], stats["refused_held"]) == (0, 10, 0)
    assert _wait(lambda: len(received) >= 1)
    assert set(received) == {"siaga/v1/pos/dev-B"}
    ingest.disconnect()
    ingest.loop_stop()


def test_one_refused_device_does_not_block_the_others(broker_factory, tmp_path):
    broker = _secured_broker(broker_factory)
    ingest, received = _listener(broker.port)
    box = Outbox(tmp_path / "mixed.sqlite")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for i in range(6):
        device = "dev-A" if i % 2 == 0 else "dev-B"
        box.put(Fix(device, t0 + timedelta(seconds=i), 110.36 + i / 1000, -7.8, source="gt06"))
    pub = Publisher(box, MqttConfig(broker.url, "mixed-a", "dev-A", USERS["dev-A"]), batch_size=1)
    pub.start()
    try:
        assert pub.wait_drained(10)
    finally:
        pub.stop()
    assert (pub.delivered_fixes, pub.refused_fixes) == (3, 3)
    assert box.stats().published_total == 3
    assert [row.device_id for row, _ in box.refused_rows()] == ["dev-B"] * 3
    assert _wait(lambda: len(received) >= 3)
    assert set(received) == {"siaga/v1/pos/dev-A"}
    box.close()
    ingest.disconnect()
    ingest.loop_stop()


def test_drain_with_a_refused_login_stops_and_exits_non_zero(broker_factory, tmp_path):
    broker = _secured_broker(broker_factory)
    outbox = str(tmp_path / "gw.sqlite")
    with Outbox(outbox) as box:
        box.put(Fix("dev-A", datetime.now(UTC), 110.36, -7.8, source="gt06"))
    run = _bridge(
        "outbox", "--drain", "--timeout", "30", "--outbox", outbox, "--mqtt-url", broker.url,
        "--username", "dev-A", "--password", "wrong",
    )  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "refused the connection" in run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["pending"] == 1


def test_mqtt_311_cannot_report_a_refusal_which_is_why_v5_is_the_default(broker_factory, tmp_path):
    broker = _secured_broker(broker_factory)
    assert MqttConfig().protocol == "5"
    box = Outbox(tmp_path / "v3.sqlite")
    box.put(Fix("dev-B", datetime.now(UTC), 110.36, -7.8, source="gt06"))
    config = MqttConfig(broker.url, "v3-a", "dev-A", USERS["dev-A"], protocol="3.1.1")
    pub = Publisher(box, config)
    pub.start()
    try:
        assert pub.wait_drained(10)
    finally:
        pub.stop()
    # Mosquitto answers the refused QoS 1 publish with a plain v3.1.1 PUBACK: it looks delivered.
    assert (pub.delivered_fixes, pub.refused_fixes) == (1, 0)
    box.close()
