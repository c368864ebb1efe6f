"""The TCP servers' wiring, on real sockets and a real broker: a frame without a GPS fix is
published as tracker status (never as a position); CRC integrity is logged once per device or,
with strict_crc, refused; the GT06 model reaches the decoder; ``--strict-crc``/``--model`` on the
command line; ``simulate`` exits 3 when the broker refuses its fixes."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gps_firmware_bridge.cli import Runtime, build_parser
from gps_firmware_bridge.outbox import Outbox
from gps_firmware_bridge.server import TrackerServer
from tests.integration.gps_firmware_bridge.test_acl import USERS, _secured_broker, _wait
from tests.unit.gps_firmware_bridge._vectors import MQTT_VECTORS, cases, when

GT = {c["name"]: c for c in cases("gt06")}
TL = {c["name"]: c for c in cases("teltonika")}
LOGIN = bytes.fromhex(GT["login 0x01"]["hex"])
NO_FIX = GT["GPS not positioned (bit 12 clear)"]
BAD_CRC = GT["wrong checksum: decoded and acknowledged, crc_mismatch noted"]
GOOD = GT["GPS location 0x22 (Shenzhen)"]
NT20 = GT["location 0x22 (model NT20)"]
TL_IMEI = bytes.fromhex(TL["IMEI handshake"]["hex"])
TL_BAD_CRC = TL["wrong CRC: decoded, crc_mismatch noted and acknowledged"]
STATUS_VECTOR = json.loads((MQTT_VECTORS / "status" / "gt06_gps_invalid.json").read_text())


def _listener(url_port: int) -> tuple[mqtt.Client, list[tuple[str, dict]]]:
    received: list[tuple[str, dict]] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="status-listener",
                         protocol=mqtt.MQTTv5)
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    client.on_connect = lambda c, u, f, rc, p: c.subscribe("siaga/v1/#", qos=1)
    client.connect("127.0.0.1", url_port)
    client.loop_start()
    assert subscribed.wait(5)
    return client, received


def _runtime(mode: str, tmp_path, broker_url: str, *extra: str) -> Runtime:
    args = build_parser().parse_args([
        mode, "--outbox", str(tmp_path / f"{mode}.sqlite"), "--mqtt-url", broker_url,
        "--client-id", f"test-{mode}", *extra,
    ])  # fmt: skip
    return Runtime(args)


async def _read(reader: asyncio.StreamReader, n: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), 5)


async def _silent(reader: asyncio.StreamReader, seconds: float = 0.5) -> bool:
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return True
    return False


def test_no_fix_frame_is_published_as_status_and_never_as_a_position(broker_factory, tmp_path):
    broker = broker_factory()
    broker.start()
    listener, received = _listener(broker.port)
    rt = _runtime("gt06", tmp_path, broker.url)
    rt.publisher.start()
    moment = when(NO_FIX["now"])

    async def scenario() -> None:
        server = TrackerServer("gt06", rt.sink, lambda: moment, status_sink=rt.status_sink)
        port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(LOGIN)
        assert (await _read(reader, 10)).hex() == GT["login 0x01"]["expect"]["reply"]
        writer.write(bytes.fromhex(NO_FIX["hex"]))
        reply = NO_FIX["expect"]["reply"]
        assert (await _read(reader, len(reply) // 2)).hex() == reply  # still acknowledged
        writer.close()
        await server.close()

    try:
        asyncio.run(scenario())
        assert _wait(lambda: len(received) >= 1, 10)
        time.sleep(0.3)
        assert received == [(STATUS_VECTOR["topic"], STATUS_VECTOR["payload"])]
        assert rt.publisher.wait_drained(5)
        assert rt.publisher.delivered_statuses == 1
        assert rt.stored == 0 and rt.outbox.stats().stored_total == 0
    finally:
        rt.close()
        listener.loop_stop()
        listener.disconnect()


def test_crc_mismatch_is_logged_once_per_device_and_strict_crc_refuses_it(tmp_path, caplog):
    box = Outbox(tmp_path / "o.sqlite")
    bad = bytes.fromhex(BAD_CRC["hex"])
    moment = when(BAD_CRC["now"])
    caplog.set_level(logging.WARNING, logger="gps_firmware_bridge.server")

    async def scenario() -> None:
        lenient = TrackerServer("gt06", box.put_many, lambda: moment)
        strict = TrackerServer("gt06", box.put_many, lambda: moment, strict_crc=True)
        for server in (lenient, strict):
            port = await server.start("127.0.0.1", 0)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(LOGIN)
            await _read(reader, 10)
            writer.write(bad)
            if server is lenient:
                assert (await _read(reader, 10)).hex() == BAD_CRC["expect"]["reply"]
                writer.write(bad)  # a second one: counted, not logged again
                assert (await _read(reader, 10)).hex() == BAD_CRC["expect"]["reply"]
            else:
                assert await _silent(reader)  # refused: no ACK, the device resends
                writer.write(bytes.fromhex(GOOD["hex"]))  # the connection goes on
                assert (await _read(reader, 10)).hex() == GOOD["expect"]["reply"]
            writer.close()
            await server.close()
        imei = BAD_CRC["expect"]["device_id"]
        assert lenient.integrity.counts == {(imei, "crc_mismatch"): 2}
        assert strict.integrity.counts == {}

    asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if "crc_mismatch" in r.getMessage()]
    assert len(lines) == 1 and BAD_CRC["expect"]["device_id"] in lines[0]
    # two lenient fixes stored (duplicates of one frame) and the good frame after the refusal
    assert box.stats().stored_total == 3
    box.close()


def test_teltonika_strict_crc_refuses_a_wrong_crc_packet(tmp_path):
    box = Outbox(tmp_path / "t.sqlite")
    moment = when(TL_BAD_CRC["now"])

    async def scenario() -> None:
        for strict in (False, True):
            server = TrackerServer("teltonika", box.put_many, lambda: moment, strict_crc=strict)
            port = await server.start("127.0.0.1", 0)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(TL_IMEI)
            assert await _read(reader, 1) == b"\x01"
            writer.write(bytes.fromhex(TL_BAD_CRC["hex"]))
            if strict:
                assert await _silent(reader)
            else:
                assert (await _read(reader, 4)).hex() == TL_BAD_CRC["expect"]["reply"]
            writer.close()
            await server.close()

    asyncio.run(scenario())
    assert box.stats().stored_total == 1
    box.close()


def test_gt06_model_reaches_the_decoder(tmp_path):
    frame = bytes.fromhex(NT20["hex"])
    moment = when(NT20["now"])
    stored: dict[str | None, list] = {}

    async def scenario() -> None:
        for model in (None, "NT20"):
            fixes: list = []
            server = TrackerServer("gt06", fixes.extend, lambda: moment, model=model)
            port = await server.start("127.0.0.1", 0)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(LOGIN)
            await _read(reader, 10)
            writer.write(frame)
            await _read(reader, 10)
            writer.close()
            await server.close()
            stored[model] = fixes

    asyncio.run(scenario())
    (fix,) = stored["NT20"]
    expected = NT20["expect"]["fixes"][0]
    assert (round(fix.lat, 7), round(fix.lon, 7)) == (expected["lat"], expected["lon"])
    assert fix.battery_pct == expected["battery_pct"] and fix.ignition is expected["ignition"]
    assert [(f.battery_pct, f.ignition) for f in stored[None]] != [(66.0, True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_gt06_with_strict_crc_and_model_publishes_status(broker_factory, tmp_path):
    broker = broker_factory()
    broker.start()
    listener, received = _listener(broker.port)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gps_firmware_bridge", "gt06", "--host", "127.0.0.1", "--port",
         str(port), "--strict-crc", "--model", "nt20", "--outbox", str(tmp_path / "g.sqlite"),
         "--mqtt-url", broker.url, "--client-id", "cli-gt06"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=0.5)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        with sock:
            sock.settimeout(5)
            sock.sendall(LOGIN)
            assert sock.recv(64).hex() == GT["login 0x01"]["expect"]["reply"]
            sock.sendall(bytes.fromhex(BAD_CRC["hex"]))  # --strict-crc: refused, no ACK
            sock.settimeout(0.7)
            try:
                assert sock.recv(64) == b""
            except TimeoutError:
                pass
            sock.settimeout(5)
            sock.sendall(bytes.fromhex(NO_FIX["hex"]))
            assert sock.recv(64).hex() == NO_FIX["expect"]["reply"]
        before = datetime.now(UTC)
        assert _wait(lambda: len(received) >= 1, 15)
        time.sleep(0.3)
        ((topic, payload),) = received
        assert topic == STATUS_VECTOR["topic"]
        expected = {**STATUS_VECTOR["payload"], "received_at": payload["received_at"]}
        assert payload == expected
        assert abs((when(payload["received_at"]) - before).total_seconds()) < 30
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        listener.loop_stop()
        listener.disconnect()
    assert "bad_checksum" in out or "rejected" in out


def test_cli_model_choices_are_listed_and_checked():
    help_text = build_parser()._subparsers._group_actions[0].choices["gt06"].format_help()
    for model in ("NT20", "QH302R", "LW4G-4B", "R11"):
        assert model in help_text
    assert "--strict-crc" in help_text
    bad = subprocess.run([sys.executable, "-m", "gps_firmware_bridge", "gt06", "--model", "X9"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    assert build_parser().parse_args(["gt06", "--model", "lw4g-4b"]).model == "LW4G-4B"
    assert build_parser().parse_args(["teltonika", "--strict-crc"]).strict_crc is True


def test_simulate_exits_3_when_the_broker_refuses_its_fixes(broker_factory, tmp_path):
    broker = _secured_broker(broker_factory)
    roads = tmp_path / "roads.csv"
    roads.write_text(
        "u,v,u_lon,u_lat,v_lon,v_lat,length_m,travel_s\n"
        "0,1,110.360,-7.800,110.361,-7.800,110.2,11.0\n"
        "1,0,110.361,-7.800,110.360,-7.800,110.2,11.0\n"
        "1,2,110.361,-7.800,110.362,-7.800,110.2,11.0\n"
        "2,1,110.362,-7.800,110.361,-7.800,110.2,11.0\n"
    )
    common = ["--roads", str(roads), "--units", "2", "--interval", "0.5", "--duration", "2",
              "--mqtt-url", broker.url, "--client-id", "sim-refused"]
    refused = subprocess.run(
        [sys.executable, "-m", "gps_firmware_bridge", "simulate", *common,
         "--outbox", str(tmp_path / "r.sqlite"), "--username", "dev-A", "--password",
         USERS["dev-A"]],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert refused.returncode == 3, refused.stderr[-2000:]
    assert "menolak" in refused.stderr and "refused" in refused.stderr
    open_broker = broker_factory(name="open")
    open_broker.start()
    common[common.index(broker.url)] = open_broker.url
    ok = subprocess.run(
        [sys.executable, "-m", "gps_firmware_bridge", "simulate", *common,
         "--outbox", str(tmp_path / "ok.sqlite")],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr[-2000:]  # the same run, accepted: exit 0


def test_status_path_keeps_the_newest_per_device_and_counts_refusals(broker_factory, tmp_path):
    """Before the connection, two statuses of dev-A: only the newest is sent; dev-A's login may
    not publish dev-B's status: refused (PUBACK 0x87), counted, not resent, nothing blocked."""
    from gps_firmware_bridge.publisher import MqttConfig, Publisher

    broker = _secured_broker(broker_factory)
    received: list[tuple[str, dict]] = []
    ingest = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="st-ingest", protocol=mqtt.MQTTv5)
    ingest.username_pw_set("siaga-ingest", USERS["siaga-ingest"])
    subscribed = threading.Event()
    ingest.on_subscribe = lambda *a: subscribed.set()
    ingest.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    ingest.on_connect = lambda c, u, f, rc, p: c.subscribe("siaga/v1/status/#", qos=1)
    ingest.connect("127.0.0.1", broker.port)
    ingest.loop_start()
    assert subscribed.wait(5)
    box = Outbox(tmp_path / "s.sqlite")
    pub = Publisher(box, MqttConfig(broker.url, "st-dev-a", "dev-A", USERS["dev-A"]))
    pub.put_status("siaga/v1/status/dev-A", json.dumps({"n": 1}))
    pub.put_status("siaga/v1/status/dev-A", json.dumps({"n": 2}))
    pub.put_status("siaga/v1/status/dev-B", json.dumps({"n": 3}))
    pub.start()
    try:
        assert pub.wait_drained(10)
    finally:
        pub.stop()
        box.close()
    assert (pub.delivered_statuses, pub.refused_statuses) == (1, 1)
    assert pub.last_refusal == "Not authorized"
    assert _wait(lambda: len(received) >= 1)
    time.sleep(0.3)
    assert received == [("siaga/v1/status/dev-A", {"n": 2})]
    ingest.loop_stop()
    ingest.disconnect()
