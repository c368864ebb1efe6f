"""Server commands, pure part: the per-device queue (order, one in flight, timeout, never to an
unidentified connection), the Codec 12 and GT06 0x80 encodings against published examples, the
``--command`` option, MQTT topics and the answer payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gps_firmware_bridge import gt06
from gps_firmware_bridge.commands import (
    MAX_COMMAND_CHARS,
    CommandQueue,
    answer_payload,
    answer_topic,
    command_topic,
    device_of,
    encode,
    parse_option,
    text_of_message,
)
from gps_firmware_bridge.exceptions import CommandError
from gps_firmware_bridge.gt06_framing import split_frames

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
IMEI = "356307042441013"
OTHER = "864717003283581"


def test_commands_of_one_device_are_sent_in_order_one_at_a_time():
    queue = CommandQueue(timeout_s=30)
    queue.submit(IMEI, "getinfo", T0)
    queue.submit(IMEI, "getver", T0)
    first = queue.next_to_send(IMEI, T0)
    assert first is not None and first.text == "getinfo" and first.sent_at == T0
    assert queue.next_to_send(IMEI, T0 + timedelta(seconds=1)) is None  # getinfo in flight
    outcome = queue.answer(IMEI, "RTC:2026/11/27", T0 + timedelta(seconds=2))
    assert outcome is not None and outcome.command.text == "getinfo"
    assert outcome.answer == "RTC:2026/11/27" and outcome.status == "answered"
    second = queue.next_to_send(IMEI, T0 + timedelta(seconds=3))
    assert second is not None and second.text == "getver"
    assert queue.pending(IMEI) == ()


def test_queues_are_per_device():
    queue = CommandQueue()
    queue.submit(IMEI, "getinfo", T0)
    queue.submit(OTHER, "WHERE#", T0)
    assert queue.next_to_send(OTHER, T0).text == "WHERE#"
    # the other device's command in flight does not hold this one back
    assert queue.next_to_send(IMEI, T0).text == "getinfo"
    # an answer goes to the device that gave it
    assert queue.answer(OTHER, "Lat:N1.0", T0).command.device_id == OTHER
    assert queue.in_flight(IMEI).text == "getinfo"


def test_no_command_to_an_unidentified_connection():
    queue = CommandQueue()
    queue.submit(IMEI, "getinfo", T0)
    assert queue.next_to_send(None, T0) is None
    assert [c.text for c in queue.pending(IMEI)] == ["getinfo"]
    assert queue.next_to_send(OTHER, T0) is None


def test_unanswered_command_times_out_and_frees_the_device():
    queue = CommandQueue(timeout_s=10)
    queue.submit(IMEI, "getinfo", T0)
    queue.submit(IMEI, "getver", T0)
    queue.next_to_send(IMEI, T0)
    assert queue.expire(T0 + timedelta(seconds=9.9)) == []
    late = queue.expire(T0 + timedelta(seconds=10))
    assert [(o.command.text, o.answer, o.status) for o in late] == [("getinfo", None, "timeout")]
    assert queue.expire(T0 + timedelta(seconds=60)) == []  # reported once
    # an answer arriving after the timeout belongs to no command
    assert queue.answer(IMEI, "late", T0 + timedelta(seconds=11)) is None
    assert queue.next_to_send(IMEI, T0 + timedelta(seconds=12)).text == "getver"


def test_answer_without_a_command_in_flight_is_not_an_outcome():
    assert CommandQueue().answer(IMEI, "unsolicited text", T0) is None


def test_full_queue_refuses_with_a_bilingual_message():
    queue = CommandQueue(max_pending=2)
    queue.submit(IMEI, "a", T0)
    queue.submit(IMEI, "b", T0)
    with pytest.raises(CommandError, match="penuh.*full"):
        queue.submit(IMEI, "c", T0)
    assert [c.text for c in queue.pending(IMEI)] == ["a", "b"]


@pytest.mark.parametrize("text", ["", "x" * (MAX_COMMAND_CHARS + 1), "getinfo\n", "héllo"])
def test_bad_command_text_is_refused(text):
    with pytest.raises(CommandError, match="perintah.*command"):
        CommandQueue().submit(IMEI, text, T0)


def test_timeout_must_be_positive():
    with pytest.raises(CommandError):
        CommandQueue(timeout_s=0)


def test_teltonika_getinfo_is_the_documented_codec12_packet():
    # Teltonika wiki, "Codec 12": getinfo command sent by the server
    expected = "000000000000000f0c010500000007676574696e666f0100004312"
    assert encode("teltonika", "getinfo").hex() == expected


def test_gt06_command_is_traccars_0x80_frame():
    # Traccar Gt06ProtocolEncoderTest: engine stop "Relay,1#" with message index 0
    assert encode("gt06", "Relay,1#", 0).hex() == "787812800c0000000052656c61792c312300009dee0d0a"


def test_gt06_command_frame_has_a_valid_crc_and_frames_alone():
    frame = encode("gt06", "WHERE#", 7)
    frames, garbage, rest = split_frames(frame, strict=True)
    assert frames == [frame] and garbage == [] and rest == b""
    assert frame[3] == 0x80 and frame[4] == 4 + len("WHERE#") and frame[-6:-4] == b"\x00\x07"


def test_unknown_protocol_has_no_commands():
    with pytest.raises(CommandError):
        encode("osmand", "getinfo")


def test_command_option():
    assert parse_option(f"{IMEI}=getinfo") == (IMEI, "getinfo")
    assert parse_option(f"{IMEI}=setdigout 1?") == (IMEI, "setdigout 1?")
    for bad in ("getinfo", "=getinfo", "abc=getinfo", f"{IMEI}="):
        with pytest.raises(CommandError, match="IMEI|perintah"):
            parse_option(bad)


def test_topics():
    assert command_topic(IMEI) == f"siaga/v1/cmd/{IMEI}"
    assert answer_topic(IMEI) == f"siaga/v1/cmd/{IMEI}/answer"
    assert device_of(command_topic(IMEI)) == IMEI
    assert device_of(answer_topic(IMEI)) is None
    assert device_of("siaga/v1/pos/1") is None
    assert device_of("siaga/v1/cmd/") is None


def test_mqtt_payload_text():
    assert text_of_message(b" getinfo \n") == "getinfo"
    with pytest.raises(CommandError, match="UTF-8"):
        text_of_message(b"\xff\xfe")
    with pytest.raises(CommandError):
        text_of_message(b"")


def test_answer_payload_of_answered_and_timed_out_commands():
    queue = CommandQueue(timeout_s=5)
    queue.submit(IMEI, "getinfo", T0)
    queue.next_to_send(IMEI, T0)
    done = queue.answer(IMEI, "INI:2019/7/22 7:22", T0 + timedelta(seconds=2))
    assert answer_payload(done) == {
        "device_id": IMEI,
        "command": "getinfo",
        "answer": "INI:2019/7/22 7:22",
        "status": "answered",
        "sent_at": "2026-11-27T08:00:00Z",
        "answered_at": "2026-11-27T08:00:02Z",
    }
    queue.submit(IMEI, "getver", T0)
    queue.next_to_send(IMEI, T0)
    (late,) = queue.expire(T0 + timedelta(seconds=5))
    payload = answer_payload(late)
    assert payload["answer"] is None and payload["answered_at"] is None
    assert payload["status"] == "timeout" and payload["sent_at"] == "2026-11-27T08:00:00Z"


@given(st.lists(st.tuples(st.sampled_from([IMEI, OTHER]), st.sampled_from("sae")), max_size=40))
def test_at_most_one_in_flight_and_order_kept_under_any_sequence(ops):
    """Property: whatever submit/send/answer sequence, each device has at most one command in
    flight, and its commands leave in the order they were submitted."""
    queue = CommandQueue(timeout_s=1)
    submitted: dict[str, list[str]] = {IMEI: [], OTHER: []}
    sent: dict[str, list[str]] = {IMEI: [], OTHER: []}
    inflight: dict[str, str | None] = {IMEI: None, OTHER: None}
    for n, (device, op) in enumerate(ops):
        if op == "s":
            queue.submit(device, f"c{n}", T0)
            submitted[device].append(f"c{n}")
        elif op == "a":
            outcome = queue.answer(device, "ok", T0)
            assert (outcome.command.text if outcome else None) == inflight[device]
            inflight[device] = None
        else:
            command = queue.next_to_send(device, T0)
            if inflight[device] is not None:
                assert command is None
            elif command is not None:
                inflight[device] = command.text
                sent[device].append(command.text)
    for device in (IMEI, OTHER):
        assert sent[device] == submitted[device][: len(sent[device])]


def test_gt06_answer_frame_is_decoded_as_a_response():
    """The 0x15 answer a device sends to a 0x80 command is a CommandResponse the queue matches."""
    session = gt06.Gt06Session(device_id=OTHER)
    text = b"Lat:N-6.2,Lon:E106.8"
    answer = gt06.build_frame(0x15, bytes([4 + len(text)]) + b"\x00\x00\x00\x00" + text, 3)
    (result,), rest = gt06.decode_stream(session, answer, T0)
    from gps_firmware_bridge.tracker_status import responses

    (response,) = responses(result.extra)
    queue = CommandQueue()
    queue.submit(OTHER, "WHERE#", T0)
    queue.next_to_send(OTHER, T0)
    outcome = queue.answer(response.device_id, response.text, T0)
    assert outcome.command.text == "WHERE#" and outcome.answer == text.decode()
