"""``siaga-bridge nmea --tcp``: the last epoch before the stream pauses is published during the
pause (idle flush), not only when the next epoch starts. Real TCP source, real Mosquitto."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import reduce

from tests.integration.gps_firmware_bridge.conftest import PositionSubscriber


def _line(body: str) -> bytes:
    return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}\r\n".encode()


def _epoch(t: datetime, i: int) -> bytes:
    hms, dmy = t.strftime("%H%M%S"), t.strftime("%d%m%y")
    lat = f"0748.{200 + i:04d}"
    return _line(f"GPRMC,{hms},A,{lat},S,11021.883,E,010.0,090.0,{dmy},,,A") + _line(
        f"GPGGA,{hms},{lat},S,11021.883,E,1,08,0.9,114.0,M,,M,,"
    )


def test_last_epoch_is_published_while_the_stream_pauses(broker_factory, tmp_path):
    broker = broker_factory()
    broker.start()
    subscriber = PositionSubscriber(broker, "idle-sub")
    received = subscriber.received

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10)
    source = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        conn, _ = source.accept()
        held.append(conn)
        conn.sendall(b"".join(_epoch(start + timedelta(seconds=i), i) for i in range(3)))
        # ... then the receiver pauses: the connection stays open, nothing more is sent.

    threading.Thread(target=serve, daemon=True).start()
    bridge = subprocess.Popen(
        [
            sys.executable, "-m", "gps_firmware_bridge", "nmea",
            "--tcp", f"127.0.0.1:{source.getsockname()[1]}", "--device-id", "GW-IDLE",
            "--every-fix", "--mqtt-url", broker.url,
            "--outbox", str(tmp_path / "gw.sqlite"), "--client-id", "gw-idle",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 8
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held and held[0].fileno() != -1  # the source is still connected, only silent
        times = [f["fix_time"] for f in received]
        last = (start + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert times[-1:] == [last], f"last epoch not published during the pause: {times}"
        assert len(times) == 3
    finally:
        bridge.terminate()
        bridge.wait(10)
        for conn in held:
            conn.close()
        source.close()
        subscriber.close()
