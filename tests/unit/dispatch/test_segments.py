"""Standard time segments (NFPA 1710 names) on hand-computed timelines."""

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.segments import (
    SEGMENTS,
    Timeline,
    segment_stats,
    segments,
    summarize_segments,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_four_segments_of_one_gps_verified_response():
    # received 08:00, agency notified 08:01:30, unit dispatched 08:02, departed 08:03:30,
    # arrived 08:12 (GPS): call processing 90 s, turnout 90 s, travel 510 s, total 720 s
    s = segments(Timeline(received_at=T0, notified_at=at(1.5), dispatched_at=at(2),
                          departed_at=at(3.5), arrived_at=at(12), arrival_source="gps"))
    assert (s.call_processing_s, s.turnout_s, s.travel_s, s.total_response_s) == (
        90.0, 90.0, 510.0, 720.0)
    assert s.gps_verified is True and s.inconsistent == ()
    assert s.as_dict() == {"call_processing_s": 90.0, "turnout_s": 90.0, "travel_s": 510.0,
                           "total_response_s": 720.0}


def test_call_processing_ends_at_dispatch_without_notification():
    s = segments(Timeline(received_at=T0, dispatched_at=at(2.5), departed_at=at(4),
                          arrived_at=at(9), arrival_source="manual"))
    assert s.call_processing_s == 150.0 and s.travel_s == 300.0
    assert s.gps_verified is False


def test_missing_events_leave_their_segments_unmeasured():
    s = segments(Timeline(received_at=T0, dispatched_at=at(1), arrived_at=at(20)))
    assert s.turnout_s is None and s.travel_s is None
    assert s.total_response_s == 1200.0
    pending = segments(Timeline(received_at=T0, dispatched_at=at(1)))
    assert pending.total_response_s is None and pending.gps_verified is None


def test_out_of_order_events_are_left_out_and_named():
    # a manual "departed" entered before the dispatch: turnout would be negative
    s = segments(Timeline(received_at=T0, dispatched_at=at(5), departed_at=at(4),
                          arrived_at=at(10)))
    assert s.turnout_s is None and s.inconsistent == ("turnout",)
    assert s.travel_s == 360.0 and s.total_response_s == 600.0


def test_month_of_segments_mean_and_p90_by_hand():
    # five responses, totals 10, 12, 14, 30, 9 minutes: mean 15 min; nearest-rank p90 of five
    # values is the 5th (ceil(4.5) = 5) = 30 min. Travel 6, 8, 9, 25, 5: mean 10.6 min, p90 25.
    rows = [(1, 2, 4, 10), (1, 2, 4, 12), (2, 3, 5, 14), (1, 2, 5, 30), (1, 2, 4, 9)]
    items = [segments(Timeline(received_at=T0, dispatched_at=at(d), departed_at=at(dep),
                               arrived_at=at(arr), notified_at=at(n)))
             for n, d, dep, arr in rows]
    stats = summarize_segments(items)
    assert set(stats) == set(SEGMENTS)
    assert stats["total_response"].count == 5
    assert stats["total_response"].mean_s == 15 * 60
    assert stats["total_response"].p90_s == 30 * 60
    assert stats["travel"].mean_s == pytest.approx(10.6 * 60)
    assert stats["travel"].p90_s == 25 * 60
    assert stats["call_processing"].mean_s == pytest.approx(1.2 * 60)
    assert stats["turnout"].p90_s == 180.0  # turnouts 2, 2, 2, 3, 2 min


def test_stats_of_nothing_measured():
    s = segment_stats([None, None])
    assert (s.count, s.mean_s, s.p90_s) == (0, None, None)


def test_unknown_segment_name():
    s = segments(Timeline(received_at=T0))
    with pytest.raises(KeyError):
        s.get("dwell")
