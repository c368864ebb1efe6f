"""The SOP document format, which checklist applies to an incident, and its progress (pure)."""

from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dispatch.sop import (
    MAX_STEPS,
    SopError,
    SopStep,
    Tick,
    as_document,
    checklist,
    may_tick,
    parse_document,
    progress,
)
from dispatch.sop_service import DEFAULT_SOP_PATH

DOC = {"kode_kab": "51.06", "sops": [
    {"category": "landslide", "agency": "PUPR", "steps": [
        {"id": "Kirim alat berat", "en": "Send heavy equipment"}, "Periksa jalan"]},
    {"category": "landslide", "agency": "BPBD", "steps": ["Kaji cepat"]},
    {"category": "fire", "agency": "DAMKAR", "steps": ["Berangkatkan pemadam"]}]}
T = datetime(2026, 8, 17, 2, 0, tzinfo=UTC)


def test_parse_numbers_steps_per_category_and_agency():
    kode, steps = parse_document(DOC)
    assert kode == "51.06"
    assert [(s.category, s.agency, s.step_no, s.text, s.text_en) for s in steps] == [
        ("landslide", "PUPR", 1, "Kirim alat berat", "Send heavy equipment"),
        ("landslide", "PUPR", 2, "Periksa jalan", ""),
        ("landslide", "BPBD", 1, "Kaji cepat", ""),
        ("fire", "DAMKAR", 1, "Berangkatkan pemadam", "")]


def test_document_round_trips():
    kode, steps = parse_document(DOC)
    again = parse_document(yaml.safe_load(yaml.safe_dump(as_document(kode, steps))))
    assert again[0] == kode and set(again[1]) == set(steps)


def test_every_problem_is_listed_and_nothing_else_raises():
    bad = {"kode_kab": "5106", "extra": 1, "sops": [
        {"category": "volcano", "agency": "PUPR", "steps": ["x"]},
        {"category": "fire", "agency": "NASA", "steps": []},
        {"category": "fire", "agency": "DAMKAR", "steps": [{"id": ""}, {"id": "y", "zz": 1}]},
        {"category": "fire", "agency": "DAMKAR", "steps": ["again"]},
        "not a mapping",
        {"category": "fire", "agency": "BPBD", "steps": ["z"] * (MAX_STEPS + 1)}]}
    with pytest.raises(SopError) as err:
        parse_document(bad, categories={"fire", "landslide"}, agencies={"PUPR", "DAMKAR", "BPBD"})
    text = "; ".join(err.value.problems)
    for needle in ("unknown keys ['extra']", "kode_kab", "'volcano'", "'NASA'",
                   "sops[2].steps", "sops[3].steps[1].id", "unknown keys ['zz']",
                   "fire/DAMKAR ganda", "sops[5]: harus berupa objek", "over 50"):
        assert needle in text, needle
    assert len(err.value.problems) >= 10


def test_shipped_default_covers_the_common_categories_in_bahasa_indonesia():
    kode, steps = parse_document(yaml.safe_load(DEFAULT_SOP_PATH.read_text(encoding="utf-8")))
    assert kode is None
    pairs = {(s.category, s.agency) for s in steps}
    assert {("fire", "DAMKAR"), ("flood", "BPBD"), ("landslide", "PUPR"), ("landslide", "BPBD"),
            ("traffic_accident", "PSC119"), ("traffic_accident", "POLRI110"),
            ("medical", "PSC119")} <= pairs
    assert all(s.text and s.text_en for s in steps)
    heavy = [s.text for s in steps if s.key[:2] == ("landslide", "PUPR")]
    assert any("alat berat" in t for t in heavy)


def test_checklist_follows_the_incident_agencies_and_ticks():
    _, steps = parse_document(DOC)
    items = checklist(steps, "landslide", ["BPBD", "PUPR", "DISHUB"],
                      [Tick("landslide", "PUPR", 2, "op1", T), Tick("fire", "DAMKAR", 1, "x", T)])
    assert [(i.step.agency, i.step.step_no, i.done) for i in items] == [
        ("BPBD", 1, False), ("PUPR", 1, False), ("PUPR", 2, True)]
    assert items[2].tick.checked_by == "op1"
    p = progress(items)
    assert (p.done, p.total, p.complete) == (1, 3, False)
    assert checklist(steps, "medical", ["PSC119"]) == []
    assert progress([]).complete is False


def test_a_desk_ticks_only_its_own_agency():
    assert may_tick("PUPR", None) and may_tick("PUPR", "PUPR")
    assert not may_tick("BPBD", "PUPR")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(
                         ["kode_kab", "sops", "category", "agency", "steps", "id", "en", "x"]),
                         inner, max_size=4), max_leaves=20)


@given(_json)
def test_parse_never_raises_anything_but_sop_error(doc):
    try:
        kode, steps = parse_document(doc)
    except SopError as exc:
        assert exc.problems
    else:
        assert all(isinstance(s, SopStep) and s.step_no >= 1 and s.text for s in steps)
