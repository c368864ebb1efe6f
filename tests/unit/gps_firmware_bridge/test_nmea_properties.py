"""Hypothesis properties of the NMEA decoder and epoch assembler: any line, any checksum-valid
sentence with arbitrary fields, truncated and split streams give only fixes or typed
rejections; every emitted fix is plausible and matches the position contract."""

from __future__ import annotations

from functools import reduce

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gps_firmware_bridge import nmea
from gps_firmware_bridge.fix import Fix, Rejection, fix_payload
from gps_firmware_bridge.nmeasource import split_lines
from gps_firmware_bridge.plausibility import check_fix

from ._vectors import validator, when

NOW = when("1994-03-23T12:40:00Z")
PROPS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RMC = "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"
GGA = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"


def sentence(body: str) -> str:
    return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"


def _check(items: list[Fix | Rejection]) -> None:
    for item in items:
        assert isinstance(item, Fix | Rejection)
        if isinstance(item, Fix):
            assert check_fix(item, NOW) is None
            assert not list(validator().iter_errors(fix_payload(item, 0)))


def _run(lines: list[str]) -> list[Fix | Rejection]:
    asm = nmea.NmeaAssembler("GW-1")
    out: list[Fix | Rejection] = []
    for line in lines:
        out.extend(asm.feed(line, NOW))
    out.extend(asm.flush(NOW))
    return out


field_text = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=",*$"),
            max_size=12),
    st.sampled_from(["", "nan", "inf", "-inf", "1e999", "-1", "999999", "99.99.99", "\x00",
                     "235960", "999999.99", "320299", "A", "V", "N", "S", "E", "W"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)  # fmt: skip


@st.composite
def mutated_sentence(draw) -> str:
    base = draw(st.sampled_from([RMC, GGA, "GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1",
                                 "GPVTG,054.7,T,034.4,M,005.5,N,010.2,K"]))  # fmt: skip
    fields = base.split(",")
    for _ in range(draw(st.integers(1, 4))):
        fields[draw(st.integers(1, len(fields) - 1))] = draw(field_text)
    if draw(st.booleans()):
        fields = fields[: draw(st.integers(1, len(fields)))]
    return sentence(",".join(fields))


@PROPS
@given(st.lists(st.text(max_size=120), max_size=12))
def test_any_text_lines(lines):
    _check(_run(lines))


@PROPS
@given(st.lists(st.one_of(mutated_sentence(), st.sampled_from([sentence(RMC), sentence(GGA)])),
                max_size=12))  # fmt: skip
def test_checksum_valid_sentences_with_garbage_fields(lines):
    _check(_run(lines))


@PROPS
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=6))
def test_random_bytes_split_anywhere(data, cuts):
    stream = (sentence(RMC) + "\r\n").encode() + data + (sentence(GGA) + "\r\n").encode()
    points = sorted({c % (len(stream) + 1) for c in cuts})
    buffer, lines = b"", []
    for a, b in zip([0, *points], [*points, len(stream)], strict=False):
        got, buffer = split_lines(buffer + stream[a:b])
        lines.extend(got)
    _check(_run(lines))


@PROPS
@given(st.integers(0, len(sentence(RMC))), st.booleans())
def test_truncated_sentence_is_a_rejection_and_flush_on_idle_is_idempotent(cut, flush_twice):
    asm = nmea.NmeaAssembler("GW-1")
    out = asm.feed(sentence(RMC)[:cut], NOW)
    _check(out)
    first = asm.flush(NOW)
    _check(first)
    assert asm.flush(NOW) == [] if flush_twice else True
    if cut == len(sentence(RMC)):
        assert [type(i) for i in first] == [Fix]


def test_straggler_after_an_idle_flush_is_rejected_not_a_second_fix():
    asm = nmea.NmeaAssembler("GW-1")
    assert asm.feed(sentence(RMC), NOW) == []
    (fix,) = asm.flush(NOW)  # the source fell silent
    assert isinstance(fix, Fix)
    late = asm.feed(sentence(GGA), NOW)  # same time of day as the flushed epoch
    assert [r.reason for r in late if isinstance(r, Rejection)] == ["late_sentence"]
    assert asm.flush(NOW) == []
    nxt = sentence(RMC.replace("123519", "123520"))
    assert asm.feed(nxt, NOW) == [] and [type(i) for i in asm.flush(NOW)] == [Fix]


def test_non_finite_numeric_fields_are_treated_as_absent():
    gga = "GPGGA,123519,4807.038,N,01131.000,E,1,inf,nan,-inf,M,46.9,M,,"
    out = _run([sentence(RMC), sentence(gga)])
    (fix,) = out
    assert isinstance(fix, Fix)
    assert (fix.satellites, fix.hdop, fix.altitude_m) == (None, None, None)
