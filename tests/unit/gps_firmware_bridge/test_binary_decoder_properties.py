"""Hypothesis properties of the GT06 and Teltonika decoders: random bytes, random bodies in valid
envelopes (right length and CRC), Traccar's frames truncated and split across reads. The only
outcomes allowed are typed results (fixes, no-fix records, answers, rejections): never an
exception, never an implausible fix, never an ACK for a frame that could not be read."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gps_firmware_bridge import gt06, teltonika
from gps_firmware_bridge.crc import crc16_ibm
from gps_firmware_bridge.fix import DecodeResult, Fix, fix_payload
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
        assert all(isinstance(n, NoFix) for n in no_fix_records(result.extra))
        assert all(isinstance(a, CommandResponse) for a in responses(result.extra))
        if result.rejections and result.rejections[0].reason in ("bad_checksum", "truncated"):
            assert result.reply == b""


def _gt06_stream(chunks: list[bytes], model: str | None = None) -> list[DecodeResult]:
    session = gt06.Gt06Session(device_id=DEVICE, model=model)
    out: list[DecodeResult] = []
    rest = b""
    for chunk in chunks:
        results, rest = gt06.decode_stream(session, rest + chunk, NOW, LIMITS)
        out.extend(results)
    return out


def _teltonika_stream(chunks: list[bytes], logged_in: bool = True) -> list[DecodeResult]:
    session = teltonika.TeltonikaSession(device_id=DEVICE if logged_in else None)
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
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
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
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    whole = _teltonika_stream([stream])
    split = _teltonika_stream(chunks)
    _typed(split)
    assert _fixes(split) == _fixes(whole)
    assert b"".join(r.reply for r in split) == b"".join(r.reply for r in whole)
