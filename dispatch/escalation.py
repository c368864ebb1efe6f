"""Escalation of agencies that did not acknowledge in time (pure; clock injected)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dispatch.sla import BREACHED, evaluate


@dataclass(frozen=True)
class AgencyClock:
    """One agency's acknowledgement clock on one incident."""

    incident_agency_id: int
    incident_id: int
    agency_code: str
    notified_at: datetime | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    ack_min: float


@dataclass(frozen=True)
class EscalationDue:
    incident_agency_id: int
    incident_id: int
    agency_code: str
    ack_deadline: datetime
    overdue_s: float


def due_escalations(clocks: Iterable[AgencyClock], now: datetime) -> list[EscalationDue]:
    """Agencies notified, not acknowledged and not yet escalated whose acknowledgement deadline
    (``notified_at + ack_min``) is before ``now``; most overdue first."""
    due = []
    for c in clocks:
        if c.notified_at is None or c.acknowledged_at is not None or c.escalated_at is not None:
            continue
        ack = evaluate(c.notified_at, None, c.ack_min, now)
        if ack.status is BREACHED:
            due.append(EscalationDue(c.incident_agency_id, c.incident_id, c.agency_code,
                                     ack.deadline, (now - ack.deadline).total_seconds()))
    due.sort(key=lambda d: -d.overdue_s)
    return due
