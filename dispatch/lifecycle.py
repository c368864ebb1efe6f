"""Status lifecycles of units and incidents (pure).

Unit::

    available → dispatched → en_route → on_scene → returning → available
    out_of_service ⇄ available; returning → dispatched (re-tasked on the way back);
    dispatched → available (stood down before leaving); en_route → returning (stood down).

Incident::

    new → triaged → dispatched → on_scene → resolved → closed
    new | triaged | dispatched → cancelled;  new | triaged → duplicate;
    triaged → resolved (public-service complaint handled by the OPD without a unit dispatch).

Any other change raises :class:`~dispatch.exceptions.IllegalTransition`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from dispatch.exceptions import DispatchValidationError, IllegalTransition


class UnitStatus(StrEnum):
    """Where a unit is in its lifecycle (stored as the value)."""

    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"
    OUT_OF_SERVICE = "out_of_service"


class IncidentStatus(StrEnum):
    """Where an incident is in its lifecycle (stored as the value)."""

    NEW = "new"
    TRIAGED = "triaged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"


class AssignmentStatus(StrEnum):
    """An assignment is active until the unit clears the incident (or it is cancelled)."""

    ACTIVE = "active"
    CLEARED = "cleared"
    CANCELLED = "cancelled"  # the incident was cancelled while the unit was out


class AgencyRole(StrEnum):
    """An agency's part in an incident: it sends units (``dispatch``), stands by with its own
    means (``standby``), is informed (``forward``) or takes it over on its own line
    (``handoff``: 110, 117, 119)."""

    DISPATCH = "dispatch"
    STANDBY = "standby"
    FORWARD = "forward"
    HANDOFF = "handoff"


UNIT_STATUSES: Final = tuple(s.value for s in UnitStatus)
INCIDENT_STATUSES: Final = tuple(s.value for s in IncidentStatus)
AGENCY_ROLES: Final = tuple(r.value for r in AgencyRole)
#: Roles whose agency sends units to the scene (recommended, timed on scene).
UNIT_SENDING_ROLES: Final = frozenset({AgencyRole.DISPATCH, AgencyRole.STANDBY})

UNIT_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "available": frozenset({"dispatched", "out_of_service"}),
    "dispatched": frozenset({"en_route", "available"}),
    "en_route": frozenset({"on_scene", "returning"}),
    "on_scene": frozenset({"returning"}),
    "returning": frozenset({"available", "dispatched"}),
    "out_of_service": frozenset({"available"}),
}

INCIDENT_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"triaged", "cancelled", "duplicate"}),
    "triaged": frozenset({"dispatched", "resolved", "cancelled", "duplicate"}),
    "dispatched": frozenset({"on_scene", "cancelled"}),
    "on_scene": frozenset({"resolved"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
    "duplicate": frozenset(),
}

#: Unit statuses from which a unit may be recommended and assigned.
ASSIGNABLE_UNIT_STATUSES: Final = frozenset({"available", "returning"})
#: Incident statuses counted as open (for duplicates and escalation).
OPEN_INCIDENT_STATUSES: Final = frozenset({"new", "triaged", "dispatched", "on_scene"})


def _check(table: dict[str, frozenset[str]], entity: str, current: str, target: str) -> str:
    if current not in table:
        raise IllegalTransition(entity, current, target)
    if target not in table[current]:
        raise IllegalTransition(entity, current, target)
    return target


def unit_transition(current: str, target: str) -> str:
    """Return ``target`` if a unit may go from ``current`` to it, else raise IllegalTransition."""
    return _check(UNIT_TRANSITIONS, "unit", current, target)


def incident_transition(current: str, target: str) -> str:
    """Return ``target`` if an incident may go from ``current`` to it, else raise."""
    return _check(INCIDENT_TRANSITIONS, "incident", current, target)



#: Seconds a manual arrival time may lie ahead of the server's clock (device clock skew).
ARRIVAL_CLOCK_SKEW_S: Final = 120.0


def check_manual_arrival(at: datetime, *, dispatched_at: datetime, now: datetime,
                         skew_s: float = ARRIVAL_CLOCK_SKEW_S) -> datetime:
    """Return the manual arrival time ``at`` in UTC if it lies between the assignment's dispatch
    time and ``now`` (+ ``skew_s`` seconds of clock skew); raise DispatchValidationError
    otherwise. ``at`` must carry a time zone (a naive time is ambiguous)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DispatchValidationError(
            f"Waktu tiba '{at.isoformat()}' tanpa zona waktu; sertakan offset, mis. +07:00 / "
            "arrival time has no time zone; include an offset such as +07:00 or Z.")
    if at < dispatched_at:
        raise DispatchValidationError(
            f"Waktu tiba {at.isoformat()} sebelum unit ditugaskan ({dispatched_at.isoformat()}) "
            f"/ arrival time is before the unit was dispatched ({dispatched_at.isoformat()}).")
    latest = now + timedelta(seconds=skew_s)
    if at > latest:
        raise DispatchValidationError(
            f"Waktu tiba {at.isoformat()} di masa depan (lewat {latest.isoformat()}) / arrival "
            f"time lies in the future (after {latest.isoformat()}).")
    return at.astimezone(UTC)
