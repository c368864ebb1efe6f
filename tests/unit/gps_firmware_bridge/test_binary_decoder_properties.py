"""Hypothesis properties of the GT06 and Teltonika decoders: random bytes, random bodies in valid
envelopes (right length and CRC), Traccar's frames truncated and split across reads, frames with a
wrong CRC among good ones. The only outcomes allowed are typed results (fixes, no-fix records,
answers, rejections, integrity notes): never an exception, never an implausible fix, never an
ACK for a frame that could not be read."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gps_firmware_bridge import gt06, gt06_framing, teltonika
from gps_firmware_bridge.crc import crc16_ibm
from gps_firmware_bridge.fix import DecodeResult, Fix, fix_payload
from gps_firmware_bridge.integrity import CRC_MISMATCH, INTEGRITY_NOTES
from gps_firmware_bridge.plausibility import check_fix
from gps_firmware_bridge.tracker_status import CommandResponse, NoFix, no_fix_records, responses

from . import _traccar_corpus as corpus

NOW = corpus.NOW
LIMITS = corpus.LIMITS
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEVICE = "864717003283581"
GT06_FRAMES = [
    bytes.fromhex(f["hex"])
    for f in corpus.load()
    if f["protocol"] == "gt06" and not corpus.is_corrupt(f)
]
TELTONIKA_PACKETS = [
    bytes.fromhex(f["hex"])
    for f in corpus.load()
    if f["protocol"] == "teltonika" and f["hex"].startswith("00000000") and not corpus.is_corrupt(f)
]
REJECTIONS = {
    "garbage", "bad_length", "bad_stop", "truncated", "bad_checksum", "not_logged_in", "bad_imei",
    "unsupported", "no_fix", "implausible", "bad_preamble", "bad_count",
}  # fmt: skip


def _typed(results: list[DecodeResult]) -> None:
    for result in results:
        assert isinstance(result, DecodeResult)
        for fix in result.fixes:
            assert isinstance(fix, Fix)
            assert check_fix(fix, NOW, LIMITS) is None
            fix_payload(fix, 0)
        for rejection in result.rejections:
            assert rejection.reason in REJECTIONS, rejection
        assert all(note.reason in INTEGRITY_NOTES for note in result.notes), result.notes
        assert all(isinstance(n, NoFix) for n in no_fix_records(result.extra))
        assert all(isinstance(a, CommandResponse) for a in responses(result.extra))
        if result.rejections and result.rejections[0].reason in ("bad_checksum", "truncated"):
            assert result.reply == b""


def _gt06_stream(
    chunks: list[bytes], model: str | None = None, strict_crc: bool = False
) -> list[DecodeResult]:
    session = gt06.Gt06Session(device_id=DEVICE, model=model, strict_crc=strict_crc)
    out: list[DecodeResult] = []
    rest = b""
    for chunk in chunks:
        results, rest = gt06.decode_stream(session, rest + chunk, NOW, LIMITS)
        out.extend(results)
    return out


def _teltonika_stream(
    chunks: list[bytes], logged_in: bool = True, strict_crc: bool = False
) -> list[DecodeResult]:
    session = teltonika.TeltonikaSession(
        device_id=DEVICE if logged_in else None, strict_crc=strict_crc
    )
    out: list[DecodeResult] = []
    rest = b""
    for chunk in chunks:
        results, rest, close = teltonika.decode_stream(session, rest + chunk, NOW, LIMITS)
        out.extend(results)
        if close:
            break
    return out


def _fixes(results: list[DecodeResult]) -> list[dict]:
    return [fix_payload(f, None) for r in results for f in r.fixes]


def _positions(results: list[DecodeResult]) -> list[tuple]:
    return [(f.device_id, f.fix_time, f.lat, f.lon) for r in results for f in r.fixes]


def _chunks(stream: bytes, data: st.DataObject) -> list[bytes]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    return [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


def _bad_crc(frame: bytes, flip: int) -> bytes:
    """``frame`` with its CRC changed (GT06: the 2 bytes before 0D 0A; Teltonika: the last 2)."""
    at = len(frame) - (4 if frame[:2] in (b"\x78\x78", b"\x79\x79") else 2)
    crc = int.from_bytes(frame[at : at + 2]) ^ flip
    return frame[:at] + crc.to_bytes(2, "big") + frame[at + 2 :]


def _refused(results: list[DecodeResult]) -> bool:
    """A frame turned down for a reason of its own (not logged in, truncated body...): a wrong
    CRC on it adds no note, its rejection says enough."""
    return all(r.rejections and not (r.fixes or r.reply or r.extra) for r in results)


GT06_CRC_FRAMES = [
    f
    for f in GT06_FRAMES
    if not gt06_framing.is_wifi_no_crc(f, 0)
    and len(f) >= 10
    and gt06_framing.declared_size(f) == len(f)
]


@PROPS
@given(st.binary(max_size=600), st.sampled_from([None, "NT20", "QH302R", "LW4G-4B", "R11"]))
def test_gt06_random_bytes(data, model):
    _typed(_gt06_stream([data], model))
    _typed(_gt06_stream([b"\x78\x78" + data]))
    _typed(_gt06_stream([b"\x79\x79" + data]))


@PROPS
@given(
    st.integers(0, 255),
    st.binary(max_size=300),
    st.integers(0, 0xFFFF),
    st.booleans(),
    st.sampled_from([None, "NT20", "QH302R", "LW4G-4B", "SEEWORLD", "R11", "G18"]),
)
def test_gt06_random_body_in_a_valid_envelope(protocol, info, serial, extended, model):
    frame = gt06.build_frame(protocol, info, serial, extended=extended)
    session = gt06.Gt06Session(device_id=DEVICE, model=model)
    result = gt06.decode_frame(session, frame, NOW, LIMITS)
    _typed([result])


@PROPS
@given(st.sampled_from(GT06_FRAMES), st.data())
def test_gt06_traccar_frames_truncated_or_with_a_cut_body(frame, data):
    cut = data.draw(st.integers(0, len(frame) - 1))
    results = _gt06_stream([frame[:cut]])
    _typed(results)
    assert not _fixes(results)
    head = 4 if frame[:2] == b"\x79\x79" else 3
    info = frame[head + 1 : -6]
    if info and frame[head] not in (0x17, 0x69):
        short = data.draw(st.integers(0, len(info) - 1))
        rebuilt = gt06.build_frame(frame[head], info[:short], 1, extended=head == 4)
        _typed(_gt06_stream([rebuilt]))


@PROPS
@given(st.lists(st.sampled_from(GT06_FRAMES), min_size=1, max_size=4), st.data())
def test_gt06_frames_split_across_reads_decode_as_whole(frames, data):
    stream = b"".join(frames)
    chunks = _chunks(stream, data)
    whole = _gt06_stream([stream])
    split = _gt06_stream(chunks)
    _typed(split)
    assert _fixes(split) == _fixes(whole)
    assert b"".join(r.reply for r in split) == b"".join(r.reply for r in whole)


@PROPS
@given(st.binary(max_size=600), st.booleans())
def test_teltonika_random_bytes(data, logged_in):
    _typed(_teltonika_stream([data], logged_in))
    _typed(_teltonika_stream([b"\x00\x00\x00\x00" + data], logged_in))
    result = teltonika.decode_imei(data)
    assert isinstance(result, DecodeResult)


@PROPS
@given(
    st.sampled_from([0x07, 0x08, 0x8E, 0x10, 0x0C, 0x0D, 0x00, 0xFF]),
    st.integers(0, 255),
    st.binary(max_size=400),
)
def test_teltonika_random_records_in_a_valid_envelope(codec, count, records):
    data = bytes([codec, count]) + records + bytes([count])
    packet = bytes(4) + len(data).to_bytes(4, "big") + data + crc16_ibm(data).to_bytes(4, "big")
    result = teltonika.decode_packet(DEVICE, packet, NOW, LIMITS)
    _typed([result])


@PROPS
@given(st.sampled_from(TELTONIKA_PACKETS), st.data())
def test_teltonika_traccar_packets_truncated_or_with_cut_records(packet, data):
    cut = data.draw(st.integers(0, len(packet) - 1))
    results = _teltonika_stream([packet[:cut]])
    _typed(results)
    assert not _fixes(results)
    body = packet[10:-5]
    short = data.draw(st.integers(0, len(body)))
    rebuilt = teltonika.build_packet(packet[8], body[:short], packet[9])
    _typed([teltonika.decode_packet(DEVICE, rebuilt, NOW, LIMITS)])


@PROPS
@given(st.lists(st.sampled_from(TELTONIKA_PACKETS), min_size=1, max_size=3), st.data())
def test_teltonika_packets_split_across_reads_decode_as_whole(packets, data):
    stream = b"".join(packets)
    chunks = _chunks(stream, data)
    whole = _teltonika_stream([stream])
    split = _teltonika_stream(chunks)
    _typed(split)
    assert _fixes(split) == _fixes(whole)
    assert b"".join(r.reply for r in split) == b"".join(r.reply for r in whole)


@PROPS
@given(
    st.sampled_from(GT06_CRC_FRAMES),
    st.sampled_from(GT06_CRC_FRAMES),
    st.integers(1, 0xFFFF),
    st.data(),
)
def test_gt06_bad_crc_frame_then_good_one_both_decode_split_anywhere(bad, good, flip, data):
    stream = _bad_crc(bad, flip) + good
    whole = _gt06_stream([stream])
    split = _gt06_stream(_chunks(stream, data))
    _typed(split)
    # Framing intact: the same whatever the reads; the same positions as with the right CRC
    # (an SL4X 0x32 layout reads its altitude where the CRC is, as Traccar's test asserts).
    assert _fixes(split) == _fixes(whole)
    assert _positions(split) == _positions(_gt06_stream([bad, good]))
    assert b"".join(r.reply for r in split) == b"".join(r.reply for r in _gt06_stream([bad + good]))
    notes = [n.reason for r in split for n in r.notes]
    assert notes == ([] if _refused(_gt06_stream([bad])) else [CRC_MISMATCH])
    strict = _gt06_stream([stream], strict_crc=True)
    assert strict[0].rejections[0].reason == "bad_checksum" and strict[0].reply == b""
    assert _fixes(strict) == _fixes(_gt06_stream([good]))


@PROPS
@given(
    st.sampled_from(TELTONIKA_PACKETS),
    st.sampled_from(TELTONIKA_PACKETS),
    st.integers(1, 0xFFFF),
    st.data(),
)
def test_teltonika_bad_crc_packet_then_good_one_both_decode_split_anywhere(bad, good, flip, data):
    stream = _bad_crc(bad, flip) + good
    whole = _teltonika_stream([stream])
    split = _teltonika_stream(_chunks(stream, data))
    _typed(split)
    assert _fixes(split) == _fixes(whole) == _fixes(_teltonika_stream([bad, good]))
    assert b"".join(r.reply for r in split) == b"".join(
        r.reply for r in _teltonika_stream([bad + good])
    )
    notes = [n.reason for r in split for n in r.notes]
    assert notes == ([] if _refused(_teltonika_stream([bad])) else [CRC_MISMATCH])
    strict = _teltonika_stream([stream], strict_crc=True)
    assert strict[0].rejections[0].reason == "bad_checksum" and strict[0].reply == b""
    assert _fixes(strict) == _fixes(_teltonika_stream([good]))


# 0x17 with length 0x28 is the RFID location; with any other length a Wi-Fi packet framed by its
# counts, so changing its length field changes its type: left out.
GT06_BASIC_FRAMES = [f for f in GT06_CRC_FRAMES if f[:2] == b"\x78\x78" and f[3] != 0x17]


@PROPS
@given(
    st.sampled_from(GT06_BASIC_FRAMES),
    st.sampled_from(GT06_BASIC_FRAMES),
    st.sampled_from([-2, -1, 1, 2]),
    st.data(),
)
def test_gt06_wrong_length_field_never_swallows_the_next_frame(bad, good, delta, data):
    length = bad[2] + delta
    if not 5 <= length <= 255:
        return
    stream = bad[:2] + bytes([length]) + bad[3:] + good
    split = _gt06_stream(_chunks(stream, data))
    _typed(split)
    alone = _gt06_stream([good])
    # (a login frame before may change the device id and the time zone)
    got = [p[2:] for p in _positions(split)]
    want = [p[2:] for p in _positions(alone)]
    assert got[len(got) - len(want) :] == want
    assert b"".join(r.reply for r in split).endswith(b"".join(r.reply for r in alone))
