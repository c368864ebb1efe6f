"""The readiness report of a drill run: JSON and Markdown, Bahasa Indonesia + English.

Measured times are in scenario seconds: an acknowledgement delay is the real delay times the
clock's speed-up; a drive is the real drive time times the fleet's speed-up (see
``docs/drills.md``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from dispatch.drill_scenario import Scenario, judge


@dataclass(frozen=True)
class AgencyResult:
    """What one OPD did on one call (seconds in scenario time)."""

    agency: str
    role: str
    acknowledged_after_s: float | None
    handoff_ref: str | None
    ack_limit_s: float

    @property
    def late(self) -> bool:
        return self.acknowledged_after_s is not None and \
            self.acknowledged_after_s > self.ack_limit_s


@dataclass(frozen=True)
class UnitResult:
    """What one unit did on one call (seconds in scenario time)."""

    unit: str
    agency: str | None
    arrived_after_s: float | None
    arrival_source: str | None


@dataclass(frozen=True)
class CallResult:
    call: str
    category: str
    incident_id: int | None
    agencies: list[AgencyResult]
    units: list[UnitResult]


@dataclass(frozen=True)
class OutcomeResult:
    """One expected outcome of the scenario and its verdict."""

    call: str
    kind: str
    agency: str | None
    unit: str | None
    within_s: float | None
    met: bool
    measured_s: float | None
    note: str
    expected_id: str
    expected_en: str


@dataclass(frozen=True)
class DrillReport:
    """The readiness report of one drill run."""

    scenario: str
    scenario_en: str
    kode_kab: str
    exercise_id: int | None
    started_at: datetime
    speed: float
    fleet_speedup: float
    calls: list[CallResult]
    outcomes: list[OutcomeResult]
    failures: list[str]

    @property
    def met(self) -> int:
        return sum(o.met for o in self.outcomes)

    @property
    def not_met(self) -> int:
        return sum(not o.met for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form written beside the Markdown."""
        return {"scenario": self.scenario, "scenario_en": self.scenario_en,
                "kode_kab": self.kode_kab, "exercise_id": self.exercise_id,
                "started_at": self.started_at.isoformat(), "speed": self.speed,
                "fleet_speedup": self.fleet_speedup,
                "calls": [asdict(c) for c in self.calls],
                "outcomes": [asdict(o) for o in self.outcomes], "met": self.met,
                "not_met": self.not_met, "failures": list(self.failures)}


def _t(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _seconds(a: str | None, b: str | None, factor: float) -> float | None:
    ta, tb = _t(a), _t(b)
    return None if ta is None or tb is None else round((tb - ta).total_seconds() * factor, 1)


def build_report(scenario: Scenario, *, details: dict[str, dict | None], calls: dict[str, Any],
                 speed: float, fleet_speedup: float, exercise: dict, started_at: datetime,
                 failures: list[str]) -> DrillReport:
    """Measure every call's agencies and units from the incidents' API details, then judge
    every expected outcome."""
    ack_s: dict[tuple[str, str], float | None] = {}
    arrival_s: dict[tuple[str, str], float | None] = {}
    agency_arrival_s: dict[tuple[str, str], float | None] = {}
    limit_s: dict[tuple[str, str], float] = {}
    out_calls = []
    for call in scenario.calls:
        detail, run = details.get(call.id), calls[call.id]
        agencies, units = [], []
        for a in (detail or {}).get("agencies", []):  # the API's JSON (IncidentDetailOut)
            got = _seconds(a.get("notified_at"), a.get("acknowledged_at"), speed)
            ack_s[(call.id, a["agency"])] = got
            limit_s[(call.id, a["agency"])] = float(a["on_scene_min"]) * 60
            agencies.append(AgencyResult(a["agency"], a["role"], got, a.get("handoff_ref"),
                                         float(a["ack_min"]) * 60))
        sign_of = {v: k for k, v in run.assignments.items()}
        for a in (detail or {}).get("assignments", []):
            sign = sign_of.get(a["id"], a.get("call_sign", "?"))
            got = _seconds(a.get("dispatched_at"), a.get("arrived_at"), fleet_speedup)
            arrival_s[(call.id, sign)] = got
            agency = run.agency_of.get(sign)
            if agency is not None and got is not None:
                best = agency_arrival_s.get((call.id, agency))
                agency_arrival_s[(call.id, agency)] = got if best is None else min(best, got)
            units.append(UnitResult(sign, agency, got, a.get("arrival_source")))
        out_calls.append(CallResult(call.id, call.category, run.incident_id, agencies, units))
    verdicts = [judge(e, ack_s=ack_s, arrival_s=arrival_s, agency_arrival_s=agency_arrival_s,
                      on_scene_limit_s=limit_s) for e in scenario.expect]
    outcomes = [OutcomeResult(call=v.expectation.call, kind=v.expectation.kind,
                              agency=v.expectation.agency, unit=v.expectation.unit,
                              within_s=v.expectation.within_s, met=v.met,
                              measured_s=v.measured_s, note=v.note,
                              expected_id=v.expectation.label[0],
                              expected_en=v.expectation.label[1])
                for v in verdicts]
    return DrillReport(scenario=scenario.name, scenario_en=scenario.name_en,
                       kode_kab=scenario.kode_kab, exercise_id=exercise.get("id"),
                       started_at=started_at, speed=speed,
                       fleet_speedup=round(fleet_speedup, 2), calls=out_calls,
                       outcomes=outcomes, failures=list(failures))


def _fmt(s: float | None) -> str:
    return "—" if s is None else f"{s:.0f} s"


def render_markdown(report: DrillReport) -> str:
    """The report for people: expected outcomes first, then what each OPD and unit did."""
    r = report
    lines = [f"# Laporan kesiapan latihan / Drill readiness report — {r.scenario}",
             "", f"*{r.scenario_en}* · wilayah / region {r.kode_kab} · "
             f"latihan / exercise #{r.exercise_id} · {r.started_at.isoformat()}",
             "", f"Percepatan waktu / time compression: x{r.speed:g} "
             f"(armada / fleet x{r.fleet_speedup:g}); waktu dalam detik skenario / "
             "times in scenario seconds.", "",
             f"**{r.met} terpenuhi / met, {r.not_met} tidak terpenuhi / not met**",
             "", "## Hasil yang diharapkan / Expected outcomes", "",
             "| | Harapan | Expected | Terukur / measured | Catatan / note |",
             "|---|---|---|---|---|"]
    for o in r.outcomes:
        mark = "✅ terpenuhi / met" if o.met else "❌ tidak / not met"
        lines.append(f"| {mark} | {o.expected_id} | {o.expected_en} | "
                     f"{_fmt(o.measured_s)} | {o.note} |")
    lines += ["", "## Per panggilan / Per call", ""]
    for c in r.calls:
        lines.append(f"### {c.call} — {c.category} (insiden / incident #{c.incident_id})")
        for a in c.agencies:
            if a.role == "handoff":  # an external line: handed over, never acknowledged here
                ref = a.handoff_ref or "belum dicatat / not recorded"
                lines.append(f"- {a.agency} (handoff): serah terima / hand-off {ref}")
                continue
            state = ("menerima / acknowledged after " + _fmt(a.acknowledged_after_s)
                     if a.acknowledged_after_s is not None
                     else "tidak menerima / not acknowledged")
            lines.append(f"- OPD {a.agency} ({a.role}): {state}"
                         + (" — terlambat / late" if a.late else ""))
        for u in c.units:
            state = ("tiba / arrived after " + _fmt(u.arrived_after_s)
                     + f" ({u.arrival_source})" if u.arrived_after_s is not None
                     else "tidak tiba / did not arrive")
            lines.append(f"- Unit {u.unit} ({u.agency}): {state}")
        lines.append("")
    if r.failures:
        lines += ["## Gagal dijalankan / Steps that failed", ""]
        lines += [f"- {f}" for f in r.failures] + [""]
    return "\n".join(lines)
