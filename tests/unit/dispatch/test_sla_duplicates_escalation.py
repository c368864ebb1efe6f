"""SLA outcomes and statistics, duplicates, escalation and masking on known data."""

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.duplicates import IncidentSnapshot, find_duplicates
from dispatch.escalation import AgencyClock, due_escalations
from dispatch.privacy import mask_phone
from dispatch.sla import (
    BREACHED,
    MET,
    PENDING,
    evaluate,
    percentile_nearest_rank,
    summarize,
)
from geo.types import LonLat

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_evaluate_met_breached_pending():
    assert evaluate(T0, T0 + timedelta(minutes=15), 15, T0).status == MET
    late = evaluate(T0, T0 + timedelta(minutes=15, seconds=1), 15, T0)
    assert late.status == BREACHED and late.elapsed_s == 901
    assert evaluate(T0, None, 15, T0 + timedelta(minutes=14)).status == PENDING
    overdue = evaluate(T0, None, 15, T0 + timedelta(minutes=16))
    assert overdue.status == BREACHED and overdue.elapsed_s is None
    assert overdue.deadline == T0 + timedelta(minutes=15)


def test_mean_and_p90_on_known_data():
    # response times 1..10 minutes: mean 5.5 min; p90 nearest rank = 9th value = 9 min
    outcomes = [evaluate(T0, T0 + timedelta(minutes=m), 8, T0) for m in range(1, 11)]
    outcomes.append(evaluate(T0, None, 8, T0 + timedelta(minutes=1)))  # pending
    s = summarize(outcomes)
    assert (s.count, s.met, s.breached, s.pending) == (11, 8, 2, 1)
    assert s.mean_response_s == 330.0
    assert s.p90_response_s == 540.0
    assert s.compliance_pct == 80.0


def test_percentile_edges():
    assert percentile_nearest_rank([7.0], 90) == 7.0
    assert percentile_nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10
    with pytest.raises(ValueError):
        percentile_nearest_rank([], 90)
    empty = summarize([])
    assert empty.mean_response_s is None and empty.compliance_pct is None


def snap(iid, category, dx_m, minutes):
    loc = LonLat(110.37 + dx_m / 110_574.0, -7.80)
    return IncidentSnapshot(iid, category, loc, T0 + timedelta(minutes=minutes))


def test_duplicates_same_category_near_and_recent():
    new = snap(None, "fire", 0, 0)
    others = [snap(1, "fire", 250, -20), snap(2, "fire", 100, -10), snap(3, "fire", 400, -5),
              snap(4, "flood", 10, -1), snap(5, "fire", 50, -90), snap(6, "fire", 20, 30)]
    found = find_duplicates(new, others, radius_m=300, window_s=3600)
    assert [c.incident_id for c in found] == [6, 2, 1]
    assert found[1].gap_s == 600
    assert find_duplicates(IncidentSnapshot(None, "fire", None, T0), others) == []


def test_escalation_after_ack_deadline_with_injected_clock():
    clocks = [
        AgencyClock(1, 10, "DAMKAR", T0, None, None, 2),
        AgencyClock(2, 10, "PSC119", T0, T0 + timedelta(minutes=1), None, 2),
        AgencyClock(3, 10, "BPBD", T0, None, T0 + timedelta(minutes=6), 5),
        AgencyClock(4, 10, "DISHUB", None, None, None, 5),
        AgencyClock(5, 11, "SATPOLPP", T0 - timedelta(minutes=10), None, None, 5),
    ]
    at_deadline = due_escalations(clocks, T0 + timedelta(minutes=2))
    assert [d.incident_agency_id for d in at_deadline] == [5]  # DAMKAR: deadline inclusive
    due = due_escalations(clocks, T0 + timedelta(minutes=3))
    assert [(d.incident_agency_id, d.agency_code, d.overdue_s) for d in due] == [
        (5, "SATPOLPP", 480.0), (1, "DAMKAR", 60.0)]


@pytest.mark.parametrize("raw,masked", [
    ("08123456789", "0812****789"),
    ("+6281234567890", "+628*******890"),
    ("112", "**2"),
    ("", ""),
    (None, None),
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked
