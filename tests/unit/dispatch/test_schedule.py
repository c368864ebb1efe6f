"""The scheduler's timing (pure): due jobs, no catch-up bursts, sleep until the next job."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.schedule import Job, Schedule


def test_jobs_are_due_at_start_then_every_interval():
    s = Schedule([Job("escalation", 30), Job("standby", 10)], start=100.0)
    assert s.due(100.0) == ["escalation", "standby"]
    for name in s.due(100.0):
        s.done(name, 100.0)
    assert s.due(105.0) == [] and s.sleep_s(105.0) == 5.0
    assert s.due(110.0) == ["standby"]
    s.done("standby", 110.5)  # ran a little late: the period stays anchored
    assert s.next_at["standby"] == 120.0
    assert s.due(130.0) == ["standby", "escalation"]  # most overdue first


def test_missed_intervals_do_not_burst():
    s = Schedule([Job("escalation", 10)], start=0.0)
    s.done("escalation", 0.0)
    s.done("escalation", 95.0)  # paused (another instance led) for nine intervals
    assert s.next_at["escalation"] == 105.0
    assert s.due(100.0) == []


def test_bad_jobs_are_refused():
    with pytest.raises(ValueError):
        Job("x", 0)
    with pytest.raises(ValueError):
        Schedule([Job("x", 1), Job("x", 2)], start=0.0)


@given(interval=st.floats(0.1, 1000), gaps=st.lists(st.floats(0, 5000), max_size=30))
def test_no_bursts_and_the_next_time_is_always_ahead(interval, gaps):
    """Runs never outnumber the intervals elapsed (plus the first), each run moves the next
    time at least one interval on and past ``now``, and the sleep never overshoots it."""
    s = Schedule([Job("j", interval)], start=0.0)
    now, runs = 0.0, 0
    for gap in gaps:
        now += gap
        if s.due(now):
            before = s.next_at["j"]
            s.done("j", now)
            runs += 1
            assert s.next_at["j"] > now and s.next_at["j"] - before >= interval - 1e-6
        assert runs <= 1 + now / interval + 1e-9
        assert 0.0 <= s.sleep_s(now, at_most=1e9) <= interval + 1e-6
