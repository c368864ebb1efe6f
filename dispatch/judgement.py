"""Judging responses against a Perbup rule (pure; the clock is passed in).

:func:`clock_start` picks the event that starts a rule's clock; :func:`judge_response` gives one
incident's outcome (met / breached / pending, :func:`dispatch.sla.evaluate`); :func:`judge`
judges a group (an agency's month, say) the way the rule says:

* ``each``: every incident on its own; the group complies when none is breached;
* ``mean``: the average response of the completed ones is within the limit (SPM);
* ``p90``: the 90th percentile (nearest rank) of the completed ones is within the limit
  (NFPA 1710: "90 % of responses within X").

The incident counts (met, breached, pending) are given in every mode. Responses that never
arrived have no time: they count as breached once overdue (``unfinished``) but cannot enter a
mean or a percentile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.perbup import JUDGE_EACH, JUDGE_MEAN, JUDGE_P90, START_RECEIVED, SlaRuleSpec
from dispatch.sla import BREACHED, MET, PENDING, SlaOutcome, evaluate, percentile_nearest_rank


def clock_start(rule: SlaRuleSpec, received_at: datetime,
                notified_at: datetime | None) -> datetime | None:
    """When the rule's clock starts: at the report, or when the agency was notified (``None``
    while it has not been)."""
    return received_at if rule.start == START_RECEIVED else notified_at


def judge_response(rule: SlaRuleSpec, received_at: datetime, notified_at: datetime | None,
                   done_at: datetime | None, now: datetime) -> SlaOutcome | None:
    """One incident's outcome under ``rule`` (``None`` when its clock has not started)."""
    start = clock_start(rule, received_at, notified_at)
    if start is None:
        return None
    return evaluate(start, done_at, rule.limit_min, now)


@dataclass(frozen=True)
class Judgement:
    """A group of outcomes judged under one rule (times in seconds).

    ``judged_value_s`` is the statistic compared with ``limit_s`` (the mean or the p90; ``None``
    for ``each``); ``compliant`` is ``None`` when nothing could be judged yet.
    """

    judge: str
    limit_s: float
    count: int
    met: int
    breached: int
    pending: int
    unfinished: int
    mean_s: float | None
    p90_s: float | None
    judged_value_s: float | None
    compliant: bool | None

    @property
    def compliance_pct(self) -> float | None:
        """Share of the decided incidents that met the limit."""
        decided = self.met + self.breached
        return None if decided == 0 else 100.0 * self.met / decided


def judge(outcomes: Sequence[SlaOutcome], judge_mode: str, limit_min: float) -> Judgement:
    """Judge ``outcomes`` (all under the same limit) by ``judge_mode`` (each | mean | p90)."""
    if judge_mode not in (JUDGE_EACH, JUDGE_MEAN, JUDGE_P90):
        raise ValueError(f"unknown judge mode {judge_mode!r}")
    limit_s = limit_min * 60.0
    times = [o.elapsed_s for o in outcomes if o.elapsed_s is not None]
    met = sum(o.status == MET for o in outcomes)
    breached = sum(o.status == BREACHED for o in outcomes)
    pending = sum(o.status == PENDING for o in outcomes)
    unfinished = sum(o.status == BREACHED and o.elapsed_s is None for o in outcomes)
    mean_s = sum(times) / len(times) if times else None
    p90_s = percentile_nearest_rank(times, 90) if times else None
    value: float | None = None
    compliant: bool | None
    if judge_mode == JUDGE_EACH:
        compliant = None if met + breached == 0 else breached == 0
    else:
        value = mean_s if judge_mode == JUDGE_MEAN else p90_s
        compliant = None if value is None else value <= limit_s
    return Judgement(judge=judge_mode, limit_s=limit_s, count=len(outcomes), met=met,
                     breached=breached, pending=pending, unfinished=unfinished, mean_s=mean_s,
                     p90_s=p90_s, judged_value_s=value, compliant=compliant)
