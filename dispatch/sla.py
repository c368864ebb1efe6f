"""Service-level evaluation (pure; the clock is passed in).

Response time of an assignment is measured from the agency's clock start (the moment the agency
was notified: dispatch of its first unit, or forwarding of a complaint) to arrival on scene.
Per agency and period the report gives the mean and the 90th percentile (nearest-rank method, as
NFPA 1710 reports "90 % of responses within X"), plus counts met/breached/pending.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SlaStatus(StrEnum):
    """An SLA clock: done in time (``met``), late or overdue (``breached``), still running."""

    MET = "met"
    BREACHED = "breached"
    PENDING = "pending"


MET, BREACHED, PENDING = SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.PENDING


@dataclass(frozen=True)
class SlaOutcome:
    status: SlaStatus
    deadline: datetime
    elapsed_s: float | None  # response time if done, else None


def evaluate(
    started_at: datetime, done_at: datetime | None, limit_min: float, now: datetime
) -> SlaOutcome:
    """Met if done within ``limit_min`` of ``started_at``; breached if done late or if ``now`` is
    past the deadline without it being done; pending otherwise. Aware UTC datetimes."""
    deadline = started_at + timedelta(minutes=limit_min)
    if done_at is not None:
        elapsed = (done_at - started_at).total_seconds()
        return SlaOutcome(MET if done_at <= deadline else BREACHED, deadline, elapsed)
    return SlaOutcome(BREACHED if now > deadline else PENDING, deadline, None)


def percentile_nearest_rank(values: Sequence[float], pct: float) -> float:
    """The smallest value with at least ``pct`` % of the values at or below it."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    k = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[k - 1]


@dataclass(frozen=True)
class SlaSummary:
    count: int
    met: int
    breached: int
    pending: int
    mean_response_s: float | None
    p90_response_s: float | None

    @property
    def compliance_pct(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else 100.0 * self.met / decided


def summarize(outcomes: Iterable[SlaOutcome]) -> SlaSummary:
    """Counts plus mean and p90 of the response times of the completed outcomes."""
    items = list(outcomes)
    times = [o.elapsed_s for o in items if o.elapsed_s is not None]
    return SlaSummary(
        count=len(items),
        met=sum(o.status == MET for o in items),
        breached=sum(o.status == BREACHED for o in items),
        pending=sum(o.status == PENDING for o in items),
        mean_response_s=(sum(times) / len(times)) if times else None,
        p90_response_s=percentile_nearest_rank(times, 90) if times else None,
    )
