"""Server commands on real sockets and a real Mosquitto: a client playing a Teltonika FMB (IMEI
handshake, AVL packet, then the Codec 12 ``getinfo`` bytes exactly, a Codec 12 answer) and one
playing a GT06 (login, location, 0x80 commands, 0x15 / 0x21 answers); commands come from
``--command`` and from MQTT ``siaga/v1/cmd/{imei}``, answers are logged and published on
``siaga/v1/cmd/{imei}/answer``; an unanswered command times out; a bad ``--command`` exits 2."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gps_firmware_bridge import teltonika
from gps_firmware_bridge.cli import Runtime, build_parser, main
from gps_firmware_bridge.commandlink import build_link
from gps_firmware_bridge.commands import encode
from gps_firmware_bridge.server import TrackerServer
from tests.unit.gps_firmware_bridge._vectors import cases, when

GT = {c["name"]: c for c in cases("gt06")}
TL = {c["name"]: c for c in cases("teltonika")}
TL_HANDSHAKE = bytes.fromhex(TL["IMEI handshake"]["hex"])
TL_IMEI = TL["IMEI handshake"]["expect"]["device_id"]
TL_AVL_CASE = TL["IMEI then AVL packet in one TCP read"]
TL_AVL = bytes.fromhex(TL_AVL_CASE["hex"])[len(TL_HANDSHAKE) :]
TL_ANSWER = TL["Codec 12 answer (text)"]
GT_LOGIN = GT["login 0x01"]
GT_IMEI = GT_LOGIN["expect"]["device_id"]
GT_GOOD = GT["GPS location 0x22 (Shenzhen)"]
GT_ANSWER_15 = GT["string 0x15 (ICCID answer)"]
GT_ANSWER_21 = GT["79 79 0x21 command answer (UTF-16)"]
#: Teltonika wiki, "Codec 12": the getinfo command as the server sends it
GETINFO = bytes.fromhex("000000000000000f0c010500000007676574696e666f0100004312")


def _client(port: int) -> tuple[mqtt.Client, list[tuple[str, dict]]]:
    received: list[tuple[str, dict]] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cmd-operator",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    client.on_connect = lambda c, u, f, rc, p: c.subscribe("siaga/v1/cmd/+/answer", qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert subscribed.wait(5)
    return client, received


def _runtime(mode: str, tmp_path, url: str, *extra: str):
    args = build_parser().parse_args([
        mode, "--outbox", str(tmp_path / f"{mode}.sqlite"), "--mqtt-url", url,
        "--client-id", f"cmd-{mode}", *extra,
    ])  # fmt: skip
    rt = Runtime(args)
    link = build_link(mode, args.command, args.command_timeout, rt.publisher)
    link.poll_s = 0.05
    return rt, link


async def _read(reader: asyncio.StreamReader, n: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), 5)


async def _until(pred, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_teltonika_getinfo_sent_after_the_avl_ack_and_answer_published(
    broker_factory, tmp_path, caplog
):
    broker = broker_factory()
    broker.start()
    operator, answers = _client(broker.port)
    rt, link = _runtime("teltonika", tmp_path, broker.url, "--command", f"{TL_IMEI}=getinfo")
    rt.publisher.start()
    caplog.set_level(logging.INFO, logger="gps_firmware_bridge.commandlink")
    moment = when(TL_AVL_CASE["now"])

    async def scenario() -> None:
        server = TrackerServer("teltonika", rt.sink, lambda: moment, commands=link)
        port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(TL_HANDSHAKE)
        assert await _read(reader, 1) == b"\x01"
        # nothing is sent between the handshake and the first AVL ACK
        assert link.queue.in_flight(TL_IMEI) is None
        writer.write(TL_AVL)
        assert await _read(reader, 4) == b"\x00\x00\x00\x01"
        assert await _read(reader, len(GETINFO)) == GETINFO  # byte for byte
        writer.write(bytes.fromhex(TL_ANSWER["hex"]))
        await _until(lambda: len(answers) >= 1)
        # a second command from MQTT reaches the connected device
        operator.publish(f"siaga/v1/cmd/{TL_IMEI}", b"getver", qos=1)
        getver = teltonika.command_packet("getver")
        assert await _read(reader, len(getver)) == getver
        writer.write(bytes.fromhex(TL_ANSWER["hex"]))
        await _until(lambda: len(answers) >= 2)
        writer.close()
        await server.close()

    try:
        asyncio.run(scenario())
        topic, first = answers[0]
        assert topic == f"siaga/v1/cmd/{TL_IMEI}/answer"
        assert first["device_id"] == TL_IMEI and first["command"] == "getinfo"
        assert first["answer"] == TL_ANSWER["expect"]["responses"][0]
        assert first["status"] == "answered"
        assert first["sent_at"] <= first["answered_at"]
        assert answers[1][1]["command"] == "getver"
        assert rt.stored == 1  # the AVL record went to the outbox as usual
        logged = [r.getMessage() for r in caplog.records]
        assert any("'getinfo'" in m and "answered: UUUUww06.4" in m for m in logged)
    finally:
        rt.close()
        operator.loop_stop()
        operator.disconnect()


def test_gt06_0x80_commands_answered_by_0x15_and_0x21_and_one_timing_out(broker_factory, tmp_path):
    broker = broker_factory()
    broker.start()
    operator, answers = _client(broker.port)
    rt, link = _runtime(
        "gt06", tmp_path, broker.url, "--command", f"{GT_IMEI}=ICCID#", "--command-timeout", "1"
    )
    rt.publisher.start()
    moment = when(GT_GOOD["now"])

    async def scenario() -> None:
        server = TrackerServer("gt06", rt.sink, lambda: moment, commands=link)
        port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(bytes.fromhex(GT_LOGIN["hex"]))
        assert (await _read(reader, 10)).hex() == GT_LOGIN["expect"]["reply"]
        writer.write(bytes.fromhex(GT_GOOD["hex"]))
        assert (await _read(reader, 10)).hex() == GT_GOOD["expect"]["reply"]
        first = encode("gt06", "ICCID#", 1)
        assert await _read(reader, len(first)) == first
        writer.write(bytes.fromhex(GT_ANSWER_15["hex"]))
        assert (await _read(reader, 10)).hex() == GT_ANSWER_15["expect"]["reply"]  # 0x15 ACK
        await _until(lambda: len(answers) >= 1)
        operator.publish(f"siaga/v1/cmd/{GT_IMEI}", b"STATUS#", qos=1)
        second = encode("gt06", "STATUS#", 2)
        assert await _read(reader, len(second)) == second
        writer.write(bytes.fromhex(GT_ANSWER_21["hex"]))  # 79 79 0x21: no ACK
        await _until(lambda: len(answers) >= 2)
        operator.publish(f"siaga/v1/cmd/{GT_IMEI}", b"RESET#", qos=1)
        third = encode("gt06", "RESET#", 3)
        assert await _read(reader, len(third)) == third
        await _until(lambda: len(answers) >= 3)  # never answered: times out after 1 s
        writer.close()
        await server.close()

    try:
        asyncio.run(scenario())
        got = [(a["command"], a["answer"], a["status"]) for _, a in answers]
        assert got == [
            ("ICCID#", "<ICCID:89882390000097302650>", "answered"),
            ("STATUS#", "Command error!", "answered"),
            ("RESET#", None, "timeout"),
        ]
        assert answers[2][1]["answered_at"] is None and answers[2][1]["sent_at"]
        assert rt.stored == 1
    finally:
        rt.close()
        operator.loop_stop()
        operator.disconnect()


def test_bad_mqtt_command_is_refused_and_the_next_one_still_goes(tmp_path, caplog):
    """A poison MQTT command (not UTF-8, too long) is logged and dropped; the queue goes on."""
    rt, link = _runtime("teltonika", tmp_path, "mqtt://127.0.0.1:9")
    caplog.set_level(logging.WARNING, logger="gps_firmware_bridge.commandlink")
    try:
        link.on_message(f"siaga/v1/cmd/{TL_IMEI}", b"\xff\xfe")
        link.on_message(f"siaga/v1/cmd/{TL_IMEI}", b"x" * 500)
        link.on_message(f"siaga/v1/cmd/{TL_IMEI}", b"getinfo")
        assert [c.text for c in link.queue.pending(TL_IMEI)] == ["getinfo"]
        refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert len(refused) == 2 and "UTF-8" in refused[0]
    finally:
        rt.close()


def test_cli_refuses_a_malformed_command_option(tmp_path, capsys):
    status = main([
        "teltonika", "--outbox", str(tmp_path / "o.sqlite"), "--mqtt-url", "mqtt://127.0.0.1:9",
        "--command", "getinfo",
    ])  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert "IMEI=TEKS" in err and "IMEI=TEXT" in err


def test_command_of_a_device_that_went_offline_times_out(tmp_path):
    """The device disconnects with a command in flight: it is still reported unanswered."""
    rt, link = _runtime(
        "gt06", tmp_path, "mqtt://127.0.0.1:9", "--command", f"{GT_IMEI}=WHERE#",
        "--command-timeout", "0.5",
    )  # fmt: skip
    outcomes: list = []
    link.on_outcome = outcomes.append
    moment = when(GT_GOOD["now"])

    async def scenario() -> None:
        server = TrackerServer("gt06", rt.sink, lambda: moment, commands=link)
        port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(bytes.fromhex(GT_LOGIN["hex"]))
        await _read(reader, 10)
        writer.write(bytes.fromhex(GT_GOOD["hex"]))
        await _read(reader, 10)
        command = encode("gt06", "WHERE#", 1)
        assert await _read(reader, len(command)) == command
        writer.close()  # offline before answering
        await _until(lambda: server.connections == 0)
        await _until(lambda: outcomes, timeout_s=5)
        await server.close()

    try:
        asyncio.run(scenario())
        assert [(o.command.text, o.status) for o in outcomes] == [("WHERE#", "timeout")]
        assert link.queue.in_flight(GT_IMEI) is None
    finally:
        rt.close()
