"""Every frame of Traccar's GT06, Teltonika and OsmAnd decoder tests through the bridge decoders.

The corpus is tests/vectors/bridge/traccar_frames.json; the counting is in ``_traccar_corpus``
(``python -m tests.unit.gps_firmware_bridge._traccar_corpus`` prints the figures).
"""

import pytest

from gps_firmware_bridge import gt06_framing as gt06
from gps_firmware_bridge.integrity import INTEGRITY_NOTES

from . import _traccar_corpus as corpus

FRAMES = corpus.load()


@pytest.fixture(scope="module")
def counts() -> corpus.Counts:
    result = corpus.measure(FRAMES)
    print("\n" + result.report())
    return result


def test_corpus_has_every_frame_of_the_three_files():
    by_protocol = {p: sum(f["protocol"] == p for f in FRAMES) for p in ("gt06", "teltonika")}
    assert by_protocol == {"gt06": 173, "teltonika": 50}
    assert sum(f["protocol"] == "osmand" for f in FRAMES) == 14


def test_every_frame_is_answered_without_exception(counts):
    assert counts.exceptions == 0
    assert counts.frames == len(FRAMES)


def test_at_least_90_percent_of_gps_position_frames_give_a_matching_fix(counts):
    # Over every frame carrying a GPS fix, including those failing their own CRC or length
    # field: the bridge decodes those as Traccar does (with a note).
    assert counts.carrying_gps >= 69
    assert counts.fix_ratio >= 0.90, counts.report()
    assert counts.well_formed_fix_ratio == 1.0, counts.report()


def test_position_frames_failing_their_crc_or_length_are_decoded(counts):
    assert counts.corrupt == 9
    assert counts.corrupt_fix_ok >= 7, counts.report()


def test_frames_with_invalid_gps_give_a_no_fix_record_not_a_position(counts):
    assert counts.invalid_gps == counts.invalid_gps_no_fix > 0
    for frame in FRAMES:
        if frame.get("gps_valid") is False:
            assert not corpus.run(frame).fixes, frame["index"]


def test_cell_and_wifi_only_frames_give_the_typed_no_fix_record(counts):
    assert counts.cells_only >= 25
    assert counts.cells_only_no_fix == counts.cells_only


def test_attributes_the_bridge_carries_equal_traccars(counts):
    assert counts.attributes_mapped >= 5
    assert counts.attributes_matched == counts.attributes_mapped


CORRUPT = [f for f in FRAMES if corpus.is_corrupt(f)]
CORRUPT_IDS = [f"{f['protocol']}#{f['index']}" for f in CORRUPT]


@pytest.mark.parametrize("frame", CORRUPT, ids=CORRUPT_IDS)
def test_frames_failing_their_own_crc_or_length_are_decoded_with_a_note(frame):
    out = corpus.run(frame)
    assert out.error is None
    if out.fixes or out.no_fix or out.answers or out.reply:
        reasons = {n.reason for n in out.notes}
        assert reasons and reasons <= INTEGRITY_NOTES
        assert all(n.device_id for n in out.notes)  # the device is known: logged once per device
    else:
        # Declared longer than the bytes at hand (kept until the rest arrives, as Traccar's
        # frame decoder does), or records not filling the packet: nothing is answered.
        assert not out.notes
        assert {r.reason for r in out.rejections} <= {"truncated"}


@pytest.mark.parametrize("frame", CORRUPT, ids=CORRUPT_IDS)
def test_frames_failing_their_own_crc_or_length_are_refused_with_strict_crc(frame):
    out = corpus.run(frame, strict_crc=True)
    assert out.error is None
    assert not out.fixes and not out.no_fix and not out.answers and not out.notes
    assert out.reply == b""
    reasons = {r.reason for r in out.rejections}
    assert reasons <= {"bad_checksum", "bad_stop", "bad_length", "truncated", "garbage"}


def test_every_frame_failing_only_its_crc_is_decoded_and_noted():
    crc_only = [f for f in CORRUPT if len(bytes.fromhex(f["hex"])) == _declared(f)]
    assert len(crc_only) == 15
    noted = [f for f in crc_only if "crc_mismatch" in {n.reason for n in corpus.run(f).notes}]
    # teltonika#14 (Codec 13) is the exception: its text is longer than its size field.
    assert [f"{f['protocol']}#{f['index']}" for f in crc_only if f not in noted] == ["teltonika#14"]


def _declared(frame: dict) -> int:
    data = bytes.fromhex(frame["hex"])
    if frame["protocol"] == "teltonika":
        return 12 + int.from_bytes(data[4:8])
    return gt06.declared_size(data)
