"""NMEA assembly driven by tests/vectors/bridge/nmea.json."""

import pytest

from gps_firmware_bridge import nmea
from gps_firmware_bridge.fix import Fix, Rejection, fix_payload

from ._vectors import cases, ids, validator, when

CASES = cases("nmea")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_vector(case):
    out = nmea.decode_lines(case["device_id"], case["lines"], when(case["now"]))
    exp = case["expect"]
    assert [fix_payload(f, None) for f in out if isinstance(f, Fix)] == exp["fixes"]
    assert [r.reason for r in out if isinstance(r, Rejection)] == exp["rejections"]
    for f in out:
        if isinstance(f, Fix):
            assert not list(validator().iter_errors(fix_payload(f, 0)))


def test_midnight_rollover_dates():
    case = next(c for c in CASES if c["name"].startswith("midnight"))
    out = nmea.decode_lines(case["device_id"], case["lines"], when(case["now"]))
    times = [f.fix_time.isoformat() for f in out if isinstance(f, Fix)]
    assert times == [
        "2026-11-22T23:59:58+00:00",
        "2026-11-22T23:59:59+00:00",
        "2026-11-23T00:00:00+00:00",
        "2026-11-23T00:00:01+00:00",
    ]


def test_fix_is_emitted_when_the_next_epoch_starts():
    asm = nmea.NmeaAssembler("GW")
    now = when("1994-03-23T12:40:00Z")
    rmc = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
    assert asm.feed(rmc, now) == []
    assert len(asm.flush(now)) == 1
