"""Teltonika Codec 8/8E driven by tests/vectors/bridge/teltonika.json (Traccar + Teltonika wiki)."""

import pytest

from gps_firmware_bridge import teltonika
from gps_firmware_bridge.crc import crc16_ibm
from gps_firmware_bridge.fix import fix_payload
from gps_firmware_bridge.tracker_status import no_fix_records, responses

from ._vectors import cases, ids, no_fix_payload, validator, when

CASES = cases("teltonika")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_vector(case):
    session = teltonika.TeltonikaSession(
        device_id="356307042441013" if case["handshake_done"] else None,
        strict_crc=case.get("strict_crc", False),
    )
    results, rest, close = teltonika.decode_stream(
        session, bytes.fromhex(case["hex"]), when(case["now"])
    )
    exp = case["expect"]
    assert [fix_payload(f, None) for r in results for f in r.fixes] == exp["fixes"]
    assert [j.reason for r in results for j in r.rejections] == exp["rejections"]
    assert [n.reason for r in results for n in r.notes] == exp.get("notes", [])
    assert b"".join(r.reply for r in results).hex() == exp["reply"]
    assert close == exp["close"]
    assert session.device_id == exp["device_id"]
    records = [n for r in results for n in no_fix_records(r.extra)]
    assert [no_fix_payload(n) for n in records] == exp.get("no_fix", [])
    assert [a.text for r in results for a in responses(r.extra)] == exp.get("responses", [])
    for r in results:
        for f in r.fixes:
            assert not list(validator().iter_errors(fix_payload(f, 0)))


def test_crc16_ibm_check_value():
    assert crc16_ibm(b"123456789") == 0xBB3D


def test_record_count_ack_is_four_bytes():
    assert teltonika.ack_frame(2) == b"\x00\x00\x00\x02"


def test_non_numeric_imei_is_refused():
    result = teltonika.decode_imei(b"\x00\x03abc")
    assert result.reply == teltonika.REFUSE and result.device_id is None


def test_command_packet_is_codec_12_with_valid_crc_and_decodes_back():
    packet = teltonika.command_packet("getinfo")
    # The Teltonika wiki's "Codec 12" example of the getinfo command, byte for byte.
    assert packet.hex() == "000000000000000f0c010500000007676574696e666f0100004312"
    assert int.from_bytes(packet[-4:]) == crc16_ibm(packet[8:-4])
    result = teltonika.decode_packet("356307042441013", packet, when("2026-01-01T00:00:00Z"))
    assert [a.text for a in responses(result.extra)] == ["getinfo"]
    assert result.reply == b"" and result.fixes == () and result.rejections == ()


def test_16_byte_io_group_is_detected_without_configuration():
    case = next(c for c in CASES if "16-byte IO group" in c["name"])
    result = teltonika.decode_packet(
        "356307042441013", bytes.fromhex(case["hex"]), when(case["now"])
    )
    assert len(result.fixes) == 11 and result.reply == teltonika.ack_frame(11)


def test_command_answers_reach_the_tcp_server_log(caplog):
    from gps_firmware_bridge import server

    case = next(c for c in CASES if c["name"] == "Codec 12 answer (text)")
    session = teltonika.TeltonikaSession(device_id="356307042441013")
    results, _, _ = teltonika.decode_stream(session, bytes.fromhex(case["hex"]), when(case["now"]))
    stored: list = []
    with caplog.at_level("INFO", logger="gps_firmware_bridge.server"):
        reply = server._deliver(results, stored.extend, "peer")
    assert reply == b"" and stored == []
    assert "356307042441013 answered: UUUUww06.4;04.2" in caplog.text


BY_NAME = {c["name"]: c for c in CASES}
VIENNA = bytes.fromhex(BY_NAME["Codec 8, one record (Vienna)"]["hex"])
WRONG_CRC = VIENNA[:-2] + b"\x00\x00"
NOW_2019 = when("2019-01-04T12:30:00Z")


def _stream(session, chunks, now):
    results, rest = [], b""
    for chunk in chunks:
        out, rest, close = teltonika.decode_stream(session, rest + chunk, now)
        results.extend(out)
        assert not close
    return results, rest


def test_bad_crc_packet_then_good_one_are_both_decoded_and_acknowledged():
    session = teltonika.TeltonikaSession(device_id="123456789012345")
    stream = WRONG_CRC + VIENNA
    for chunks in ([stream], [stream[: len(VIENNA) - 1], stream[len(VIENNA) - 1 :]]):
        results, rest = _stream(session, chunks, NOW_2019)
        assert rest == b"" and len(results) == 2
        assert results[0].fixes == results[1].fixes and len(results[0].fixes) == 1
        assert [[n.reason for n in r.notes] for r in results] == [["crc_mismatch"], []]
        assert [r.reply for r in results] == [teltonika.ack_frame(1)] * 2
    assert session.counters == {"crc_mismatch": 2}


def test_strict_crc_refuses_the_bad_packet_and_still_decodes_the_next():
    session = teltonika.TeltonikaSession(device_id="123456789012345", strict_crc=True)
    results, rest = _stream(session, [WRONG_CRC + VIENNA], NOW_2019)
    assert rest == b""
    assert [r.reason for r in results[0].rejections] == ["bad_checksum"]
    assert results[0].reply == b"" and results[0].fixes == ()
    assert len(results[1].fixes) == 1 and results[1].reply == teltonika.ack_frame(1)


def test_length_field_longer_than_the_records_does_not_swallow_the_next_packet():
    # Traccar's Codec 8 frame that announces 166 data bytes and carries 33 (its CRC is wrong
    # too): its records end it, as a device sends one packet and waits for the ACK.
    case = next(c for c in CASES if c["name"].startswith("length field 166"))
    short = bytes.fromhex(case["hex"])
    session = teltonika.TeltonikaSession(device_id="356307042441013")
    now = when("2019-01-04T12:30:00Z")
    results, rest = _stream(session, [short, VIENNA], now)
    assert rest == b"" and len(results) == 2
    assert [n.reason for n in results[0].notes] == ["length_mismatch", "crc_mismatch"]
    assert results[0].reply == results[1].reply == teltonika.ack_frame(1)
    assert results[1].fixes[0].lat == 48.1523066 and results[1].notes == ()
    # Strict: the length field is trusted, as Traccar's frame decoder trusts it.
    strict = teltonika.TeltonikaSession(device_id="356307042441013", strict_crc=True)
    results, rest = _stream(strict, [short], now)
    assert results == [] and rest == short


def test_valid_packets_split_anywhere_are_never_cut_short_by_their_records():
    # The records of a packet with a right length field end exactly where it says, so reading
    # them never ends a packet early, whatever the TCP reads.
    packets = [
        bytes.fromhex(c["hex"])
        for c in CASES
        if c["expect"]["reply"] and not c["expect"].get("notes") and c["hex"][:8] == "0" * 8
    ]
    assert len(packets) >= 8
    for packet in packets:
        for cut in range(1, len(packet)):
            session = teltonika.TeltonikaSession(device_id="356307042441013")
            out, rest, _ = teltonika.decode_stream(session, packet[:cut], NOW_2019)
            assert out == [] and rest == packet[:cut], cut


def test_length_field_mismatch_followed_by_good_packets_in_the_same_read():
    zero = next(c for c in CASES if c["name"].startswith("length field 0 and CRC 0 (Traccar"))
    long_ = next(c for c in CASES if c["name"].startswith("length field 166"))
    zero_hex, long_hex = bytes.fromhex(zero["hex"]), bytes.fromhex(long_["hex"])
    # Declared shorter than the records (0): the records end it, a preamble follows.
    # Declared longer (166): once the declared bytes are in and cannot be read as one packet,
    # the records end it and a preamble follows; before that, it waits as Traccar does.
    for stream, decoded in ((zero_hex + VIENNA, 2), (long_hex + VIENNA * 2, 3)):
        session = teltonika.TeltonikaSession(device_id="356307042441013")
        results, rest = _stream(session, [stream], NOW_2019)
        assert rest == b"" and len(results) == decoded
        assert [n.reason for n in results[0].notes] == ["length_mismatch", "crc_mismatch"]
        assert [r.reply for r in results] == [teltonika.ack_frame(1)] * decoded
        assert all(len(r.fixes) == 1 and not r.notes for r in results[1:])
    waiting = teltonika.TeltonikaSession(device_id="356307042441013")
    results, rest = _stream(waiting, [long_hex + VIENNA], NOW_2019)
    assert results == [] and rest == long_hex + VIENNA
