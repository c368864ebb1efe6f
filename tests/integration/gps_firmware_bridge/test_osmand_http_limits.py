"""The OsmAnd HTTP server over real sockets: bad coordinates are 400s with a reason, invalid
optional values are dropped (fix stored), bad or huge Content-Length is refused at once,
half-sent requests time out without one thread per connection, every request gets an answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from gps_firmware_bridge.outbox import Outbox
from gps_firmware_bridge.server import OsmAndServer
from tests.unit.gps_firmware_bridge._vectors import when

NOW = when("2026-11-23T02:16:00Z")
GOOD = "/?id=URC-7&lat=-7.8&lon=110.37&timestamp=2026-11-23T02:15:30Z"


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[OsmAndServer, Outbox]]:
    box = Outbox(tmp_path / "o.sqlite")
    server = OsmAndServer(
        ("127.0.0.1", 0), box.put_many, lambda: NOW, header_timeout_s=1.0, body_timeout_s=1.0
    )
    server.start_background()
    try:
        yield server, box
    finally:
        server.shutdown()
        server.server_close()
        box.close()


def exchange(port: int, data: bytes, timeout_s: float = 5.0) -> tuple[int, str, float]:
    """Send raw bytes, read the whole answer; returns (status, body, seconds to the answer)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    assert raw, "no response at all"
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode("utf-8"), time.monotonic() - started


def get(port: int, target: str) -> tuple[int, str, float]:
    return exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


def test_invalid_coordinates_are_400_with_a_reason(served):
    server, box = served
    port = server.server_address[1]
    for bad in ("lat=95&lon=110", "lat=-7.8&lon=190", "lat=nan&lon=110", "lat=-7.8&lon=inf"):
        status, body, _ = get(port, f"/?id=URC-7&{bad}")
        assert status == 400, bad
        assert body.startswith("bad_coordinate: koordinat") and "coordinate" in body
    assert box.count() == 0


def test_invalid_optional_values_keep_the_position(served):
    server, box = served
    port = server.server_address[1]
    assert get(port, GOOD + "&speed=-1")[0] == 200
    status, body, _ = get(port, GOOD + "&speed=10&batt=101")
    assert status == 200 and "battery_pct" in body
    payloads = [json.loads(r.payload) for r in box.pending()]
    assert [(p["lat"], p.get("speed_mps"), p.get("battery_pct")) for p in payloads] == [
        (-7.8, None, None),
        (-7.8, 5.14, None),
    ]


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", 400), ("abc", 400), ("1e3", 400), ("99999999999999999999", 400), ("10000000", 413)],
)
def test_bad_or_huge_content_length_is_refused_at_once(served, length, status):
    server, box = served
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    got, body, seconds = exchange(server.server_address[1], head + b"id=URC-7&lat=-7.8")
    assert got == status
    assert "Content-Length" in body or "melebihi" in body
    assert seconds < 0.9  # before the 1 s body timeout: nothing was awaited
    assert box.count() == 0


def test_garbage_and_truncated_requests_get_an_answer(served):
    server, _ = served
    port = server.server_address[1]
    for data in (
        b"\x00\xff\x13garbage\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"DELETE /?id=1 HTTP/1.1\r\n\r\n",
        b"GET /?id=1 HTTP/1.1\r\nbad header\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /?id=1 HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
    ):
        status, body, _ = exchange(port, data)
        assert status in (400, 405, 411, 431, 505) and " / " in body, data[:40]
    # a body shorter than announced times out with 408 after the body timeout
    status, _, seconds = exchange(port, b"POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nid=1")
    assert status == 408 and 0.9 < seconds < 3.0
    assert get(port, GOOD)[0] == 200


def test_a_thousand_half_sent_requests_hold_no_threads_and_time_out(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    server = OsmAndServer(("127.0.0.1", 0), box.put_many, lambda: NOW, header_timeout_s=3.0)
    threads_before = threading.active_count()
    server.start_background()
    port = server.server_address[1]
    held = []
    try:
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /?id=URC-7&lat=-7.8&lon=110.37 HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        deadline = time.monotonic() + 2
        while server.active_connections < 1000 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.active_connections == 1000
        extra = threading.active_count() - threads_before
        assert extra <= 6, f"{extra} threads for 1,000 open requests"  # loop + worker pool
        status, _, seconds = get(port, GOOD)  # still served while the 1,000 are held
        assert status == 200 and seconds < 1.0
        started = time.monotonic()
        statuses = []
        for sock in held:
            raw = sock.recv(4096)
            statuses.append(int(raw.split(b" ", 2)[1]) if raw else None)
        assert set(statuses) == {408}
        assert time.monotonic() - started < 4.0  # all released by the 3 s header timeout
        deadline = time.monotonic() + 3
        while server.active_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.active_connections == 0
        assert box.count() == 1
    finally:
        for sock in held:
            sock.close()
        server.shutdown()
        server.server_close()
        box.close()
