"""Drill scenarios (latihan): the YAML format, its validation and the readiness verdicts (pure).

A scenario scripts one exercise in one regency, in **scenario seconds** from its start::

    version: 1
    name: Latihan gabungan Bangli            # Bahasa Indonesia
    name_en: Bangli joint drill              # English
    kode_kab: "51.06"
    calls:                                   # 112 calls, at offsets
      - {id: fire, at_s: 0, category: fire, lon: 115.359, lat: -8.456,
         description: "...", units: {DAMKAR: BLI-DAMKAR-01}}   # units: optional choice per OPD
    desks:                                   # scripted OPD desks: acknowledge after a delay
      - {call: fire, agency: DAMKAR, ack_after_s: 45}          # null: the desk never answers
    expect:                                  # expected outcomes, each met or not met
      - {call: fire, agency: PSC119, acknowledged_within_s: 120}
      - {call: fire, unit: BLI-DAMKAR-01, arrives_within_s: 900}
      - {call: fire, agency: DAMKAR, sla_met: true}

A call gives ``lon``/``lat`` or a ``place`` name. The verdicts are computed from measured times
already converted to scenario seconds (see ``docs/drills.md`` for the time compression).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatch.exceptions import DispatchValidationError

SCENARIO_VERSION = 1
_CALL_KEYS = {"id", "at_s", "category", "lon", "lat", "place", "description", "units"}
_DESK_KEYS = {"call", "agency", "ack_after_s"}
_EXPECT_KEYS = {"call", "agency", "unit", "acknowledged_within_s", "arrives_within_s", "sla_met"}


class ScenarioError(DispatchValidationError):
    """A drill scenario file that does not follow the format (every problem listed)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Skenario latihan tidak sah / invalid drill scenario: "
                         + "; ".join(problems))


@dataclass(frozen=True)
class Call:
    id: str
    at_s: float
    category: str
    lon: float | None = None
    lat: float | None = None
    place: str | None = None
    description: str = ""
    units: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Desk:
    call: str
    agency: str
    ack_after_s: float | None


@dataclass(frozen=True)
class Expectation:
    """One expected outcome: ``kind`` is ``acknowledged``, ``arrives`` or ``sla_met``."""

    call: str
    kind: str
    agency: str | None = None
    unit: str | None = None
    within_s: float | None = None

    @property
    def label(self) -> tuple[str, str]:
        """(Bahasa Indonesia, English) description of what is expected."""
        who = self.unit or self.agency or "?"
        if self.kind == "acknowledged":
            return (f"{who} menerima tugas dalam {self.within_s:.0f} dtk ({self.call})",
                    f"{who} acknowledges within {self.within_s:.0f} s ({self.call})")
        if self.kind == "arrives":
            return (f"{who} tiba di lokasi dalam {self.within_s:.0f} dtk ({self.call})",
                    f"{who} arrives on scene within {self.within_s:.0f} s ({self.call})")
        return (f"SLA tiba {who} terpenuhi ({self.call})", f"{who} on-scene SLA met ({self.call})")


@dataclass(frozen=True)
class Scenario:
    name: str
    name_en: str
    kode_kab: str
    calls: tuple[Call, ...]
    desks: tuple[Desk, ...]
    expect: tuple[Expectation, ...]

    def call(self, call_id: str) -> Call:
        return next(c for c in self.calls if c.id == call_id)

    @property
    def duration_s(self) -> float:
        """Scenario seconds until the last scripted action."""
        ends = [c.at_s for c in self.calls]
        ends += [self.call(d.call).at_s + d.ack_after_s for d in self.desks
                 if d.ack_after_s is not None]
        return max(ends, default=0.0)


def _number(value: Any, where: str, problems: list[str], *, minimum: float = 0.0,
            maximum: float = 1e9) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or not minimum <= value <= maximum):
        problems.append(f"{where}: must be a number in {minimum:g}..{maximum:g}")
        return 0.0
    return float(value)


def _unknown(item: Mapping, allowed: set[str], where: str, problems: list[str]) -> None:
    extra = sorted(set(item) - allowed)
    if extra:
        problems.append(f"{where}: unknown field(s) {extra}")


def _call(i: int, item: Any, problems: list[str]) -> Call | None:
    where = f"calls[{i}]"
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping")
        return None
    _unknown(item, _CALL_KEYS, where, problems)
    if not isinstance(item.get("id"), str) or not item.get("id"):
        problems.append(f"{where}.id: required text")
    if not isinstance(item.get("category"), str) or not item.get("category"):
        problems.append(f"{where}.category: required text")
    has_point = "lon" in item or "lat" in item
    if has_point:
        lon = _number(item.get("lon"), f"{where}.lon", problems, minimum=-180, maximum=180)
        lat = _number(item.get("lat"), f"{where}.lat", problems, minimum=-90, maximum=90)
    if not has_point and not item.get("place"):
        problems.append(f"{where}: give lon/lat or place")
    for key in ("place", "description"):
        if item.get(key) is not None and not isinstance(item[key], str):
            problems.append(f"{where}.{key}: must be text")
    units = item.get("units") or {}
    if not isinstance(units, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in units.items()):
        problems.append(f"{where}.units: must map OPD code to call sign")
        units = {}
    return Call(id=str(item.get("id", "")), at_s=_number(item.get("at_s", 0), f"{where}.at_s",
                                                          problems),
                category=str(item.get("category", "")),
                lon=lon if has_point else None, lat=lat if has_point else None,
                place=item.get("place"), description=str(item.get("description", "")),
                units=dict(units))


def _expectation(i: int, item: Any, calls: set[str], problems: list[str]) -> Expectation | None:
    where = f"expect[{i}]"
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping")
        return None
    _unknown(item, _EXPECT_KEYS, where, problems)
    if not isinstance(item.get("call"), str) or item["call"] not in calls:
        problems.append(f"{where}.call: unknown call {item.get('call')!r}")
    kinds = [k for k in ("acknowledged_within_s", "arrives_within_s", "sla_met") if k in item]
    if len(kinds) != 1:
        problems.append(f"{where}: give exactly one of acknowledged_within_s, "
                        "arrives_within_s, sla_met")
        return None
    kind = kinds[0]
    within = None
    if kind != "sla_met":
        within = _number(item[kind], f"{where}.{kind}", problems)
    elif item[kind] is not True:
        problems.append(f"{where}.sla_met: must be true")
    if kind == "arrives_within_s" and not isinstance(item.get("unit"), str):
        problems.append(f"{where}.unit: required for arrives_within_s")
    if kind != "arrives_within_s" and not isinstance(item.get("agency"), str):
        problems.append(f"{where}.agency: required for {kind}")
    name = {"acknowledged_within_s": "acknowledged", "arrives_within_s": "arrives",
            "sla_met": "sla_met"}[kind]
    agency, unit = item.get("agency"), item.get("unit")
    return Expectation(call=str(item.get("call")), kind=name,
                       agency=agency if isinstance(agency, str) else None,
                       unit=unit if isinstance(unit, str) else None, within_s=within)


def parse_scenario(doc: Any) -> Scenario:
    """Validate a loaded YAML document; raises :class:`ScenarioError` listing every problem."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise ScenarioError(["the file must be a YAML mapping"])
    _unknown(doc, {"version", "name", "name_en", "kode_kab", "calls", "desks", "expect"},
             "scenario", problems)
    if doc.get("version") != SCENARIO_VERSION:
        problems.append(f"version: must be {SCENARIO_VERSION}")
    kode = doc.get("kode_kab")
    if not isinstance(kode, str) or len(kode) != 5 or kode[2] != ".":
        problems.append("kode_kab: a regency code like '51.06' (quoted)")
    raw_calls = doc.get("calls")
    if not isinstance(raw_calls, list) or not raw_calls:
        problems.append("calls: at least one call")
        raw_calls = []
    calls = [c for i, item in enumerate(raw_calls) if (c := _call(i, item, problems))]
    ids = [c.id for c in calls]
    if len(set(ids)) != len(ids):
        problems.append("calls: ids must be unique")
    raw_desks, raw_expect = doc.get("desks") or [], doc.get("expect") or []
    if not isinstance(raw_desks, list):
        problems.append("desks: must be a list")
        raw_desks = []
    if not isinstance(raw_expect, list):
        problems.append("expect: must be a list")
        raw_expect = []
    desks = []
    for i, item in enumerate(raw_desks):
        where = f"desks[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        _unknown(item, _DESK_KEYS, where, problems)
        if not isinstance(item.get("call"), str) or item["call"] not in ids:
            problems.append(f"{where}.call: unknown call {item.get('call')!r}")
        if not isinstance(item.get("agency"), str):
            problems.append(f"{where}.agency: required OPD code")
        delay = item.get("ack_after_s")
        desks.append(Desk(str(item.get("call")), str(item.get("agency")), None if delay is None
                          else _number(delay, f"{where}.ack_after_s", problems)))
    expect = [e for i, item in enumerate(raw_expect)
              if (e := _expectation(i, item, set(ids), problems))]
    if problems:
        raise ScenarioError(problems)
    return Scenario(name=str(doc.get("name", "")), name_en=str(doc.get("name_en", "")),
                    kode_kab=kode, calls=tuple(calls), desks=tuple(desks), expect=tuple(expect))


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    met: bool
    measured_s: float | None
    note: str = ""


def judge(e: Expectation, *, ack_s: Mapping[tuple[str, str], float | None],
          arrival_s: Mapping[tuple[str, str], float | None],
          agency_arrival_s: Mapping[tuple[str, str], float | None],
          on_scene_limit_s: Mapping[tuple[str, str], float]) -> Verdict:
    """The verdict of one expectation from measured scenario seconds, keyed by (call, agency)
    or (call, unit call sign); ``None`` = it never happened."""
    if e.kind == "acknowledged":
        got = ack_s.get((e.call, e.agency or ""))
        return Verdict(e, got is not None and got <= (e.within_s or 0), got,
                       "" if got is not None else "tidak menerima / never acknowledged")
    if e.kind == "arrives":
        got = arrival_s.get((e.call, e.unit or ""))
        return Verdict(e, got is not None and got <= (e.within_s or 0), got,
                       "" if got is not None else "tidak tiba / never arrived")
    got = agency_arrival_s.get((e.call, e.agency or ""))
    limit = on_scene_limit_s.get((e.call, e.agency or ""))
    if limit is None:
        return Verdict(e, False, got, "OPD tidak terlibat / agency not part of the call")
    return Verdict(e, got is not None and got <= limit, got,
                   f"batas / limit {limit:.0f} s" if got is not None
                   else "tidak tiba / never arrived")
