"""Every frame of Traccar's GT06, Teltonika and OsmAnd decoder tests through the bridge decoders.

The corpus is tests/vectors/bridge/traccar_frames.json; the counting is in ``_traccar_corpus``
(``python -m tests.unit.gps_firmware_bridge._traccar_corpus`` prints the figures).
"""

import pytest

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
    assert counts.carrying_gps >= 60
    assert counts.fix_ratio >= 0.90, counts.report()


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


@pytest.mark.parametrize("frame", CORRUPT, ids=[f"{f['protocol']}#{f['index']}" for f in CORRUPT])
def test_frames_failing_their_own_crc_or_length_are_rejected_without_ack(frame):
    out = corpus.run(frame)
    assert out.error is None
    assert not out.fixes and not out.no_fix
    assert out.reply == b""
    reasons = {r.reason for r in out.rejections}
    assert reasons <= {"bad_checksum", "bad_stop", "bad_length", "truncated", "garbage"}
