"""Shift handover: what the next shift must know, computed from plain values (pure; the clock
is passed in).

Three lists:

* open incidents, most urgent first (priority, then age), each with its on-scene SLA state: the
  worst state of its agencies that send units (role ``dispatch``): ``breached`` > ``pending`` >
  ``met``, ``none`` while no clock runs (the clock starts when the agency is notified, or at the
  report when the Perbup rule says so), and the seconds left to the earliest pending deadline;
* overdue follow-ups: complaint tickets past their deadline, OPDs notified but not acknowledged
  past their acknowledgement deadline (``notified_at + ack_min``), and hand-offs to an external
  line (110, 117, 119) not yet recorded (listed while pending; ``overdue_s`` is negative while
  still inside the acknowledgement time);
* units out of service, and on-duty units whose tracker sent no fix for ``stale_after_s`` (or
  never did).

Datetimes are aware UTC; durations are seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from dispatch.sla import BREACHED, evaluate
from dispatch.timestamp import iso_utc

SlaState = Literal["breached", "pending", "met", "none"]
FollowUpKind = Literal["complaint", "unacknowledged", "handoff"]
UnitReason = Literal["out_of_service", "stale"]
#: The role of agencies that send units: the only ones with an on-scene clock (standby lines,
#: forwarded complaints and hand-offs have none).
DISPATCH = "dispatch"
#: Agencies reached by a hand-off to another line (110, 117, 119) rather than by our units.
EXTERNAL, HANDOFF = "external", "handoff"
_SLA_RANK = {"breached": 0, "pending": 1, "met": 2, "none": 3}


@dataclass(frozen=True)
class AgencyPart:
    """One agency's part in an open incident (clocks as stored, first arrival of its units)."""

    code: str
    role: str
    kind: str
    notified_at: datetime | None
    acknowledged_at: datetime | None
    ack_min: float
    on_scene_min: float
    clock_started_at: datetime | None
    arrived_at: datetime | None = None
    handoff_at: datetime | None = None


@dataclass(frozen=True)
class OpenIncident:
    id: int
    category: str
    status: str
    priority: int | None
    received_at: datetime
    place: str = ""
    drill: bool = False
    agencies: tuple[AgencyPart, ...] = ()


@dataclass(frozen=True)
class OverdueTicket:
    """A complaint ticket past its follow-up deadline (from the complaint service)."""

    ticket_no: str
    incident_id: int
    agency: str
    due_at: datetime


@dataclass(frozen=True)
class UnitState:
    unit_id: int
    call_sign: str
    agency: str
    status: str
    device_id: str | None
    last_fix_at: datetime | None


@dataclass(frozen=True)
class IncidentLine:
    id: int
    category: str
    status: str
    priority: int | None
    place: str
    drill: bool
    received_at: datetime
    age_s: float
    sla: SlaState
    sla_deadline: datetime | None
    sla_left_s: float | None


@dataclass(frozen=True)
class FollowUp:
    kind: FollowUpKind
    incident_id: int
    agency: str
    due_at: datetime
    overdue_s: float
    ticket_no: str | None = None


@dataclass(frozen=True)
class UnitLine:
    unit_id: int
    call_sign: str
    agency: str
    status: str
    reason: UnitReason
    device_id: str | None
    last_fix_at: datetime | None
    silent_s: float | None


@dataclass(frozen=True)
class Handover:
    generated_at: datetime
    stale_after_s: float
    incidents: tuple[IncidentLine, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    units: tuple[UnitLine, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)


def incident_sla(parts: Iterable[AgencyPart],
                 now: datetime) -> tuple[SlaState, datetime | None, float | None]:
    """Worst on-scene SLA state of the responding agencies, the deadline that decides it (the
    earliest pending one, else the earliest breached one) and the seconds left to it (negative
    when late and nobody has arrived; ``None`` when decided by arrivals)."""
    state: SlaState = "none"
    deadline: datetime | None = None
    open_deadline = False
    for p in parts:
        if p.role != DISPATCH or p.kind == EXTERNAL or p.clock_started_at is None:
            continue
        out = evaluate(p.clock_started_at, p.arrived_at, p.on_scene_min, now)
        s: SlaState = out.status.value  # type: ignore[assignment]
        if _SLA_RANK[s] < _SLA_RANK[state]:
            state, deadline, open_deadline = s, out.deadline, p.arrived_at is None
        elif s == state and deadline is not None and out.deadline < deadline:
            deadline, open_deadline = out.deadline, p.arrived_at is None
    left = (deadline - now).total_seconds() if deadline is not None and open_deadline else None
    return state, deadline, left


def _incident_line(i: OpenIncident, now: datetime) -> IncidentLine:
    sla, deadline, left = incident_sla(i.agencies, now)
    return IncidentLine(i.id, i.category, i.status, i.priority, i.place, i.drill, i.received_at,
                        (now - i.received_at).total_seconds(), sla, deadline, left)


def _follow_ups(i: OpenIncident, now: datetime) -> list[FollowUp]:
    out = []
    for p in i.agencies:
        if p.kind == EXTERNAL or p.role == HANDOFF:
            if p.handoff_at is None:
                due = (p.notified_at or i.received_at) + timedelta(minutes=p.ack_min)
                out.append(FollowUp("handoff", i.id, p.code, due, (now - due).total_seconds()))
        elif p.notified_at is not None and p.acknowledged_at is None:
            ack = evaluate(p.notified_at, None, p.ack_min, now)
            if ack.status is BREACHED:
                out.append(FollowUp("unacknowledged", i.id, p.code, ack.deadline,
                                    (now - ack.deadline).total_seconds()))
    return out


def _unit_line(u: UnitState, now: datetime, stale_after_s: float) -> UnitLine | None:
    silent = None if u.last_fix_at is None else (now - u.last_fix_at).total_seconds()
    if u.status == "out_of_service":
        reason: UnitReason = "out_of_service"
    elif u.device_id is not None and (silent is None or silent > stale_after_s):
        reason = "stale"
    else:
        return None
    return UnitLine(u.unit_id, u.call_sign, u.agency, u.status, reason, u.device_id,
                    u.last_fix_at, silent)


def summarize(incidents: Iterable[OpenIncident], tickets: Iterable[OverdueTicket],
              units: Iterable[UnitState], *, now: datetime,
              stale_after_s: float = 600.0) -> Handover:
    """The handover of a shift ending at ``now``.

    Parameters
    ----------
    incidents
        The open incidents (new, triaged, dispatched, on scene) with their agencies' clocks.
    tickets
        Complaint tickets already past their deadline.
    units
        Every unit with its tracker's newest fix time.
    now
        End of the shift (aware UTC).
    stale_after_s
        Seconds without a fix after which an on-duty tracker is stale (positive).
    """
    if not stale_after_s > 0:
        raise ValueError("stale_after_s must be positive")
    incidents = list(incidents)
    lines = sorted((_incident_line(i, now) for i in incidents),
                   key=lambda x: (x.priority is None, x.priority or 0, x.received_at, x.id))
    follow = [FollowUp("complaint", t.incident_id, t.agency, t.due_at,
                       (now - t.due_at).total_seconds(), t.ticket_no) for t in tickets]
    for i in incidents:
        follow += _follow_ups(i, now)
    follow.sort(key=lambda f: (-f.overdue_s, f.incident_id, f.agency, f.kind))
    unit_lines = [x for u in units if (x := _unit_line(u, now, stale_after_s)) is not None]
    unit_lines.sort(key=lambda x: (x.reason, x.agency, x.call_sign))
    counts = {"open": len(lines),
              "sla_breached": sum(x.sla == "breached" for x in lines),
              "follow_ups": len(follow),
              "out_of_service": sum(x.reason == "out_of_service" for x in unit_lines),
              "stale": sum(x.reason == "stale" for x in unit_lines)}
    return Handover(now, stale_after_s, tuple(lines), tuple(follow), tuple(unit_lines), counts)


def _iso(value: Any) -> Any:
    return iso_utc(value) if isinstance(value, datetime) else value


def handover_out(h: Handover) -> dict[str, Any]:
    """The handover as JSON-ready values (times ISO 8601 UTC with ``Z``)."""
    def row(x: Any) -> dict[str, Any]:
        return {k: _iso(v) for k, v in asdict(x).items()}

    return {"generated_at": _iso(h.generated_at), "stale_after_s": h.stale_after_s,
            "counts": dict(h.counts), "incidents": [row(x) for x in h.incidents],
            "follow_ups": [row(x) for x in h.follow_ups], "units": [row(x) for x in h.units]}
