"""The regency's Perbup SLA rule set: rules with their clock start, limit and judging (pure).

A regency (kabupaten/kota) sets its service levels by regent's regulation (Perbup). One rule
says, for an agency (or every agency) and a category (or a kind of incident, or everything):

* ``start``: which event starts its clock: ``received`` (the report reached the call centre)
  or ``notified`` (the agency was notified: its first unit dispatched, or the complaint
  forwarded);
* ``limit_min``: the limit in minutes until arrival on scene (for a forwarded complaint: until
  the OPD's follow-up is done);
* ``judge``: whether compliance is judged on each incident (``each``), on the average
  (``mean``, as the SPM reports) or on the 90th percentile (``p90``, as NFPA 1710 reports);
* ``ack_min``: minutes to acknowledge on the standby line (optional).

A rule set is versioned by its ``effective_from``: an incident is judged by the rule set in
force when it was received (:func:`in_force`). The document form (YAML or JSON)::

    kode_kab: "51.06"
    effective_from: 2026-01-01T00:00:00+08:00
    reference: Perbup Bangli ...
    default: {start: received, limit_min: 120, judge: each, ack_min: 10}
    rules:
      - {agency: DAMKAR, categories: [fire], start: received, limit_min: 15, judge: each}
      - {kind: public_service, start: notified, limit_min: 2880, judge: each, ack_min: 60}

:func:`parse_rule_set` validates a whole document and lists every problem at once
(:class:`~dispatch.exceptions.SlaRuleError`); nothing half-valid comes out of it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from dispatch.config import KINDS, DispatchConfig, SlaMinutes
from dispatch.exceptions import SlaRuleError
from dispatch.timestamp import iso_utc

START_RECEIVED, START_NOTIFIED = "received", "notified"
START_EVENTS = (START_RECEIVED, START_NOTIFIED)
JUDGE_EACH, JUDGE_MEAN, JUDGE_P90 = "each", "mean", "p90"
JUDGES = (JUDGE_EACH, JUDGE_MEAN, JUDGE_P90)
#: Longest limit accepted (a year): anything longer is a typo, not a service level.
MAX_LIMIT_MIN = 525_600.0
#: The date the packaged defaults are in force from (before any pilot data).
DEFAULT_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)

_RULE_KEYS = {"agency", "categories", "category", "kind", "start", "limit_min", "judge",
              "ack_min", "label"}
_DEFAULT_KEYS = {"start", "limit_min", "judge", "ack_min", "label"}
_DOC_KEYS = {"version", "kode_kab", "effective_from", "reference", "default", "rules"}


@dataclass(frozen=True)
class SlaRuleSpec:
    """One rule. ``agency`` ``None`` = every agency; no ``categories`` and no ``kind`` = all."""

    limit_min: float
    start: str = START_NOTIFIED
    judge: str = JUDGE_EACH
    agency: str | None = None
    categories: tuple[str, ...] = ()
    kind: str | None = None
    ack_min: float | None = None
    label: str = ""

    @property
    def specificity(self) -> int:
        """Agency beats category beats kind: agency+category 6, agency+kind 5, agency 4,
        category 2, kind 1, everything 0 (the order of :meth:`DispatchConfig.sla_for`)."""
        return ((4 if self.agency else 0) + (2 if self.categories else 0)
                + (1 if self.kind else 0))

    def matches(self, agency: str, category: str, kind: str | None) -> bool:
        return ((self.agency is None or self.agency == agency)
                and (not self.categories or category in self.categories)
                and (self.kind is None or self.kind == kind))

    @property
    def limit_s(self) -> float:
        return self.limit_min * 60.0

    def as_document(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.agency:
            out["agency"] = self.agency
        if self.categories:
            out["categories"] = list(self.categories)
        if self.kind:
            out["kind"] = self.kind
        out |= {"start": self.start, "limit_min": self.limit_min, "judge": self.judge}
        if self.ack_min is not None:
            out["ack_min"] = self.ack_min
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class RuleSet:
    """The rules of one regency from ``effective_from`` on (``version`` once stored)."""

    kode_kab: str
    effective_from: datetime
    default: SlaRuleSpec
    rules: tuple[SlaRuleSpec, ...] = ()
    reference: str = ""
    version: int | None = None

    def rule_for(self, agency: str, category: str, kind: str | None) -> SlaRuleSpec:
        """The most specific matching rule (the first one written wins a tie), else the
        default."""
        best = self.default
        for rule in self.rules:
            if rule.matches(agency, category, kind) and rule.specificity > best.specificity:
                best = rule
        return best

    def as_document(self) -> dict[str, Any]:
        """The document form (what :func:`parse_rule_set` reads back to an equal rule set)."""
        default = self.default.as_document()
        return {"version": 1, "kode_kab": self.kode_kab,
                "effective_from": iso_utc(self.effective_from),
                "reference": self.reference, "default": default,
                "rules": [r.as_document() for r in self.rules]}


def in_force(rule_sets: Iterable[RuleSet], at: datetime) -> RuleSet | None:
    """The rule set in force at ``at``: the latest ``effective_from`` not after ``at`` (the
    highest version among equal dates), ``None`` when none was in force yet."""
    best: RuleSet | None = None
    for rs in rule_sets:
        if rs.effective_from > at:
            continue
        key = (rs.effective_from, rs.version or 0)
        if best is None or key > (best.effective_from, best.version or 0):
            best = rs
    return best


# --- parsing and validation ----------------------------------------------------------------

def _number(value: Any, where: str, problems: list[str], *, required: bool) -> float | None:
    if value is None:
        if required:
            problems.append(f"{where}: wajib diisi / required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: harus berupa angka menit / must be a number of minutes")
        return None
    number = float(value)
    if not math.isfinite(number) or number <= 0 or number > MAX_LIMIT_MIN:
        problems.append(f"{where}: harus > 0 dan ≤ {MAX_LIMIT_MIN:g} menit / must be > 0 and "
                        f"≤ {MAX_LIMIT_MIN:g} minutes")
        return None
    return number


def _choice(value: Any, options: Sequence[str], default: str, where: str,
            problems: list[str]) -> str:
    if value is None:
        return default
    if value not in options:
        problems.append(f"{where}: {value!r} bukan salah satu dari / is not one of "
                        f"{', '.join(options)}")
        return default
    return str(value)


def _text(value: Any, where: str, problems: list[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 500:
        problems.append(f"{where}: harus teks ≤ 500 karakter / must be text of ≤ 500 characters")
        return ""
    return value


def _spec(d: Any, where: str, problems: list[str], *, is_default: bool,
          categories: Mapping[str, str] | None, agencies: Collection[str] | None
          ) -> SlaRuleSpec | None:
    if not isinstance(d, Mapping):
        problems.append(f"{where}: harus berupa mapping / must be a mapping")
        return None
    allowed = _DEFAULT_KEYS if is_default else _RULE_KEYS
    for key in sorted(set(map(str, d)) - allowed):
        problems.append(f"{where}.{key}: kunci tidak dikenal / unknown key")
    before = len(problems)
    limit = _number(d.get("limit_min"), f"{where}.limit_min", problems, required=True)
    ack = _number(d.get("ack_min"), f"{where}.ack_min", problems, required=False)
    start = _choice(d.get("start"), START_EVENTS, START_NOTIFIED, f"{where}.start", problems)
    judge = _choice(d.get("judge"), JUDGES, JUDGE_EACH, f"{where}.judge", problems)
    label = _text(d.get("label"), f"{where}.label", problems)
    agency: str | None = None
    cats: tuple[str, ...] = ()
    kind: str | None = None
    if not is_default:
        agency, cats, kind = _selector(d, where, problems, categories, agencies)
    if len(problems) > before or limit is None:
        return None
    return SlaRuleSpec(limit_min=limit, start=start, judge=judge, agency=agency,
                       categories=cats, kind=kind, ack_min=ack, label=label)


def _selector(d: Mapping[str, Any], where: str, problems: list[str],
              categories: Mapping[str, str] | None, agencies: Collection[str] | None
              ) -> tuple[str | None, tuple[str, ...], str | None]:
    agency = d.get("agency")
    if agency in (None, "*"):
        agency = None
    elif not isinstance(agency, str) or (agencies is not None and agency not in agencies):
        problems.append(f"{where}.agency: {agency!r} bukan OPD wilayah ini / is not an agency "
                        f"of this regency")
        agency = None
    raw = d.get("categories")
    if raw is None and d.get("category") is not None:
        raw = [d.get("category")]
    cats: tuple[str, ...] = ()
    if raw is not None:
        if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
            problems.append(f"{where}.categories: harus daftar kode kategori / must be a "
                            f"non-empty list of category codes")
        else:
            unknown = [c for c in raw if categories is not None and c not in categories]
            if unknown:
                problems.append(f"{where}.categories: kategori tidak dikenal / unknown "
                                f"categories {', '.join(unknown)}")
            cats = tuple(dict.fromkeys(raw))
    kind = d.get("kind")
    if kind is not None and kind not in KINDS:
        problems.append(f"{where}.kind: {kind!r} bukan salah satu dari / is not one of "
                        f"{', '.join(KINDS)}")
        kind = None
    if cats and kind is not None:
        problems.append(f"{where}: pilih categories atau kind, bukan keduanya / give categories "
                        f"or kind, not both")
    return agency, cats, kind


def _when(value: Any, where: str, problems: list[str]) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            value = None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = None  # a bare date has no time zone: say which midnight
    if not isinstance(value, datetime) or value.tzinfo is None:
        problems.append(f"{where}: tanggal-waktu ISO 8601 dengan zona waktu wajib / an ISO 8601 "
                        f"date-time with a time zone is required (e.g. 2026-01-01T00:00:00+08:00)")
        return None
    return value.astimezone(UTC)


def parse_rule_set(doc: Any, *, categories: Mapping[str, str] | None = None,
                   agencies: Collection[str] | None = None,
                   kode_kab: str | None = None) -> RuleSet:
    """Validate a whole rule-set document; raise :class:`SlaRuleError` listing every problem.

    ``categories`` (code → kind) and ``agencies`` (the regency's agency codes), when given,
    are checked against; ``kode_kab``, when given, must be the document's regency.
    """
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise SlaRuleError(["dokumen harus berupa mapping / the document must be a mapping"])
    for key in sorted(set(map(str, doc)) - _DOC_KEYS):
        problems.append(f"{key}: kunci tidak dikenal / unknown key")
    if doc.get("version", 1) != 1:
        problems.append("version: hanya versi format 1 / only format version 1 is known")
    kode = doc.get("kode_kab", kode_kab)
    if not isinstance(kode, str) or len(kode) != 5 or kode[2] != "." or not (
            kode[:2] + kode[3:]).isdigit():
        problems.append(f"kode_kab: {kode!r} bukan kode kabupaten/kota (contoh / e.g. 51.06)")
        kode = ""
    elif kode_kab is not None and kode != kode_kab:
        problems.append(f"kode_kab: dokumen untuk {kode}, bukan {kode_kab} / the document is "
                        f"for {kode}, not {kode_kab}")
    effective = _when(doc.get("effective_from"), "effective_from", problems)
    reference = _text(doc.get("reference"), "reference", problems)
    default = _spec(doc.get("default"), "default", problems, is_default=True,
                    categories=categories, agencies=agencies)
    raw_rules = doc.get("rules") or []
    if not isinstance(raw_rules, list):
        problems.append("rules: harus berupa daftar / must be a list")
        raw_rules = []
    rules: list[SlaRuleSpec] = []
    seen: dict[tuple[str | None, tuple[str, ...], str | None], int] = {}
    for n, raw in enumerate(raw_rules):
        spec = _spec(raw, f"rules[{n}]", problems, is_default=False, categories=categories,
                     agencies=agencies)
        if spec is None:
            continue
        selector = (spec.agency, tuple(sorted(spec.categories)), spec.kind)
        if selector in seen:
            problems.append(f"rules[{n}]: sama dengan / same selector as "
                            f"rules[{seen[selector]}]")
        seen[selector] = n
        rules.append(spec)
    if problems or default is None or effective is None:
        raise SlaRuleError(problems or ["default: wajib diisi / required"])
    return RuleSet(kode_kab=kode, effective_from=effective, default=default,
                   rules=tuple(rules), reference=reference)


# --- the packaged defaults -----------------------------------------------------------------

def _from_minutes(sla: SlaMinutes, **selector: Any) -> SlaRuleSpec:
    return SlaRuleSpec(limit_min=sla.on_scene_min, ack_min=sla.ack_min, start=sla.start,
                       judge=sla.judge, **selector)


def from_region_config(config: DispatchConfig, kode_kab: str,
                       effective_from: datetime = DEFAULT_EFFECTIVE_FROM) -> RuleSet:
    """The rule set equivalent to a region of the packaged ``agencies.yaml`` (the default seeded
    for the pilot regencies)."""
    region = config.region(kode_kab)
    rules = [_from_minutes(sla, kind=kind) for kind, sla in region.sla_by_kind.items()]
    rules += [_from_minutes(sla, agency=agency)
              for agency, sla in region.sla_by_agency.items()]
    by_minutes: dict[tuple[str, SlaMinutes], list[str]] = {}
    for (agency, category), sla in region.sla_rules.items():
        by_minutes.setdefault((agency, sla), []).append(category)
    rules += [_from_minutes(sla, agency=agency, categories=tuple(cats))
              for (agency, sla), cats in by_minutes.items()]
    return RuleSet(kode_kab=kode_kab, effective_from=effective_from,
                   default=_from_minutes(region.sla_default), rules=tuple(rules),
                   reference=region.note or "agencies.yaml")


def category_kinds(config: DispatchConfig) -> dict[str, str]:
    """Category code → kind, for :func:`parse_rule_set`."""
    return {code: rule.kind for code, rule in config.categories.items()}
