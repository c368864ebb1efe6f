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
