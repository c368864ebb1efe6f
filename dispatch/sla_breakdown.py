"""The Perbup and segment sections of the SLA report, from plain records (pure; no I/O).

These are the fields :func:`dispatch.report_service.sla_report` adds to its output; they are a
stable, documented structure (dataclasses, turned into JSON by :func:`dataclasses.asdict`):

* per agency entry (beside the older ``on_scene`` and ``acknowledgement``):

  - ``perbup`` (:class:`PerbupSummary`): every agency record judged by the rule in force when
    its incident was received (clock from the report or from the notification, per rule);
  - ``call_processing``, ``turnout``, ``travel``, ``total_response`` (:class:`SegmentSummary`):
    the standard segments of :mod:`dispatch.segments`, of the agency's first arriving unit;
  - ``gps_verified_arrivals``: arrivals verified from the unit's tracker;
  - ``perbup_rules``: one :class:`RuleJudgement` per rule that judged records (each, mean or
    p90 as the rule says);

* ``breakdown`` (agency × category × kecamatan × month) and ``breakdown_desa`` (... × desa ×
  month), lists of :class:`BreakdownRow`.

Every time is in seconds; ``month`` is ``YYYY-MM`` in the regency's local time; percentiles are
nearest-rank. Records with no running clock (a rule counted from a notification that has not
happened) are counted nowhere in ``perbup``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from dispatch.judgement import judge, judge_response
from dispatch.perbup import SlaRuleSpec
from dispatch.segments import SEGMENTS, Segments, Timeline, segment_stats, segments
from dispatch.sla import SlaOutcome, summarize

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ResponseRecord:
    """One agency's part in one incident, with the rule in force when it was received."""

    incident_id: int
    agency: str
    category: str
    kind: str | None
    timeline: Timeline
    done_at: datetime | None
    rule: SlaRuleSpec
    rule_version: int | None
    month: str
    kode_kec: str | None = None
    nama_kec: str | None = None
    kode_desa: str | None = None
    nama_desa: str | None = None


@dataclass(frozen=True)
class SegmentSummary:
    """Measured responses of one segment: count, mean (SPM) and p90 (NFPA 1710)."""

    count: int
    mean_response_s: float | None
    p90_response_s: float | None


@dataclass(frozen=True)
class PerbupSummary:
    """Records judged by their rule: counts, and the statistics of the rule-clock times."""

    count: int
    met: int
    breached: int
    pending: int
    unfinished: int
    mean_response_s: float | None
    p90_response_s: float | None
    compliance_pct: float | None


@dataclass(frozen=True)
class RuleJudgement:
    """One rule's verdict over the records it judged (``compliant`` per its ``judge`` mode)."""

    version: int | None
    agency: str
    categories: list[str]
    kind: str | None
    start: str
    limit_min: float
    judge: str
    label: str
    count: int
    met: int
    breached: int
    pending: int
    unfinished: int
    mean_response_s: float | None
    p90_response_s: float | None
    judged_value_s: float | None
    compliant: bool | None
    compliance_pct: float | None


@dataclass(frozen=True)
class AgencySections:
    perbup: PerbupSummary
    call_processing: SegmentSummary
    turnout: SegmentSummary
    travel: SegmentSummary
    total_response: SegmentSummary
    gps_verified_arrivals: int
    perbup_rules: list[RuleJudgement] = field(default_factory=list)


@dataclass(frozen=True)
class BreakdownRow:
    agency: str
    category: str
    month: str
    kode_kec: str | None
    nama_kec: str | None
    kode_desa: str | None
    nama_desa: str | None
    perbup: PerbupSummary
    call_processing: SegmentSummary
    turnout: SegmentSummary
    travel: SegmentSummary
    total_response: SegmentSummary


@dataclass(frozen=True)
class _Judged:
    record: ResponseRecord
    segments: Segments
    outcome: SlaOutcome | None


def _judge_all(records: Iterable[ResponseRecord], now: datetime) -> list[_Judged]:
    return [_Judged(r, segments(r.timeline),
                    judge_response(r.rule, r.timeline.received_at, r.timeline.notified_at,
                                   r.done_at, now))
            for r in records]


def _perbup(items: Sequence[_Judged]) -> PerbupSummary:
    outcomes = [j.outcome for j in items if j.outcome is not None]
    s = summarize(outcomes)
    unfinished = sum(o.elapsed_s is None and o.status == "breached" for o in outcomes)
    return PerbupSummary(count=s.count, met=s.met, breached=s.breached, pending=s.pending,
                         unfinished=unfinished, mean_response_s=s.mean_response_s,
                         p90_response_s=s.p90_response_s, compliance_pct=s.compliance_pct)


def _segment(items: Sequence[_Judged], name: str) -> SegmentSummary:
    st = segment_stats(j.segments.get(name) for j in items)
    return SegmentSummary(st.count, st.mean_s, st.p90_s)


def _segment_fields(items: Sequence[_Judged]) -> dict[str, SegmentSummary]:
    return {name: _segment(items, name) for name in SEGMENTS}


def _rules(items: Sequence[_Judged]) -> list[RuleJudgement]:
    groups: dict[tuple[int | None, SlaRuleSpec], list[SlaOutcome]] = defaultdict(list)
    for j in items:
        if j.outcome is not None:
            groups[(j.record.rule_version, j.record.rule)].append(j.outcome)
    out = []
    for (version, rule), outcomes in sorted(groups.items(), key=lambda kv: (
            kv[0][0] or 0, -kv[0][1].specificity, kv[0][1].limit_min)):
        v = judge(outcomes, rule.judge, rule.limit_min)
        out.append(RuleJudgement(
            version=version, agency=rule.agency or "*", categories=list(rule.categories),
            kind=rule.kind, start=rule.start, limit_min=rule.limit_min, judge=rule.judge,
            label=rule.label, count=v.count, met=v.met, breached=v.breached, pending=v.pending,
            unfinished=v.unfinished, mean_response_s=v.mean_s, p90_response_s=v.p90_s,
            judged_value_s=v.judged_value_s, compliant=v.compliant,
            compliance_pct=v.compliance_pct))
    return out


def _group(items: Iterable[_Judged],
           key: Callable[[ResponseRecord], K]) -> dict[K, list[_Judged]]:
    groups: dict[K, list[_Judged]] = defaultdict(list)
    for j in items:
        groups[key(j.record)].append(j)
    return groups


def agency_sections(records: Iterable[ResponseRecord],
                    now: datetime) -> dict[str, AgencySections]:
    """Per agency code, the Perbup summary, the four segments and the per-rule verdicts."""
    out: dict[str, AgencySections] = {}
    for agency, items in sorted(_group(_judge_all(records, now), lambda r: r.agency).items()):
        out[agency] = AgencySections(
            perbup=_perbup(items), **_segment_fields(items),
            gps_verified_arrivals=sum(j.segments.gps_verified is True for j in items),
            perbup_rules=_rules(items))
    return out


def breakdown(records: Iterable[ResponseRecord], now: datetime, *,
              by_desa: bool = False) -> list[BreakdownRow]:
    """Rows per agency × category × kecamatan (× desa) × month, sorted by those keys."""
    def key(r: ResponseRecord) -> tuple[str, str, str, str, str, str, str]:
        return (r.agency, r.category, r.month, r.kode_kec or "", r.nama_kec or "",
                (r.kode_desa or "") if by_desa else "", (r.nama_desa or "") if by_desa else "")

    rows = []
    groups = _group(_judge_all(records, now), key)
    for k in sorted(groups):
        agency, category, month, kode_kec, nama_kec, kode_desa, nama_desa = k
        items = groups[k]
        rows.append(BreakdownRow(
            agency=agency, category=category, month=month, kode_kec=kode_kec or None,
            nama_kec=nama_kec or None, kode_desa=kode_desa or None,
            nama_desa=nama_desa or None, perbup=_perbup(items), **_segment_fields(items)))
    return rows
