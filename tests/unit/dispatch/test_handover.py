"""The shift handover summary (pure): SLA state of open incidents, overdue follow-ups, units
that need attention, ordering, and properties over arbitrary inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.handover import (
    AgencyPart,
    OpenIncident,
    OverdueTicket,
    UnitState,
    handover_out,
    incident_sla,
    summarize,
)

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def part(code="DAMKAR", *, role="dispatch", kind="internal", notified=-30, ack=None, ack_min=5,
         on_scene_min=15, start=None, arrived=None, handoff=None):
    def at(m):
        return None if m is None else NOW + timedelta(minutes=m)
    return AgencyPart(code, role, kind, at(notified), at(ack), ack_min, on_scene_min,
                      at(notified if start is None else start), at(arrived), at(handoff))


def incident(id_, *parts, priority=1, received=-30):
    return OpenIncident(id_, "fire", "dispatched", priority, NOW + timedelta(minutes=received),
                        "Suryatmajan", False, tuple(parts))


def test_sla_breached_when_deadline_passed_without_arrival():
    state, deadline, left = incident_sla([part(notified=-20, on_scene_min=15)], NOW)
    assert state == "breached"
    assert deadline == NOW - timedelta(minutes=5) and left == -300


def test_sla_pending_reports_time_left_to_earliest_deadline():
    state, deadline, left = incident_sla(
        [part("A", notified=-5, on_scene_min=15), part("B", notified=-2, on_scene_min=8)], NOW)
    assert (state, left) == ("pending", 360) and deadline == NOW + timedelta(minutes=6)


def test_sla_met_and_ignored_parts():
    assert incident_sla([part(notified=-30, arrived=-20, on_scene_min=15)], NOW)[0] == "met"
    # standby lines and external hand-offs have no on-scene clock
    assert incident_sla([part(role="standby", notified=-60), part(kind="external")],
                        NOW) == ("none", None, None)
    # the rule's clock may start at the report (clock_started_at before notification)
    late = part(notified=-5, start=-40, on_scene_min=30)
    assert incident_sla([late], NOW)[0] == "breached"


def test_worst_state_wins():
    assert incident_sla([part("A", notified=-30, arrived=-25), part("B", notified=-20)],
                        NOW)[0] == "breached"
    assert incident_sla([part("A", notified=-30, arrived=-25), part("B", notified=-2)],
                        NOW)[0] == "pending"


def test_summary_orders_incidents_by_priority_then_age():
    h = summarize([incident(1, priority=3, received=-90), incident(2, priority=1, received=-10),
                   incident(3, priority=1, received=-60), incident(4, priority=None,
                                                               received=-500)],
                  [], [], now=NOW)
    assert [x.id for x in h.incidents] == [3, 2, 1, 4]
    assert h.incidents[0].age_s == 3600


def test_follow_ups_unacknowledged_handoff_and_complaints():
    inc = incident(7, part("DAMKAR", notified=-10, ack_min=5),           # 5 min overdue
                   part("PSC119", notified=-3, ack_min=5),               # not yet due
                   part("DINSOS", notified=-30, ack=-28, ack_min=5),     # acknowledged
                   part("POLRI110", kind="external", notified=-4, ack_min=5),  # hand-off pending
                   part("SAR115", kind="external", notified=-9, handoff=-8))   # recorded
    ticket = OverdueTicket("5106-000123-7", 9, "DPUPR", NOW - timedelta(hours=30))
    h = summarize([inc], [ticket], [], now=NOW)
    got = [(f.kind, f.incident_id, f.agency, round(f.overdue_s)) for f in h.follow_ups]
    assert got == [("complaint", 9, "DPUPR", 30 * 3600), ("unacknowledged", 7, "DAMKAR", 300),
                   ("handoff", 7, "POLRI110", -60)]
    assert h.follow_ups[0].ticket_no == "5106-000123-7"


def test_units_out_of_service_and_stale_trackers():
    units = [UnitState(1, "A-01", "DAMKAR", "available", "dev-1", NOW - timedelta(minutes=11)),
             UnitState(2, "A-02", "DAMKAR", "available", "dev-2", NOW - timedelta(minutes=2)),
             UnitState(3, "A-03", "DAMKAR", "out_of_service", "dev-3", None),
             UnitState(4, "P-01", "PSC119", "en_route", "dev-4", None),
             UnitState(5, "P-02", "PSC119", "available", None, None)]
    h = summarize([], [], units, now=NOW, stale_after_s=600)
    assert [(u.call_sign, u.reason) for u in h.units] == [
        ("A-03", "out_of_service"), ("A-01", "stale"), ("P-01", "stale")]
    assert h.units[1].silent_s == 660 and h.units[2].silent_s is None
    assert h.counts == {"open": 0, "sla_breached": 0, "follow_ups": 0, "out_of_service": 1,
                        "stale": 2}
    # a longer threshold: A-01 is no longer stale
    assert [u.call_sign for u in summarize([], [], units, now=NOW,
                                           stale_after_s=900).units] == ["A-03", "P-01"]


def test_json_output_and_bad_threshold():
    h = summarize([incident(1, part(notified=-20))], [], [], now=NOW)
    out = handover_out(h)
    assert out["generated_at"] == "2026-11-27T14:00:00Z"
    assert out["incidents"][0]["received_at"] == "2026-11-27T13:30:00Z"
    assert out["incidents"][0]["sla"] == "breached" and out["counts"]["sla_breached"] == 1
    with pytest.raises(ValueError):
        summarize([], [], [], now=NOW, stale_after_s=0)


_minutes = st.one_of(st.none(), st.integers(-600, 600))
_parts = st.builds(part, st.sampled_from(["A", "B", "C"]),
                   role=st.sampled_from(["dispatch", "standby", "forward", "handoff"]),
                   kind=st.sampled_from(["internal", "external"]),
                   notified=_minutes, ack=_minutes, ack_min=st.integers(1, 60),
                   on_scene_min=st.integers(1, 240), arrived=_minutes, handoff=_minutes)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_parts, max_size=4), max_size=6),
       st.lists(st.tuples(st.integers(-3000, 0), st.booleans(), st.sampled_from(
           ["available", "en_route", "out_of_service"])), max_size=8))
def test_properties(parts_per_incident, unit_specs):
    incidents = [incident(k + 1, *ps, priority=k % 3 or None, received=-k)
                 for k, ps in enumerate(parts_per_incident)]
    units = [UnitState(k, f"U-{k:02d}", "X", status, f"d{k}" if has else None,
                       NOW + timedelta(seconds=s))
             for k, (s, has, status) in enumerate(unit_specs)]
    h = summarize(incidents, [], units, now=NOW)
    assert len(h.incidents) == len(incidents)  # every open incident is listed once
    assert sorted(x.id for x in h.incidents) == [i.id for i in incidents]
    for line in h.incidents:
        assert line.sla in ("breached", "pending", "met", "none")
        if line.sla == "pending":
            assert line.sla_left_s is not None and line.sla_left_s >= 0
    overdue = [f.overdue_s for f in h.follow_ups]
    assert overdue == sorted(overdue, reverse=True)
    assert all(f.overdue_s > 0 for f in h.follow_ups if f.kind == "unacknowledged")
    for u in h.units:
        assert u.status == "out_of_service" or (u.device_id and (u.silent_s or 601) > 600)
    handover_out(h)  # always serialisable


def test_json_times_are_utc_with_z_whatever_the_offset_given():
    wita = timezone(timedelta(hours=8))
    out = handover_out(summarize([], [], [], now=NOW.astimezone(wita)))
    assert out["generated_at"] == "2026-11-27T14:00:00Z"
