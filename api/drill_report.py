"""The readiness report of a drill run: JSON and Markdown, Bahasa Indonesia + English.

Measured times are in scenario seconds: an acknowledgement delay is the real delay times the
clock's speed-up; a drive is the real drive time times the fleet's speed-up (see
``docs/drills.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispatch.drill_scenario import Scenario, judge


def _t(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _seconds(a: str | None, b: str | None, factor: float) -> float | None:
    ta, tb = _t(a), _t(b)
    return None if ta is None or tb is None else round((tb - ta).total_seconds() * factor, 1)


def build_report(scenario: Scenario, *, details: dict[str, dict | None], calls: dict[str, Any],
                 speed: float, fleet_speedup: float, exercise: dict, started_at: datetime,
                 failures: list[str]) -> dict[str, Any]:
    """Measure every call's agencies and units, then judge every expected outcome."""
    ack_s: dict[tuple[str, str], float | None] = {}
    arrival_s: dict[tuple[str, str], float | None] = {}
    agency_arrival_s: dict[tuple[str, str], float | None] = {}
    limit_s: dict[tuple[str, str], float] = {}
    out_calls = []
    for call in scenario.calls:
        detail, run = details.get(call.id), calls[call.id]
        entry: dict[str, Any] = {"call": call.id, "category": call.category,
                                 "incident_id": run.incident_id, "agencies": [], "units": []}
        for a in (detail or {}).get("agencies", []):
            got = _seconds(a.get("notified_at"), a.get("acknowledged_at"), speed)
            ack_s[(call.id, a["agency"])] = got
            limit_s[(call.id, a["agency"])] = float(a["on_scene_min"]) * 60
            entry["agencies"].append({"agency": a["agency"], "role": a["role"],
                                      "acknowledged_after_s": got,
                                      "handoff_ref": a.get("handoff_ref"),
                                      "ack_limit_s": float(a["ack_min"]) * 60})
        sign_of = {v: k for k, v in run.assignments.items()}
        for a in (detail or {}).get("assignments", []):
            sign = sign_of.get(a["id"], a.get("call_sign", "?"))
            got = _seconds(a.get("dispatched_at"), a.get("arrived_at"), fleet_speedup)
            arrival_s[(call.id, sign)] = got
            agency = run.agency_of.get(sign)
            if agency is not None and got is not None:
                best = agency_arrival_s.get((call.id, agency))
                agency_arrival_s[(call.id, agency)] = got if best is None else min(best, got)
            entry["units"].append({"unit": sign, "agency": agency, "arrived_after_s": got,
                                   "arrival_source": a.get("arrival_source")})
        out_calls.append(entry)
    verdicts = [judge(e, ack_s=ack_s, arrival_s=arrival_s, agency_arrival_s=agency_arrival_s,
                      on_scene_limit_s=limit_s) for e in scenario.expect]
    outcomes = [{"call": v.expectation.call, "kind": v.expectation.kind,
                 "agency": v.expectation.agency, "unit": v.expectation.unit,
                 "within_s": v.expectation.within_s, "met": v.met,
                 "measured_s": v.measured_s, "note": v.note,
                 "expected_id": v.expectation.label[0], "expected_en": v.expectation.label[1]}
                for v in verdicts]
    return {"scenario": scenario.name, "scenario_en": scenario.name_en,
            "kode_kab": scenario.kode_kab, "exercise_id": exercise.get("id"),
            "started_at": started_at.isoformat(), "speed": speed,
            "fleet_speedup": round(fleet_speedup, 2), "calls": out_calls,
            "outcomes": outcomes, "met": sum(o["met"] for o in outcomes),
            "not_met": sum(not o["met"] for o in outcomes), "failures": failures}


def _fmt(s: float | None) -> str:
    return "—" if s is None else f"{s:.0f} s"


def render_markdown(report: dict[str, Any]) -> str:
    """The report for people: expected outcomes first, then what each OPD and unit did."""
    lines = [f"# Laporan kesiapan latihan / Drill readiness report — {report['scenario']}",
             "", f"*{report['scenario_en']}* · wilayah / region {report['kode_kab']} · "
             f"latihan / exercise #{report['exercise_id']} · {report['started_at']}",
             "", f"Percepatan waktu / time compression: x{report['speed']:g} "
             f"(armada / fleet x{report['fleet_speedup']:g}); waktu dalam detik skenario / "
             "times in scenario seconds.", "",
             f"**{report['met']} terpenuhi / met, {report['not_met']} tidak terpenuhi / not met**",
             "", "## Hasil yang diharapkan / Expected outcomes", "",
             "| | Harapan | Expected | Terukur / measured | Catatan / note |",
             "|---|---|---|---|---|"]
    for o in report["outcomes"]:
        mark = "✅ terpenuhi / met" if o["met"] else "❌ tidak / not met"
        lines.append(f"| {mark} | {o['expected_id']} | {o['expected_en']} | "
                     f"{_fmt(o['measured_s'])} | {o['note']} |")
    lines += ["", "## Per panggilan / Per call", ""]
    for c in report["calls"]:
        lines.append(f"### {c['call']} — {c['category']} (insiden / incident "
                     f"#{c['incident_id']})")
        for a in c["agencies"]:
            if a["role"] == "handoff":  # an external line: handed over, never acknowledged here
                ref = a["handoff_ref"] or "belum dicatat / not recorded"
                lines.append(f"- {a['agency']} (handoff): serah terima / hand-off {ref}")
                continue
            state = ("menerima / acknowledged after " + _fmt(a["acknowledged_after_s"])
                     if a["acknowledged_after_s"] is not None
                     else "tidak menerima / not acknowledged")
            late = (a["acknowledged_after_s"] is not None
                    and a["acknowledged_after_s"] > a["ack_limit_s"])
            lines.append(f"- OPD {a['agency']} ({a['role']}): {state}"
                         + (" — terlambat / late" if late else ""))
        for u in c["units"]:
            state = ("tiba / arrived after " + _fmt(u["arrived_after_s"])
                     + f" ({u['arrival_source']})" if u["arrived_after_s"] is not None
                     else "tidak tiba / did not arrive")
            lines.append(f"- Unit {u['unit']} ({u['agency']}): {state}")
        lines.append("")
    if report["failures"]:
        lines += ["## Gagal dijalankan / Steps that failed", ""]
        lines += [f"- {f}" for f in report["failures"]] + [""]
    return "\n".join(lines)
