"""Real sockets: GT06/Teltonika clients get the right ACKs; garbage on one connection does not
disturb another; OsmAnd over real HTTP. Fixes land in a real SQLite outbox."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from datetime import datetime

import pytest

from gps_firmware_bridge.outbox import Outbox
from gps_firmware_bridge.server import OsmAndServer, TrackerServer
from tests.unit.gps_firmware_bridge._vectors import cases, when

GT = {c["name"]: c for c in cases("gt06")}
TL = {c["name"]: c for c in cases("teltonika")}
LOGIN = bytes.fromhex(GT["login 0x01"]["hex"])
LOC22 = bytes.fromhex(GT["GPS location 0x22 (Shenzhen)"]["hex"])
HEARTBEAT = bytes.fromhex(GT["heartbeat 0x13 is acknowledged"]["hex"])
IMEI = bytes.fromhex(TL["IMEI handshake"]["hex"])
AVL = bytes.fromhex(TL["Codec 8, one record (Vienna)"]["hex"])


def clock_at(text: str):
    moment = when(text)
    return lambda: moment


async def _read(reader: asyncio.StreamReader, n: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), 5)


def test_gt06_acks_and_isolation(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")

    async def scenario() -> None:
        server = TrackerServer("gt06", box.put_many, clock_at("2015-12-29T03:00:00Z"))
        port = await server.start("127.0.0.1", 0)
        r1, w1 = await asyncio.open_connection("127.0.0.1", port)
        r2, w2 = await asyncio.open_connection("127.0.0.1", port)
        w1.write(LOGIN)
        assert (await _read(r1, 10)).hex() == GT["login 0x01"]["expect"]["reply"]
        # connection 2 sends garbage, a wrong-checksum frame, then logs in normally
        w2.write(b"\x00garbage\xff" + LOC22[:-8] + b"\x00\x00\r\n")
        await w2.drain()
        w1.write(LOC22 + HEARTBEAT)  # location and heartbeat, each acknowledged
        assert (await _read(r1, 10)).hex() == GT["GPS location 0x22 (Shenzhen)"]["expect"]["reply"]
        assert (await _read(r1, 10)).hex() == GT["heartbeat 0x13 is acknowledged"]["expect"][
            "reply"
        ]
        w2.write(LOGIN)
        assert (await _read(r2, 10)).hex() == GT["login 0x01"]["expect"]["reply"]
        # a frame split across two TCP segments
        w1.write(LOGIN[:5])
        await w1.drain()
        await asyncio.sleep(0.05)
        w1.write(LOGIN[5:])
        assert len(await _read(r1, 10)) == 10
        for w in (w1, w2):
            w.close()
        await server.close()

    asyncio.run(scenario())
    rows = box.pending()
    assert [json.loads(r.payload)["lat"] for r in rows] == [23.1116933]
    assert rows[0].device_id == "864717003283581"


def test_teltonika_handshake_record_count_ack_and_isolation(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")

    async def scenario() -> None:
        server = TrackerServer("teltonika", box.put_many, clock_at("2019-01-04T12:30:00Z"))
        port = await server.start("127.0.0.1", 0)
        good_r, good_w = await asyncio.open_connection("127.0.0.1", port)
        bad_r, bad_w = await asyncio.open_connection("127.0.0.1", port)
        good_w.write(IMEI)
        assert await _read(good_r, 1) == b"\x01"
        bad_w.write(IMEI)
        assert await _read(bad_r, 1) == b"\x01"
        bad_w.write(b"GET / HTTP/1.1\r\n\r\n")  # not an AVL packet: only this one is closed
        assert await asyncio.wait_for(bad_r.read(), 5) == b""
        good_w.write(AVL[:30])
        await good_w.drain()
        await asyncio.sleep(0.05)
        good_w.write(AVL[30:])
        assert await _read(good_r, 4) == b"\x00\x00\x00\x01"
        wrong_crc = AVL[:-2] + b"\x00\x00"
        good_w.write(wrong_crc + AVL)  # wrong CRC: decoded and ACKed as Traccar does; good: ACK 1
        assert await _read(good_r, 8) == b"\x00\x00\x00\x01" * 2
        good_w.close()
        await server.close()

    asyncio.run(scenario())
    assert box.count() == 3
    assert {r.device_id for r in box.pending()} == {"123456789012345"}


def test_osmand_http(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    server = OsmAndServer(("127.0.0.1", 0), box.put_many, clock_at("2013-08-22T13:20:00Z"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(
            base + "/?id=123456&timestamp=1377177267&lat=60.0&lon=30.0&speed=10", timeout=5
        ) as resp:
            assert resp.status == 200
        body = b"id=BPBD-02&lat=-7.8&lon=110.37&timestamp=1377177200"
        req = urllib.request.Request(base + "/", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/?lat=1&lon=2", timeout=5)
        assert err.value.code == 400
    finally:
        server.shutdown()
        server.server_close()
    payloads = [json.loads(r.payload) for r in box.pending()]
    assert [(p["device_id"], p["speed_mps"] if "speed_mps" in p else None) for p in payloads] == [
        ("123456", 5.14),
        ("BPBD-02", None),
    ]
    assert datetime.fromisoformat(payloads[0]["fix_time"].replace("Z", "+00:00")).year == 2013
