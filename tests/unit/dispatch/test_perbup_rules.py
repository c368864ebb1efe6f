"""Perbup rule sets: the packaged defaults, validation, versions, and judging fixture months
with hand-computed expectations (Bangli on site ≤ 2 h from the report; fire ≤ 15 min from
receipt, SPM)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.config import load_config
from dispatch.exceptions import SlaRuleError
from dispatch.judgement import clock_start, judge, judge_response
from dispatch.perbup import (
    RuleSet,
    SlaRuleSpec,
    category_kinds,
    from_region_config,
    in_force,
    parse_rule_set,
)
from dispatch.sla import BREACHED, MET, PENDING

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
CONFIG = load_config()
BANGLI, YOGYA = "51.06", "34.71"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def bangli() -> RuleSet:
    return from_region_config(CONFIG, BANGLI)


def test_packaged_defaults_bangli_two_hours_from_the_report():
    rs = bangli()
    rule = rs.rule_for("PUPR", "landslide", "emergency")
    assert (rule.start, rule.limit_min, rule.judge) == ("received", 120.0, "each")
    fire = rs.rule_for("DAMKAR", "fire", "emergency")
    assert (fire.start, fire.limit_min, fire.ack_min) == ("received", 15.0, 2.0)
    complaint = rs.rule_for("SATPOLPP", "public_order", "public_service")
    assert (complaint.start, complaint.limit_min) == ("notified", 2880.0)


def test_packaged_defaults_fire_spm_from_receipt_everywhere():
    for kode in (YOGYA, BANGLI, "64.71"):
        rule = from_region_config(CONFIG, kode).rule_for("DAMKAR", "fire", "emergency")
        assert (rule.start, rule.limit_min) == ("received", 15.0), kode
    yogya = from_region_config(CONFIG, YOGYA)
    assert yogya.rule_for("BPBD", "flood", "emergency").start == "notified"
    assert yogya.rule_for("PSC119", "medical", "emergency").limit_min == 15.0


def test_bangli_fixture_month_judged_from_the_report():
    # Six Bangli emergencies (PUPR, landslide). Minutes after the report: (notified, arrived).
    # The Perbup clock starts at the report: limit 120 min.
    month = [(5, 60), (10, 119), (30, 130), (2, 120), (45, None), (1, None)]
    now = at(125)  # the 5th and 6th have not arrived: overdue only if received > 2 h ago
    rule = bangli().rule_for("PUPR", "landslide", "emergency")
    outcomes = [judge_response(rule, T0, at(n), at(a) if a is not None else None, now)
                for n, a in month]
    assert [o.status for o in outcomes] == [MET, MET, BREACHED, MET, BREACHED, BREACHED]
    # the third arrived 100 min after notification: met under the old "from notification"
    # clock, breached under the Perbup (130 min from the report)
    assert outcomes[2].elapsed_s == 130 * 60
    j = judge(outcomes, rule.judge, rule.limit_min)
    assert (j.count, j.met, j.breached, j.pending, j.unfinished) == (6, 3, 3, 0, 2)
    assert j.mean_s == (60 + 119 + 130 + 120) / 4 * 60  # 107.25 min over the four arrivals
    assert j.p90_s == 130 * 60
    assert j.compliant is False and j.compliance_pct == 50.0
    early = [judge_response(rule, T0, at(n), None, at(90)) for n, _ in month]
    assert {o.status for o in early} == {PENDING}


def test_fire_spm_month_each_mean_and_p90_by_hand():
    # Ten fires, total response from receipt (minutes): 6 8 9 10 11 12 13 14 16 21.
    # each: 8 met, 2 breached; mean 120/10 = 12 min ≤ 15 → compliant on the average;
    # p90 nearest rank = 9th of 10 = 16 min > 15 → not compliant on the 90th percentile.
    minutes = [6, 8, 9, 10, 11, 12, 13, 14, 16, 21]
    rule = bangli().rule_for("DAMKAR", "fire", "emergency")
    outcomes = [judge_response(rule, T0, at(3), at(m), at(60)) for m in minutes]
    each = judge(outcomes, "each", rule.limit_min)
    assert (each.met, each.breached, each.compliant) == (8, 2, False)
    assert each.compliance_pct == 80.0 and each.judged_value_s is None
    mean = judge(outcomes, "mean", rule.limit_min)
    assert mean.judged_value_s == 12 * 60 and mean.compliant is True
    p90 = judge(outcomes, "p90", rule.limit_min)
    assert p90.judged_value_s == 16 * 60 and p90.compliant is False
    assert p90.limit_s == 900.0


def test_clock_start_notified_waits_for_the_notification():
    rule = SlaRuleSpec(limit_min=30, start="notified")
    assert clock_start(rule, T0, None) is None
    assert judge_response(rule, T0, None, None, at(500)) is None
    assert clock_start(rule, T0, at(4)) == at(4)
    assert judge([], "mean", 30).compliant is None


def test_unknown_judge_mode():
    with pytest.raises(ValueError):
        judge([], "median", 30)


DOC = {
    "kode_kab": BANGLI, "effective_from": "2026-07-01T00:00:00+08:00",
    "reference": "Perbup Bangli (contoh)",
    "default": {"start": "received", "limit_min": 120, "judge": "each", "ack_min": 10},
    "rules": [
        {"agency": "DAMKAR", "categories": ["fire"], "start": "received", "limit_min": 15},
        {"kind": "public_service", "start": "notified", "limit_min": 2880, "ack_min": 60},
        {"agency": "PSC119", "limit_min": 30, "judge": "p90"},
    ],
}


def parse(doc):
    return parse_rule_set(doc, categories=category_kinds(CONFIG),
                          agencies={a.code for a in CONFIG.region(BANGLI).agencies})


def test_document_round_trip_and_specificity():
    rs = parse(DOC)
    assert rs.effective_from == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
    assert parse(rs.as_document()) == rs
    assert rs.rule_for("PSC119", "medical", "emergency").judge == "p90"
    # agency beats kind: PSC119 on a complaint keeps its own rule
    assert rs.rule_for("PSC119", "public_order", "public_service").limit_min == 30
    assert rs.rule_for("DINSOS", "social_welfare", "public_service").limit_min == 2880
    assert rs.rule_for("BPBD", "fire", "emergency").limit_min == 120


def test_every_problem_is_listed_at_once():
    bad = dict(DOC, effective_from="2026-07-01", colour="red", default={"limit_min": -1},
               rules=[{"agency": "NASA", "limit_min": 5},
                      {"categories": ["fire"], "kind": "emergency", "limit_min": 5},
                      {"categories": ["volcano"], "limit_min": "soon", "start": "called"},
                      {"agency": "DAMKAR", "limit_min": 5},
                      {"agency": "DAMKAR", "limit_min": 6}])
    with pytest.raises(SlaRuleError) as err:
        parse(bad)
    text = " | ".join(err.value.problems)
    for needle in ("colour", "effective_from", "default.limit_min", "rules[0].agency",
                   "rules[1]: pilih categories atau kind", "rules[2].categories",
                   "rules[2].limit_min", "rules[2].start", "rules[4]: sama dengan"):
        assert needle in text, needle
    assert "nothing was stored" in str(err.value)


def test_naive_or_wrong_regency_documents_are_refused():
    with pytest.raises(SlaRuleError, match="zona waktu"):
        parse(dict(DOC, effective_from="2026-07-01T00:00:00"))
    with pytest.raises(SlaRuleError, match="bukan 34.71"):
        parse_rule_set(DOC, kode_kab=YOGYA)
    with pytest.raises(SlaRuleError):
        parse_rule_set(["not", "a", "mapping"])


def test_incident_judged_by_the_rule_in_force_when_received():
    v1 = RuleSet(BANGLI, datetime(2000, 1, 1, tzinfo=UTC), SlaRuleSpec(120, "received"),
                 version=1)
    v2 = RuleSet(BANGLI, datetime(2026, 7, 1, tzinfo=UTC), SlaRuleSpec(90, "received"),
                 version=2)
    v3 = RuleSet(BANGLI, datetime(2026, 7, 1, tzinfo=UTC), SlaRuleSpec(60, "received"),
                 version=3)  # a correction of v2 with the same date supersedes it
    assert in_force([v1, v2, v3], datetime(2026, 6, 30, 23, 59, tzinfo=UTC)) is v1
    assert in_force([v3, v2, v1], datetime(2026, 7, 1, tzinfo=UTC)) is v3
    assert in_force([v2], datetime(2026, 1, 1, tzinfo=UTC)) is None


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=3),
    max_leaves=12)
_keys = st.sampled_from(["kode_kab", "effective_from", "default", "rules", "reference",
                         "version", "agency", "limit_min", "start", "judge", "kind"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6), st.dictionaries(_keys, _values, max_size=4))
def test_parse_never_raises_anything_but_sla_rule_error(doc, default):
    doc = dict(doc)
    if "default" not in doc:
        doc["default"] = default
    try:
        parse(doc)
    except SlaRuleError as exc:
        assert exc.problems
