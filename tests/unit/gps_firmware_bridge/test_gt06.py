"""GT06 framer/decoder driven by tests/vectors/bridge/gt06.json (Traccar's published frames)."""

import pytest

from gps_firmware_bridge import gt06
from gps_firmware_bridge.crc import crc16_x25
from gps_firmware_bridge.fix import fix_payload
from gps_firmware_bridge.integrity import IntegrityWatch
from gps_firmware_bridge.tracker_status import no_fix_records, responses

from ._vectors import cases, ids, no_fix_payload, validator, when

CASES = cases("gt06")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_vector(case):
    session = gt06.Gt06Session(
        device_id="864717003283581" if case["logged_in"] else None,
        model=case.get("model"),
        strict_crc=case.get("strict_crc", False),
    )
    results, rest = gt06.decode_stream(session, bytes.fromhex(case["hex"]), when(case["now"]))
    exp = case["expect"]
    assert [fix_payload(f, None) for r in results for f in r.fixes] == exp["fixes"]
    assert [j.reason for r in results for j in r.rejections] == exp["rejections"]
    assert [n.reason for r in results for n in r.notes] == exp.get("notes", [])
    assert b"".join(r.reply for r in results).hex() == exp["reply"]
    assert session.device_id == exp["device_id"]
    records = [n for r in results for n in no_fix_records(r.extra)]
    assert [no_fix_payload(n) for n in records] == exp.get("no_fix", [])
    assert [a.text for r in results for a in responses(r.extra)] == exp.get("responses", [])
    for r in results:
        for f in r.fixes:
            assert not list(validator().iter_errors(fix_payload(f, 0)))
    if "truncated" in case["name"]:
        assert rest == bytes.fromhex(case["hex"])


def test_crc_itu_matches_the_protocol_document_login_reply():
    # GT06 protocol document: login reply 78 78 05 01 00 01 D9 DC 0D 0A
    assert crc16_x25(bytes.fromhex("05010001")) == 0xD9DC
    assert gt06.reply_frame(0x01, 1).hex() == "787805010001d9dc0d0a"


def test_truncated_single_frame_is_a_typed_rejection():
    frame = bytes.fromhex("78780D01086471700328358100093F040D0A")
    result = gt06.decode_frame(gt06.Gt06Session(), frame[:8], when("2026-01-01T00:00:00Z"))
    assert [r.reason for r in result.rejections] == ["truncated"]


def test_frame_split_across_reads_is_reassembled():
    frame = bytes.fromhex("78780D01086471700328358100093F040D0A")
    session = gt06.Gt06Session()
    now = when("2026-01-01T00:00:00Z")
    first, rest = gt06.decode_stream(session, frame[:7], now)
    assert first == [] and rest == frame[:7]
    second, rest = gt06.decode_stream(session, rest + frame[7:], now)
    assert rest == b"" and second[0].device_id == "864717003283581"


def test_heartbeat_status_enriches_following_fixes():
    session = gt06.Gt06Session(device_id="1")
    info = bytes([0x46, 0x06, 0x04, 0x00, 0x01])  # ACC on (bit 1), voltage level 6
    result = gt06.decode_frame(
        session, gt06.build_frame(0x13, info, 7), when("2026-01-01T00:00:00Z")
    )
    assert result.reply == gt06.reply_frame(0x13, 7)
    assert session.ignition is True and session.battery_pct == 100.0


@pytest.mark.parametrize("junk", [b"", b"\x78", b"\x78\x78\xff" * 50, bytes(range(256)) * 3])
def test_random_bytes_never_raise(junk):
    results, _ = gt06.decode_stream(gt06.Gt06Session(), junk, when("2026-01-01T00:00:00Z"))
    assert all(not r.fixes for r in results)


def test_login_time_zone_converts_device_local_times_to_utc():
    # Traccar's login frame with the time zone extension 0x190A: 4 h 00, west (bit 3) = UTC-4.
    login = bytes.fromhex("787811010864717003664467100f190a0002c6d20d0a")
    session = gt06.Gt06Session()
    now = when("2015-12-29T07:00:00Z")
    assert gt06.decode_frame(session, login, now).device_id == "864717003664467"
    assert session.utc_offset_s == -4 * 3600
    location = bytes.fromhex(
        "787822220f0c1d023305c9027ac8180c46586000140001cc00287d001f71000001000820860d0a"
    )
    result = gt06.decode_frame(session, location, now)
    assert [f.fix_time for f in result.fixes] == [when("2015-12-29T06:51:05Z")]


def test_login_without_time_zone_keeps_gmt():
    session = gt06.Gt06Session()
    frame = bytes.fromhex("78780D01086471700328358100093F040D0A")
    gt06.decode_frame(session, frame, when("2026-01-01T00:00:00Z"))
    assert session.utc_offset_s == 0


GOOD = {c["name"]: c for c in CASES}
LOC22 = bytes.fromhex(GOOD["GPS location 0x22 (Shenzhen)"]["hex"])
BAD_CRC = bytes.fromhex(GOOD["wrong checksum: decoded and acknowledged, crc_mismatch noted"]["hex"])
NOW_2015 = when("2015-12-29T03:00:00Z")


def test_bad_crc_frame_then_good_one_in_one_read_are_both_decoded_and_acknowledged():
    session = gt06.Gt06Session(device_id="864717003283581")
    results, rest = gt06.decode_stream(session, BAD_CRC + LOC22, NOW_2015)
    assert rest == b"" and len(results) == 2
    assert [len(r.fixes) for r in results] == [1, 1]
    assert results[0].fixes == results[1].fixes
    assert round(results[0].fixes[0].lat, 7) == 23.1116933
    assert [[n.reason for n in r.notes] for r in results] == [["crc_mismatch"], []]
    assert results[0].notes[0].device_id == "864717003283581"
    # Answered as Traccar answers it: the ACK with the frame's serial and a correct CRC.
    assert results[0].reply == gt06.reply_frame(0x22, int.from_bytes(BAD_CRC[-6:-4]))
    assert results[1].reply == gt06.reply_frame(0x22, int.from_bytes(LOC22[-6:-4]))
    assert session.counters == {"crc_mismatch": 1}


def test_strict_crc_refuses_the_bad_frame_and_still_decodes_the_next():
    session = gt06.Gt06Session(device_id="864717003283581", strict_crc=True)
    results, rest = gt06.decode_stream(session, BAD_CRC + LOC22, NOW_2015)
    assert rest == b""
    assert [r.reason for r in results[0].rejections] == ["bad_checksum"]
    assert results[0].fixes == () and results[0].reply == b"" and results[0].notes == ()
    assert len(results[1].fixes) == 1 and results[1].reply


def test_length_field_one_byte_short_is_cut_at_its_stop_bits_and_the_next_frame_is_intact():
    # Traccar's 0x11 frame whose length byte says 0x15 for a 0x16-byte body (CRC wrong too).
    case = next(c for c in CASES if c["name"].startswith("location 0x11, length field"))
    short = bytes.fromhex(case["hex"])
    session = gt06.Gt06Session(device_id="864717003283581")
    now = when("2023-01-03T16:15:00Z")
    stream = short + gt06.build_frame(0x13, bytes([0x46, 0x06, 0x04, 0x00, 0x01]), 9)
    for chunks in ([stream], [stream[:26], stream[26:]], [stream[:27], stream[27:]]):
        results, rest = [], b""
        for chunk in chunks:
            out, rest = gt06.decode_stream(session, rest + chunk, now)
            results.extend(out)
        assert rest == b""
        assert [len(r.fixes) for r in results] == [1, 0]
        assert [n.reason for n in results[0].notes] == ["length_mismatch", "crc_mismatch"]
        assert results[1].reply == gt06.reply_frame(0x13, 9)
    strict = gt06.Gt06Session(device_id="864717003283581", strict_crc=True)
    results, rest = gt06.decode_stream(strict, stream, now)
    assert [r.reason for r in results[0].rejections] == ["bad_stop"]
    assert not any(r.fixes for r in results) and results[-1].reply == gt06.reply_frame(0x13, 9)


def test_integrity_watch_logs_a_device_once_and_counts_every_frame():
    watch = IntegrityWatch()
    session = gt06.Gt06Session(device_id="864717003283581")
    results, _ = gt06.decode_stream(session, BAD_CRC + LOC22 + BAD_CRC + BAD_CRC, NOW_2015)
    lines = watch.observe(results, "peer")
    assert len(lines) == 1 and "864717003283581: crc_mismatch" in lines[0]
    assert watch.observe(results, "peer") == []  # same device again: counted, not logged
    assert watch.counts == {("864717003283581", "crc_mismatch"): 6}
    other = gt06.Gt06Session(device_id="864717003664467")
    results, _ = gt06.decode_stream(other, BAD_CRC, NOW_2015)
    assert len(watch.observe(results)) == 1
