"""The drill readiness report (no I/O): real delays are converted to scenario seconds with the
clock's and the fleet's speed-ups, each expected outcome is judged, and the Markdown says it in
Bahasa Indonesia and English; hand-offs are not reported as missed acknowledgements."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from api.drill_report import build_report, render_markdown
from api.drill_runner import CallRun, fleet_speedup, write_links
from dispatch.drill_scenario import parse_scenario

SCENARIO = parse_scenario({
    "version": 1, "name": "Uji", "name_en": "Test", "kode_kab": "51.06",
    "calls": [{"id": "a", "category": "fire", "lon": 115.36, "lat": -8.45}],
    "desks": [{"call": "a", "agency": "DAMKAR", "ack_after_s": 30},
              {"call": "a", "agency": "PSC119", "ack_after_s": None}],
    "expect": [{"call": "a", "agency": "DAMKAR", "acknowledged_within_s": 60},
               {"call": "a", "agency": "PSC119", "acknowledged_within_s": 120},
               {"call": "a", "unit": "U1", "arrives_within_s": 300},
               {"call": "a", "agency": "DAMKAR", "sla_met": True}]})
DETAIL = {
    "agencies": [
        {"agency": "DAMKAR", "role": "dispatch", "ack_min": 2, "on_scene_min": 15,
         "notified_at": "2026-09-01T02:00:00Z", "acknowledged_at": "2026-09-01T02:00:00.5Z"},
        {"agency": "PSC119", "role": "standby", "ack_min": 10, "on_scene_min": 120,
         "notified_at": "2026-09-01T02:00:00Z", "acknowledged_at": None},
        {"agency": "POLRI110", "role": "handoff", "ack_min": 5, "on_scene_min": 30,
         "notified_at": "2026-09-01T02:00:00Z", "acknowledged_at": None, "handoff_ref": None}],
    "assignments": [{"id": 7, "dispatched_at": "2026-09-01T02:00:00Z",
                     "arrived_at": "2026-09-01T02:00:20Z", "arrival_source": "gps"}]}


def _report():
    run = CallRun(incident_id=11, assignments={"U1": 7}, agency_of={"U1": "DAMKAR"})
    return build_report(SCENARIO, details={"a": DETAIL}, calls={"a": run}, speed=60,
                        fleet_speedup=5.0, exercise={"id": 3},
                        started_at=datetime(2026, 9, 1, 2, tzinfo=UTC), failures=[])


def test_times_in_scenario_seconds_and_verdicts():
    r = _report()
    by = {(o.kind, o.agency or o.unit): o for o in r.outcomes}
    assert by[("acknowledged", "DAMKAR")].measured_s == 30.0  # 0.5 s real x 60
    assert by[("acknowledged", "DAMKAR")].met
    assert not by[("acknowledged", "PSC119")].met
    assert by[("arrives", "U1")].measured_s == 100.0 and by[("arrives", "U1")].met  # 20 x 5
    assert by[("sla_met", "DAMKAR")].met
    assert (r.met, r.not_met, r.exercise_id) == (3, 1, 3)
    [call] = r.calls
    assert [(a.agency, a.acknowledged_after_s, a.late) for a in call.agencies] == [
        ("DAMKAR", 30.0, False), ("PSC119", None, False), ("POLRI110", None, False)]


def test_json_form_keeps_the_file_format():
    out = _report().as_dict()
    assert (out["met"], out["not_met"], out["exercise_id"]) == (3, 1, 3)
    assert out["started_at"] == "2026-09-01T02:00:00+00:00"
    assert out["calls"][0]["units"] == [{"unit": "U1", "agency": "DAMKAR",
                                         "arrived_after_s": 100.0, "arrival_source": "gps"}]
    assert {o["kind"] for o in out["outcomes"]} == {"acknowledged", "arrives", "sla_met"}
    assert json.loads(json.dumps(out)) == out


def test_markdown_is_bilingual_and_names_what_failed():
    md = render_markdown(_report())
    assert md.startswith("# Laporan kesiapan latihan / Drill readiness report — Uji")
    assert "**3 terpenuhi / met, 1 tidak terpenuhi / not met**" in md
    assert "PSC119 menerima tugas dalam 120 dtk (a) | PSC119 acknowledges within 120 s" in md
    assert "OPD PSC119 (standby): tidak menerima / not acknowledged" in md
    assert "POLRI110 (handoff): serah terima / hand-off" in md and "POLRI110 (handoff): tidak" \
        not in md
    assert "Unit U1 (DAMKAR): tiba / arrived after 100 s (gps)" in md


def test_fleet_speedup_keeps_fixes_plausible(tmp_path):
    assert fleet_speedup(1) == 1 and fleet_speedup(3) == 3
    assert 12.5 * fleet_speedup(600) <= 70  # below tracking's 90 m/s jump limit
    n = write_links(tmp_path / "l.csv", {"d1": (115.35, -8.46), "d2": (115.36, -8.44)},
                    [(115.359, -8.456)])
    assert n == 4  # two units x one scene, both ways
    header, *rows = (tmp_path / "l.csv").read_text().splitlines()
    assert header == "u,v,u_lon,u_lat,v_lon,v_lat,length_m,travel_s"
    length, travel = (float(x) for x in rows[0].split(",")[-2:])
    assert abs(length / travel - 12.5) < 0.1
