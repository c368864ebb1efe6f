"""Stale tracker transitions: raised once, cleared when fixes return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracking.stale import StaleMonitor

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_stale_is_raised_once_and_cleared_when_fixes_return():
    monitor = StaleMonitor(stale_after_s=600)
    last = {"A": NOW - timedelta(minutes=11), "B": NOW - timedelta(minutes=2)}
    events = monitor.evaluate(last, {"A", "B"}, NOW)
    assert [(e.device_id, e.state, e.silent_s) for e in events] == [("A", "stale", 660.0)]
    assert monitor.evaluate(last, {"A", "B"}, NOW + timedelta(minutes=1)) == []
    last["A"] = NOW + timedelta(minutes=1)
    events = monitor.evaluate(last, {"A", "B"}, NOW + timedelta(minutes=2))
    assert [(e.device_id, e.state) for e in events] == [("A", "recovered")]


def test_never_seen_on_duty_device_is_stale_and_off_duty_is_ignored():
    monitor = StaleMonitor(stale_after_s=600)
    events = monitor.evaluate({"C": NOW - timedelta(hours=5)}, {"D"}, NOW)
    assert [(e.device_id, e.last_fix_at) for e in events] == [("D", None)]
    assert events[0].to_payload()["state"] == "stale"
    assert monitor.evaluate({}, set(), NOW) == [] and monitor.stale == set()
