"""Drill scenarios (pure): the packaged example parses, every problem of a bad file is listed,
arbitrary documents only ever raise ScenarioError, and the verdicts follow the measured times."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dispatch.drill_scenario import Expectation, ScenarioError, judge, parse_scenario

EXAMPLE = Path(__file__).resolve().parents[3] / "dispatch" / "data" / "drills" / "bangli.yaml"


def _doc(**over):
    doc = {"version": 1, "name": "Uji", "kode_kab": "51.06",
           "calls": [{"id": "a", "at_s": 0, "category": "fire", "lon": 115.36, "lat": -8.45}],
           "desks": [{"call": "a", "agency": "DAMKAR", "ack_after_s": 30}],
           "expect": [{"call": "a", "agency": "DAMKAR", "acknowledged_within_s": 60}]}
    return doc | over


def test_packaged_bangli_example_parses():
    s = parse_scenario(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    assert s.kode_kab == "51.06" and [c.id for c in s.calls] == ["kebakaran", "kecelakaan"]
    assert s.call("kebakaran").units == {"DAMKAR": "BLI-DAMKAR-01"}
    assert [d.ack_after_s for d in s.desks] == [30, 60, 45, None]
    assert [e.kind for e in s.expect] == ["acknowledged", "acknowledged", "arrives", "sla_met",
                                          "acknowledged", "arrives"]
    assert s.duration_s == 105  # the accident at 60 s, its PSC 119 desk 45 s later


def test_every_problem_is_listed():
    bad = _doc(version=2, kode_kab="5106",
               calls=[{"id": "a", "category": "fire"}, {"id": "a", "lon": 1, "lat": 2}],
               desks=[{"call": "zz", "agency": "X", "ack_after_s": -1}],
               expect=[{"call": "a", "agency": "X"},
                       {"call": "a", "unit": "U", "arrives_within_s": 5, "sla_met": True},
                       {"call": "a", "arrives_within_s": 5}])
    with pytest.raises(ScenarioError) as err:
        parse_scenario(bad)
    text = "; ".join(err.value.problems)
    for needle in ("version", "kode_kab", "give lon/lat or place", "calls[1].category",
                   "ids must be unique", "unknown call 'zz'", "ack_after_s", "exactly one",
                   "unit: required"):
        assert needle in text, needle
    assert "Skenario latihan tidak sah / invalid drill scenario" in str(err.value)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                     | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=20)


@given(doc=_json | st.builds(lambda c, e: _doc(calls=c, expect=e), _json, _json))
def test_any_document_parses_or_raises_scenario_error(doc):
    try:
        s = parse_scenario(doc)
    except ScenarioError as exc:
        assert exc.problems
        return
    times = [c.at_s for c in s.calls] + [d.ack_after_s or 0 for d in s.desks]
    assert all(math.isfinite(t) and t >= 0 for t in times)  # a parsed scenario can be played
    assert all(c.place is None or isinstance(c.place, str) for c in s.calls)


@given(item=st.dictionaries(st.sampled_from(["call", "agency", "unit", "acknowledged_within_s",
                                             "arrives_within_s", "sla_met", "ack_after_s"]),
                            _json, max_size=6))
def test_any_desk_or_expectation_parses_or_raises_scenario_error(item):
    for doc in (_doc(expect=[item]), _doc(desks=[item])):
        try:
            parse_scenario(doc)
        except ScenarioError as exc:
            assert exc.problems


def test_non_finite_or_out_of_range_numbers_are_refused():
    for bad in (float("nan"), float("inf"), -1):
        with pytest.raises(ScenarioError):
            parse_scenario(_doc(calls=[{"id": "a", "at_s": bad, "category": "fire",
                                        "place": "Kawan"}]))
    with pytest.raises(ScenarioError):
        parse_scenario(_doc(calls=[{"id": "a", "category": "fire", "lon": 200, "lat": 0}]))


def test_verdicts_follow_the_measured_times():
    ack = Expectation("a", "acknowledged", agency="PSC119", within_s=120)
    arr = Expectation("a", "arrives", unit="U1", within_s=600)
    sla = Expectation("a", "sla_met", agency="DAMKAR")
    data = {"ack_s": {("a", "PSC119"): 90.0}, "arrival_s": {("a", "U1"): 700.0},
            "agency_arrival_s": {("a", "DAMKAR"): 700.0},
            "on_scene_limit_s": {("a", "DAMKAR"): 900.0}}
    assert judge(ack, **data).met and judge(ack, **data).measured_s == 90.0
    late = judge(arr, **data)
    assert not late.met and late.measured_s == 700.0
    assert judge(sla, **data).met  # 700 s within the 15-minute SLA
    silent = judge(ack, **(data | {"ack_s": {}}))
    assert not silent.met and silent.measured_s is None and "never" in silent.note
    outsider = judge(Expectation("a", "sla_met", agency="BPBD"), **data)
    assert not outsider.met and "not part" in outsider.note
    assert ack.label[0].startswith("PSC119 menerima") and "acknowledges" in ack.label[1]
