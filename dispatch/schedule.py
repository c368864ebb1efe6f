"""When periodic jobs are due (pure; the clock is passed in, in monotonic seconds).

A job runs every ``interval_s``; a job that ran late (a slow pass, a pause while another
instance led) is not run again to catch up: its next time is one interval after the tick it was
due at, or after ``now`` when it missed whole intervals. The scheduler loop sleeps
:meth:`Schedule.sleep_s` between ticks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    """A periodic job: a name and its period in seconds (> 0)."""

    name: str
    interval_s: float

    def __post_init__(self) -> None:
        if not self.interval_s > 0:
            raise ValueError(f"interval of job {self.name!r} must be > 0 s")


class Schedule:
    """Next due time per job; every job is due at ``start`` (the first tick)."""

    def __init__(self, jobs: list[Job], start: float) -> None:
        if len({j.name for j in jobs}) != len(jobs):
            raise ValueError("job names must be unique")
        self.jobs = {j.name: j for j in jobs}
        self.next_at = {j.name: start for j in jobs}

    def due(self, now: float) -> list[str]:
        """Names of the jobs due at ``now``, the most overdue first."""
        late = [(self.next_at[n], n) for n in self.jobs if self.next_at[n] <= now]
        return [n for _t, n in sorted(late)]

    def done(self, name: str, now: float) -> None:
        """Record that ``name`` ran (or was skipped) at ``now``: schedule its next time."""
        interval = self.jobs[name].interval_s
        nxt = self.next_at[name] + interval
        if nxt <= now:  # missed whole intervals: no burst of catch-up runs
            nxt = now + interval
        self.next_at[name] = nxt

    def sleep_s(self, now: float, *, at_most: float = 60.0) -> float:
        """Seconds until the next job is due (0 when one is due now), capped at ``at_most``."""
        if not self.next_at:
            return at_most
        return max(0.0, min(at_most, min(self.next_at.values()) - now))
