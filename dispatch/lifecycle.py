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

from typing import Final

from dispatch.exceptions import IllegalTransition

UNIT_STATUSES: Final = (
    "available", "dispatched", "en_route", "on_scene", "returning", "out_of_service",
)
INCIDENT_STATUSES: Final = (
    "new", "triaged", "dispatched", "on_scene", "resolved", "closed", "cancelled", "duplicate",
)

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

