"""The dispatcher's incident queue (pure; clock injected): open incidents ordered by priority,
then by the time left to the nearest on-scene SLA deadline, with the alerts a shift must see
(SLA breached, an OPD that has not acknowledged in time, an escalated OPD).

Priority 1 is the most urgent (``dispatch/data/agencies.yaml``); an incident not yet triaged has
no priority and no clock, and comes after the triaged ones of the same priority band. Times are
aware UTC; durations in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dispatch.sla import BREACHED, evaluate

#: Below this fraction of the SLA limit left, an incident turns amber.
WARNING_FRACTION = 0.25
#: Sort key of an incident without a priority (after priorities 1..5).
_NO_PRIORITY = 99


class Urgency(StrEnum):
    """How near the incident's nearest on-scene deadline is."""

    NONE = "none"  # no clock running
    OK = "ok"
    WARNING = "warning"  # less than WARNING_FRACTION of the limit left
    BREACHED = "breached"


@dataclass(frozen=True)
class OnSceneClock:
    """One agency's running on-scene clock (no unit of the agency has arrived yet)."""

    agency_code: str
    started_at: datetime
    limit_min: float


@dataclass(frozen=True)
class AckClock:
    """One agency notified and not yet acknowledged."""

    agency_code: str
    notified_at: datetime
    ack_min: float
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class QueueInput:
    incident_id: int
    priority: int | None
    received_at: datetime
    on_scene: tuple[OnSceneClock, ...] = ()
    acks: tuple[AckClock, ...] = ()


@dataclass(frozen=True)
class QueueEntry:
    """One incident of the queue: its nearest deadline (``None`` when no clock runs), seconds
    left (negative once breached), the fraction of the limit left, and the agencies whose
    acknowledgement is overdue or escalated."""

    incident_id: int
    priority: int | None
    received_at: datetime
    deadline: datetime | None
    limit_s: float | None
    left_s: float | None
    fraction_left: float | None
    urgency: Urgency
    deadline_agency: str | None
    ack_overdue: tuple[str, ...]
    escalated: tuple[str, ...]


def urgency_of(left_s: float | None, limit_s: float | None) -> Urgency:
    """Breached when no time is left, amber below :data:`WARNING_FRACTION` of the limit."""
    if left_s is None:
        return Urgency.NONE
    if left_s < 0:
        return Urgency.BREACHED
    if limit_s is not None and limit_s > 0 and left_s < WARNING_FRACTION * limit_s:
        return Urgency.WARNING
    return Urgency.OK


def queue_entry(item: QueueInput, now: datetime) -> QueueEntry:
    """The figures of one incident at ``now``: the on-scene clock with the earliest deadline."""
    best: tuple[datetime, OnSceneClock] | None = None
    for c in item.on_scene:
        due = evaluate(c.started_at, None, c.limit_min, now).deadline
        if best is None or due < best[0]:
            best = (due, c)
    deadline: datetime | None = None
    limit_s: float | None = None
    left_s: float | None = None
    fraction: float | None = None
    agency: str | None = None
    if best is not None:
        deadline, agency = best[0], best[1].agency_code
        limit_s = best[1].limit_min * 60.0
        left_s = (best[0] - now).total_seconds()
        fraction = left_s / limit_s if limit_s > 0 else None
    overdue = tuple(sorted({a.agency_code for a in item.acks
                            if evaluate(a.notified_at, None, a.ack_min, now).status is BREACHED}))
    escalated = tuple(sorted({a.agency_code for a in item.acks if a.escalated_at is not None}))
    return QueueEntry(item.incident_id, item.priority, item.received_at, deadline, limit_s,
                      left_s, fraction, urgency_of(left_s, limit_s), agency, overdue, escalated)


def queue_key(e: QueueEntry) -> tuple[int, float, datetime, int]:
    """Priority first (1 most urgent), then least time left, then the oldest call."""
    return (_NO_PRIORITY if e.priority is None else e.priority,
            float("inf") if e.left_s is None else e.left_s, e.received_at, e.incident_id)


def build_queue(items: Iterable[QueueInput], now: datetime) -> list[QueueEntry]:
    """The queue at ``now``, most urgent first."""
    return sorted((queue_entry(i, now) for i in items), key=queue_key)
