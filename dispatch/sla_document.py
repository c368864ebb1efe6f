"""The SLA report document (pure): what :func:`dispatch.report_service.sla_report` returns, typed,
and its JSON form (the reply of ``GET /api/v1/reports/sla``, ``SlaReportOut``).

The monthly report (:mod:`dispatch.reporting`) reads the typed fields; only the API turns the
document into JSON with :meth:`SlaDocument.as_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from dispatch.sla import SlaSummary
from dispatch.sla_breakdown import AgencySections, BreakdownRow, PerbupSummary, SegmentSummary
from dispatch.timestamp import iso_utc

#: A summary of one segment: the on-scene and acknowledgement clocks, a standard segment, or
#: the Perbup judgement.
Summary = SlaSummary | SegmentSummary | PerbupSummary

PERCENTILE_METHOD = "nearest-rank"


@dataclass(frozen=True)
class RuleVersionRef:
    """A version of the regency's SLA rules that judged records of the period."""

    version: int | None
    effective_from: datetime
    reference: str | None


@dataclass(frozen=True)
class AgencyEntry:
    """One agency's part of the report: on-scene and acknowledgement summaries, and (when it
    has judged records) the Perbup judgement, the standard segments and the per-rule
    verdicts."""

    agency: str
    name: str
    on_scene: SlaSummary
    acknowledgement: SlaSummary
    sections: AgencySections | None = None

    def summaries(self) -> dict[str, Summary]:
        """The segment summaries in report order (call processing, acknowledgement, turnout,
        travel, on scene, total response, Perbup), those the entry has."""
        s = self.sections
        if s is None:
            return {"acknowledgement": self.acknowledgement, "on_scene": self.on_scene}
        return {"call_processing": s.call_processing, "acknowledgement": self.acknowledgement,
                "turnout": s.turnout, "travel": s.travel, "on_scene": self.on_scene,
                "total_response": s.total_response, "perbup": s.perbup}

    def as_dict(self) -> dict[str, Any]:
        out = {"agency": self.agency, "name": self.name,
               "on_scene": summary_dict(self.on_scene),
               "acknowledgement": summary_dict(self.acknowledgement)}
        return out if self.sections is None else out | asdict(self.sections)


@dataclass(frozen=True)
class SlaDocument:
    """The SLA report of one regency for incidents received in ``[start, end)``, evaluated at
    ``evaluated_at``; months of the breakdowns are in ``timezone``."""

    kode_kab: str
    start: datetime
    end: datetime
    evaluated_at: datetime
    agencies: list[AgencyEntry]
    breakdown: list[BreakdownRow] = field(default_factory=list)
    breakdown_desa: list[BreakdownRow] = field(default_factory=list)
    drills_excluded: int = 0
    include_drills: bool = False
    timezone: str = "UTC"
    rule_versions: list[RuleVersionRef] = field(default_factory=list)

    def agency(self, code: str) -> AgencyEntry | None:
        return next((a for a in self.agencies if a.agency == code), None)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (timestamps as :func:`iso_utc`)."""
        return {"kode_kab": self.kode_kab, "from": iso_utc(self.start), "to": iso_utc(self.end),
                "evaluated_at": iso_utc(self.evaluated_at),
                "percentile_method": PERCENTILE_METHOD,
                "agencies": [a.as_dict() for a in self.agencies],
                "breakdown": [asdict(r) for r in self.breakdown],
                "breakdown_desa": [asdict(r) for r in self.breakdown_desa],
                "drills_excluded": self.drills_excluded, "include_drills": self.include_drills,
                "timezone": self.timezone,
                "rule_versions": [{"version": v.version,
                                   "effective_from": iso_utc(v.effective_from),
                                   "reference": v.reference} for v in self.rule_versions]}


def summary_dict(s: SlaSummary) -> dict[str, Any]:
    """The JSON form of an on-scene or acknowledgement summary (with its compliance)."""
    return {"count": s.count, "met": s.met, "breached": s.breached, "pending": s.pending,
            "mean_response_s": s.mean_response_s, "p90_response_s": s.p90_response_s,
            "compliance_pct": s.compliance_pct}
