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
def test_next_time_always_in_the_future_and_runs_never_closer_than_the_interval(interval, gaps):
    s = Schedule([Job("j", interval)], start=0.0)
    now, last_run = 0.0, None
    for gap in gaps:
        now += gap
        if s.due(now):
            if last_run is not None:
                assert now - last_run >= interval - 1e-6
            s.done("j", now)
            last_run = now
            assert s.next_at["j"] > now
        assert 0.0 <= s.sleep_s(now, at_most=1e9) <= interval + 1e-6
