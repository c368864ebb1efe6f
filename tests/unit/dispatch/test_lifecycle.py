"""Every legal and every illegal status change of units and incidents."""

import itertools

import pytest

from dispatch.exceptions import IllegalTransition
from dispatch.lifecycle import (
    INCIDENT_STATUSES,
    INCIDENT_TRANSITIONS,
    UNIT_STATUSES,
    UNIT_TRANSITIONS,
    incident_transition,
    unit_transition,
)

UNIT_LEGAL = {
    ("available", "dispatched"), ("available", "out_of_service"),
    ("dispatched", "en_route"), ("dispatched", "available"),
    ("en_route", "on_scene"), ("en_route", "returning"),
    ("on_scene", "returning"),
    ("returning", "available"), ("returning", "dispatched"),
    ("out_of_service", "available"),
}
INCIDENT_LEGAL = {
    ("new", "triaged"), ("new", "cancelled"), ("new", "duplicate"),
    ("triaged", "dispatched"), ("triaged", "resolved"), ("triaged", "cancelled"),
    ("triaged", "duplicate"),
    ("dispatched", "on_scene"), ("dispatched", "cancelled"),
    ("on_scene", "resolved"), ("resolved", "closed"),
}


def test_tables_match_the_documented_lifecycles():
    assert {(a, b) for a, bs in UNIT_TRANSITIONS.items() for b in bs} == UNIT_LEGAL
    assert {(a, b) for a, bs in INCIDENT_TRANSITIONS.items() for b in bs} == INCIDENT_LEGAL


@pytest.mark.parametrize("current,target", sorted(UNIT_LEGAL))
def test_unit_legal(current, target):
    assert unit_transition(current, target) == target


ILLEGAL_UNIT = sorted(
    set(itertools.product(UNIT_STATUSES, UNIT_STATUSES)) - UNIT_LEGAL
)


@pytest.mark.parametrize("current,target", ILLEGAL_UNIT)
def test_every_illegal_unit_transition_raises(current, target):
    with pytest.raises(IllegalTransition) as info:
        unit_transition(current, target)
    assert info.value.current == current and info.value.target == target
    assert "tidak diizinkan" in str(info.value)


ILLEGAL_INCIDENT = sorted(
    set(itertools.product(INCIDENT_STATUSES, INCIDENT_STATUSES)) - INCIDENT_LEGAL
)


@pytest.mark.parametrize("current,target", ILLEGAL_INCIDENT)
def test_every_illegal_incident_transition_raises(current, target):
    with pytest.raises(IllegalTransition):
        incident_transition(current, target)


def test_unknown_status_is_illegal():
    with pytest.raises(IllegalTransition):
        unit_transition("flying", "available")
    with pytest.raises(IllegalTransition):
        incident_transition("new", "exploded")


def test_counts():
    # 6 unit statuses → 36 pairs, 10 legal; 8 incident statuses → 64 pairs, 11 legal.
    assert len(ILLEGAL_UNIT) == 26
    assert len(ILLEGAL_INCIDENT) == 53

