"""``siaga-bridge osmand`` as operators run it (subprocess, real HTTP, real Mosquitto): bad
coordinates and bad Content-Length are answered 400/413 with a reason and no traceback; fixes
with an invalid optional value reach the broker without that value."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from tests.integration.gps_firmware_bridge.conftest import PositionSubscriber, free_port
from tests.integration.gps_firmware_bridge.test_osmand_http_limits import exchange, get


def test_osmand_mode_end_to_end(broker_factory, tmp_path):
    broker = broker_factory()
    broker.start()
    subscriber = PositionSubscriber(broker, "osm-sub")
    received = subscriber.received

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gps_firmware_bridge", "osmand", "--host", "127.0.0.1",
            "--port", str(port), "--mqtt-url", broker.url,
            "--outbox", str(tmp_path / "osmand.sqlite"), "--client-id", "osm-cli",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        for query in ("lat=95&lon=110", "lat=-7.8&lon=190", "lat=nan&lon=110", "lat=1&lon=inf"):
            status, body, _ = get(port, f"/?id=URC-9&{query}")
            assert status == 400 and body.startswith("bad_coordinate"), (query, status, body)
        for length, expected in (("abc", 400), ("-1", 400), ("99999999999", 413)):
            head = f"POST / HTTP/1.1\r\nContent-Length: {length}\r\n\r\n".encode()
            status, body, seconds = exchange(port, head)
            assert (status, seconds < 0.9) == (expected, True) and " / " in body
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
        good = f"/?id=URC-9&lat=-7.8&lon=110.37&timestamp={stamp}"
        assert get(port, good + "&speed=-1")[0] == 200
        assert get(port, good + "&speed=10&batt=101")[0] == 200
        deadline = time.monotonic() + 10
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(m["lat"], m.get("speed_mps"), m.get("battery_pct")) for m in received] == [
            (-7.8, None, None),
            (-7.8, 5.14, None),
        ]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        subscriber.close()
    assert b"Traceback" not in err, err.decode()
