"""The incident queue (pure): priority first, then the time left to the nearest on-scene
deadline; amber below a quarter of the limit, red once breached; overdue acknowledgements."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispatch.incident_queue import (
    AckClock,
    OnSceneClock,
    QueueInput,
    Urgency,
    build_queue,
    queue_entry,
    urgency_of,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def ago(minutes: float) -> datetime:
    return T0 - timedelta(minutes=minutes)


def test_priority_then_time_left_then_oldest():
    items = [
        QueueInput(1, 2, ago(1), (OnSceneClock("BPBD", ago(29), 30),)),  # 1 min left, prio 2
        QueueInput(2, 1, ago(1), (OnSceneClock("DAMKAR", ago(1), 15),)),  # 14 min left
        QueueInput(3, 1, ago(20), (OnSceneClock("DAMKAR", ago(20), 15),)),  # breached
        QueueInput(4, None, ago(50)),  # not triaged: no priority, no clock
        QueueInput(5, 1, ago(3)),  # priority 1, no clock yet
        QueueInput(6, 1, ago(2), (OnSceneClock("DAMKAR", ago(10), 15),)),  # 5 min left
    ]
    q = build_queue(items, T0)
    assert [e.incident_id for e in q] == [3, 6, 2, 5, 1, 4]
    by_id = {e.incident_id: e for e in q}
    assert by_id[3].urgency is Urgency.BREACHED and by_id[3].left_s == -300
    assert by_id[6].urgency is Urgency.OK and by_id[6].fraction_left == 5 / 15
    assert by_id[1].urgency is Urgency.WARNING  # 1 of 30 minutes left
    assert by_id[5].urgency is Urgency.NONE and by_id[5].deadline is None


def test_nearest_deadline_wins_and_names_its_agency():
    e = queue_entry(QueueInput(1, 1, ago(5), (OnSceneClock("PSC119", ago(5), 30),
                                               OnSceneClock("DAMKAR", ago(5), 15))), T0)
    assert e.deadline == T0 + timedelta(minutes=10) and e.deadline_agency == "DAMKAR"
    assert e.limit_s == 900


def test_overdue_and_escalated_acknowledgements():
    e = queue_entry(QueueInput(1, 1, ago(10), acks=(
        AckClock("PSC119", ago(6), 5),  # 1 min late
        AckClock("DINSOS", ago(4), 5),  # still in time
        AckClock("DAMKAR", ago(9), 2, escalated_at=ago(7)))), T0)
    assert e.ack_overdue == ("DAMKAR", "PSC119") and e.escalated == ("DAMKAR",)


def test_urgency_thresholds():
    assert urgency_of(None, None) is Urgency.NONE
    assert urgency_of(-0.1, 900) is Urgency.BREACHED
    assert urgency_of(0, 900) is Urgency.WARNING
    assert urgency_of(224.9, 900) is Urgency.WARNING
    assert urgency_of(225, 900) is Urgency.OK


_clock = st.builds(OnSceneClock, st.sampled_from(["DAMKAR", "BPBD", "PSC119"]),
                   st.integers(-600, 600).map(ago), st.floats(0.5, 2880))
_item = st.builds(QueueInput, st.integers(1, 10_000), st.none() | st.integers(1, 5),
                  st.integers(0, 600).map(ago), st.lists(_clock, max_size=4).map(tuple))


@given(st.lists(_item, max_size=30, unique_by=lambda i: i.incident_id))
def test_queue_is_a_sorted_permutation(items):
    q = build_queue(items, T0)
    assert sorted(e.incident_id for e in q) == sorted(i.incident_id for i in items)
    prios = [99 if e.priority is None else e.priority for e in q]
    assert prios == sorted(prios)
    for a, b in zip(q, q[1:], strict=False):
        if a.priority == b.priority and a.left_s is not None and b.left_s is not None:
            assert a.left_s <= b.left_s
        if a.priority == b.priority and a.left_s is None:
            assert b.left_s is None  # incidents without a clock come last in their band
    for e in q:
        assert (e.urgency is Urgency.BREACHED) == (e.left_s is not None and e.left_s < 0)
