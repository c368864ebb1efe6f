"""``geo.timestamp.iso_utc``, the one text form of a timestamp, and the JSON of the lower layers
that writes it (tracking payloads and events), so every package answers the same form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

import dispatch.timestamp
from geo.timestamp import iso_utc
from tracking.contract import fix_to_payload
from tracking.fix import Fix
from tracking.stale import StaleEvent

UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
WITA = timezone(timedelta(hours=8))
offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                        timezones=offsets)


@given(instants)
def test_any_offset_is_written_as_the_same_instant_in_utc_with_z(value: datetime) -> None:
    text = iso_utc(value)
    assert UTC_Z.match(text), text
    assert datetime.fromisoformat(text) == value


def test_naive_is_utc_none_stays_none_and_dispatch_reexports_the_same_function() -> None:
    assert iso_utc(datetime(2026, 3, 1, 2, 15)) == "2026-03-01T02:15:00Z"
    assert iso_utc(datetime(2026, 3, 1, 10, 15, tzinfo=WITA)) == "2026-03-01T02:15:00Z"
    assert iso_utc(None) is None
    assert dispatch.timestamp.iso_utc is iso_utc


def test_stale_tracker_events_write_utc_z() -> None:
    event = StaleEvent("D-1", "stale", datetime(2026, 11, 23, 10, 50, tzinfo=WITA), 600.0,
                       datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    payload = event.to_payload()
    assert (payload["last_fix_at"], payload["at"]) == ("2026-11-23T02:50:00Z",
                                                       "2026-11-23T03:00:00Z")
    assert StaleEvent("D-2", "stale", None, None, event.at).to_payload()["last_fix_at"] is None


def test_fix_payload_writes_utc_z() -> None:
    fix = Fix(device_id="D-1", fix_time=datetime(2026, 11, 23, 11, 0, 0, 250_000, tzinfo=WITA),
              lon=115.2, lat=-8.6)
    assert fix_to_payload(fix)["fix_time"] == "2026-11-23T03:00:00.250000Z"
