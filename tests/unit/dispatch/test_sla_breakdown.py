"""The SLA report's Perbup, segment and breakdown sections from plain records (pure), by hand
and as properties."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.judgement import judge
from dispatch.perbup import SlaRuleSpec
from dispatch.segments import Timeline
from dispatch.sla import SlaOutcome, evaluate
from dispatch.sla_breakdown import ResponseRecord, agency_sections, breakdown

T = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T + timedelta(days=40)
FIRE = SlaRuleSpec(limit_min=15, start="received", judge="mean")


def record(n, minutes, *, agency="DAMKAR", kec="Susut", month="2026-03", rule=FIRE,
           category="fire"):
    received = T + timedelta(days=n)
    arrived = None if minutes is None else received + timedelta(minutes=minutes)
    return ResponseRecord(
        incident_id=n, agency=agency, category=category, kind="emergency", rule=rule,
        rule_version=1, month=month, kode_kec="k-" + kec, nama_kec=kec, done_at=arrived,
        timeline=Timeline(received_at=received, notified_at=received + timedelta(minutes=1),
                          dispatched_at=received + timedelta(minutes=1),
                          departed_at=received + timedelta(minutes=2), arrived_at=arrived,
                          arrival_source="gps" if n % 2 else "manual"))


def test_sections_by_hand():
    # arrivals 10, 14, 20 min after the report, one never: mean 44/3 min ≤ 15 → compliant on
    # the mean although two of four breached
    recs = [record(0, 10), record(1, 14), record(2, 20), record(3, None, kec="Kintamani")]
    s = agency_sections(recs, NOW)["DAMKAR"]
    assert (s.perbup.count, s.perbup.met, s.perbup.breached, s.perbup.unfinished) == (4, 2, 2, 1)
    assert s.perbup.mean_response_s == 44 / 3 * 60
    [verdict] = s.perbup_rules
    assert verdict.judge == "mean" and verdict.compliant is True
    assert verdict.judged_value_s == 44 / 3 * 60
    assert s.call_processing.count == 4 and s.call_processing.mean_response_s == 60
    assert s.travel.count == 3 and s.travel.p90_response_s == 18 * 60
    assert s.gps_verified_arrivals == 1  # incident 1 (odd) arrived by GPS; 3 never arrived
    rows = breakdown(recs, NOW)
    assert [(r.nama_kec, r.perbup.count) for r in rows] == [("Kintamani", 1), ("Susut", 3)]


_minutes = st.one_of(st.none(), st.floats(min_value=0, max_value=600, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(_minutes, max_size=30), st.sampled_from(["each", "mean", "p90"]),
       st.floats(min_value=1, max_value=300))
def test_judgement_invariants(minutes, mode, limit_min):
    outcomes: list[SlaOutcome] = [
        evaluate(T, None if m is None else T + timedelta(minutes=m), limit_min,
                 T + timedelta(minutes=200)) for m in minutes]
    j = judge(outcomes, mode, limit_min)
    assert j.met + j.breached + j.pending == j.count == len(minutes)
    assert j.unfinished <= j.breached
    times = [o.elapsed_s for o in outcomes if o.elapsed_s is not None]
    if times:
        assert min(times) - 1e-6 <= j.mean_s <= max(times) + 1e-6
        assert j.p90_s in times
    if mode == "each" and j.met + j.breached:
        assert j.compliant is (j.breached == 0)
    if mode != "each" and j.judged_value_s is not None:
        assert j.compliant is (j.judged_value_s <= limit_min * 60)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), _minutes, st.sampled_from(["A", "B"]),
                          st.sampled_from(["2026-03", "2026-04"])), max_size=20))
def test_breakdown_rows_add_up_to_the_agency_totals(items):
    recs = [record(n, None if m is None else m, agency=a, month=month)
            for n, m, a, month in items]
    totals = agency_sections(recs, NOW)
    rows = breakdown(recs, NOW)
    for agency, s in totals.items():
        mine = [r for r in rows if r.agency == agency]
        assert sum(r.perbup.count for r in mine) == s.perbup.count
        assert sum(r.perbup.met for r in mine) == s.perbup.met
        assert sum(r.total_response.count for r in mine) == s.total_response.count
