"""Hypothesis properties of the shared plausibility check and of the lenient optional-value
screen used by OsmAnd: never an exception, accepted fixes always meet the MQTT contract, and
dropping bad optional values keeps a good position."""

from __future__ import annotations

from datetime import UTC, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gps_firmware_bridge.fix import Fix, Rejection, fix_payload
from gps_firmware_bridge.plausibility import check_fix, drop_bad_optionals

from ._vectors import validator, when

NOW = when("2026-11-23T02:16:00Z")
PROPS = settings(max_examples=500, deadline=None)
any_float = st.floats(allow_nan=True, allow_infinity=True)
optional = st.none() | any_float
times = st.datetimes(timezones=st.just(UTC))


@st.composite
def fixes(draw, lat=any_float, lon=any_float, when_=times) -> Fix:
    return Fix(
        device_id=draw(st.sampled_from(["URC-1", "864717003283581"]) | st.text(max_size=70)),
        fix_time=draw(when_),
        lat=draw(lat),
        lon=draw(lon),
        speed_mps=draw(optional),
        heading_deg=draw(optional),
        altitude_m=draw(optional),
        hdop=draw(optional),
        accuracy_m=draw(optional),
        satellites=draw(st.none() | st.integers(-(2**40), 2**40)),
        battery_pct=draw(optional),
        ignition=draw(st.none() | st.booleans()),
        source="osmand",
    )


good_time = st.timedeltas(timedelta(days=-29), timedelta(seconds=299)).map(lambda d: NOW + d)
mostly_good = fixes(
    lat=st.floats(-90, 90) | any_float,
    lon=st.floats(-180, 180) | any_float,
    when_=good_time | times,
)


@PROPS
@given(st.one_of(fixes(), mostly_good))
def test_check_never_raises_and_accepted_fixes_meet_the_contract(fix):
    rejection = check_fix(fix, NOW)
    if rejection is not None:
        assert isinstance(rejection, Rejection) and rejection.reason == "implausible"
        return
    assert not list(validator().iter_errors(fix_payload(fix, 0)))


@PROPS
@given(
    fixes(
        lat=st.floats(-90, 90).filter(lambda v: v != 0),
        lon=st.floats(-180, 180),
        when_=good_time,
    ).filter(lambda f: len(f.device_id) <= 64 and f.device_id.isascii() and f.device_id.isalnum())
)
def test_dropping_bad_optionals_keeps_every_good_position(fix):
    kept, notes = drop_bad_optionals(fix)
    assert check_fix(kept, NOW) is None
    assert (kept.lat, kept.lon, kept.fix_time, kept.device_id) == (
        fix.lat,
        fix.lon,
        fix.fix_time,
        fix.device_id,
    )
    changed = [n for n in Fix.__slots__ if getattr(kept, n) != getattr(fix, n)]
    nan_fields = [n for n in Fix.__slots__ if getattr(fix, n) != getattr(fix, n)]  # NaN != NaN
    assert len(notes) == len(set(changed) | set(nan_fields))
    assert all(n.reason == "dropped_field" and " / " in n.detail for n in notes)
    assert drop_bad_optionals(kept) == (kept, ())  # idempotent
