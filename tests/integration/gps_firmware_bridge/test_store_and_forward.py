"""Broker down, 1,000 fixes stored, gateway SIGKILLed and restarted, broker back: every fix
arrives exactly once, the newest first, then the backlog in order as batch payloads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import reduce

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gps_firmware_bridge.outbox import Outbox
from tests.unit.gps_firmware_bridge._vectors import validator

N_FIXES = 1000
DEVICE = "GW-KILL-1"


def _nmea_file(path, start: datetime) -> None:
    def cks(body: str) -> str:
        checksum = reduce(lambda a, c: a ^ ord(c), body, 0)
        return f"${body}*{checksum:02X}"

    lines = []
    for i in range(N_FIXES):
        t = start + timedelta(seconds=i)
        hhmmss, ddmmyy = t.strftime("%H%M%S"), t.strftime("%d%m%y")
        lat = f"0748.{83 + i % 900:04d}"
        lines.append(cks(f"GPRMC,{hhmmss},A,{lat},S,11021.883,E,020.0,090.0,{ddmmyy},,,A"))
        lines.append(cks(f"GPGGA,{hhmmss},{lat},S,11021.883,E,1,08,0.9,114.0,M,,M,,"))
    path.write_text("\n".join(lines) + "\n")


def _bridge(*args: str, capture: bool = False) -> subprocess.Popen[bytes]:
    """Run ``python -m gps_firmware_bridge`` (the ``siaga-bridge`` entry point) in a subprocess."""
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "gps_firmware_bridge", *args],
        stdout=out,
        stderr=out,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class Subscriber:
    """Persistent-session QoS 1 subscriber recording every payload in arrival order."""

    def __init__(self, port: int) -> None:
        self.messages: list[object] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id="sf-test-sub",
            protocol=mqtt.MQTTv311,
            clean_session=False,
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        with self.lock:
            self.messages.append(json.loads(message.payload))

    def fixes(self) -> list[dict]:
        with self.lock:
            out: list[dict] = []
            for m in self.messages:
                out.extend(m if isinstance(m, list) else [m])
            return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.slow
def test_kill_and_outage_lose_nothing_and_duplicate_nothing(broker_factory, tmp_path):
    broker = broker_factory()
    broker.start()
    sub = Subscriber(broker.port)
    sub.client.subscribe("siaga/v1/pos/#", qos=1)
    assert sub.subscribed.wait(5)
    sub.close()
    broker.stop()  # the persistent session (and its subscription) is saved to disk

    nmea = tmp_path / "drive.nmea"
    _nmea_file(nmea, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
    outbox_path = tmp_path / "gateway.sqlite"
    common = [
        "--outbox",
        str(outbox_path),
        "--mqtt-url",
        broker.url,
        "--client-id",
        "gw-kill",
        "--batch-size",
        "100",
    ]
    gateway = _bridge("nmea", "--file", str(nmea), "--device-id", DEVICE, "--every-fix", *common)
    deadline = time.monotonic() + 60
    with Outbox(outbox_path) as box:
        while box.count() < N_FIXES and time.monotonic() < deadline:
            time.sleep(0.1)
        assert box.count() == N_FIXES
    gateway.send_signal(signal.SIGKILL)
    gateway.wait(10)
    with Outbox(outbox_path) as box:
        assert box.count() == N_FIXES  # durably stored before the kill

    broker.start()
    sub = Subscriber(broker.port)  # resumes its persistent session
    restarted = _bridge("outbox", "--drain", "--timeout", "60", *common, capture=True)
    out, err = restarted.communicate(timeout=90)
    assert restarted.returncode == 0, err.decode()
    deadline = time.monotonic() + 30
    while len(sub.fixes()) < N_FIXES and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # anything extra (a duplicate) would arrive now
    sub.close()

    fixes = sub.fixes()
    keys = [(f["device_id"], f["seq"]) for f in fixes]
    assert len(keys) == len(set(keys)), "duplicates delivered"
    assert sorted(s for _, s in keys) == list(range(N_FIXES)), "fixes lost"
    first, second = sub.messages[0], sub.messages[1]
    assert isinstance(first, dict) and first["seq"] == N_FIXES - 1  # newest first
    assert isinstance(second, list) and [f["seq"] for f in second] == list(range(100))
    backlog = [f["seq"] for m in sub.messages[1:] for f in (m if isinstance(m, list) else [m])]
    assert backlog == list(range(N_FIXES - 1))  # then the backlog in order
    schema = validator()
    assert all(not list(schema.iter_errors(m)) for m in sub.messages)
    stats = json.loads(out.decode().strip().splitlines()[-1])
    assert stats["pending"] == 0 and stats["dropped_rows"] == 0
