"""Response models of the incident, assignment, recommendation and report routes.

They type the JSON the dispatch serializers (``dispatch.schemas``, ``dispatch.report_service``,
``dispatch.recommend_service``, ``dispatch.verification``) already write; timestamps those
serializers render as text stay ``IsoTime`` strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas_geo import FeatureCollection, IsoTime
from dispatch.schemas import IncidentOut, LonLatOut
from dispatch.sla_breakdown import BreakdownRow, PerbupSummary, RuleJudgement, SegmentSummary

#: A quantity that may be written as an integer (from configuration) or a float.
Number = int | float


class IncidentAgencyOut(BaseModel):
    """One agency's part in an incident, with its SLA clocks and hand-off."""

    agency: str
    name: str
    kind: str
    role: str
    required: bool
    capabilities: list[str]
    units_required: int
    ack_min: Number
    on_scene_min: Number
    notified_at: IsoTime | None
    acknowledged_at: IsoTime | None
    acknowledged_by: str | None
    escalated_at: IsoTime | None
    escalation_count: int
    handoff_number: str | None
    handoff_ref: str | None
    handoff_at: IsoTime | None


class AssignmentSlaOut(BaseModel):
    """The on-scene SLA of one assignment (``met``, ``breached`` or ``pending``)."""

    status: str
    deadline: IsoTime
    response_s: Number | None
    on_scene_min: Number
    clock_started_at: IsoTime


class AssignmentOut(BaseModel):
    id: int
    incident_id: int
    unit_id: int
    agency_id: int
    kode_kab: str
    status: str
    dispatched_at: IsoTime | None
    dispatched_by: str | None
    acknowledged_at: IsoTime | None
    departed_at: IsoTime | None
    arrived_at: IsoTime | None
    cleared_at: IsoTime | None
    eta_s: Number | None
    distance_m: Number | None
    estimated: bool | None
    position_source: str | None
    arrival_source: str | None
    arrived_by: str | None
    evidence_digest: str | None
    sla: AssignmentSlaOut | None


class IncidentAssignmentOut(AssignmentOut):
    call_sign: str


class AuditOut(BaseModel):
    at: IsoTime
    actor: str
    entity: str
    entity_id: int | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class IncidentDetailOut(IncidentOut):
    """An incident with its agencies, assignments (with SLA) and audit timeline."""

    agencies: list[IncidentAgencyOut]
    assignments: list[IncidentAssignmentOut]
    timeline: list[AuditOut]


class RecommendedUnitOut(BaseModel):
    """One ranked unit: road ETA, or a straight-line estimate when ``estimated``."""

    unit_id: int
    call_sign: str
    agency_code: str
    status: str
    profile: str
    reachable: bool
    eta_s: Number | None
    distance_m: Number | None
    straight_line_m: Number | None
    estimated: bool
    position_source: str
    position: LonLatOut | None
    sla_can_be_met: bool | None
    reason: str | None
    rank: int
    eta_kind: Literal["road", "estimate"] | None = Field(
        None, description="road: road-network ETA; estimate: straight line x the profile's "
        "detour factor (no road network for the region/profile); null: no ETA (unreachable)")


class AgencyRecommendationOut(BaseModel):
    agency: str
    agency_name: str
    role: str
    capabilities: list[str]
    on_scene_min: Number
    units: list[RecommendedUnitOut]


class RecommendationsOut(BaseModel):
    incident_id: int
    agencies: list[AgencyRecommendationOut]


class DisagreementOut(BaseModel):
    """One way the assignment's arrival differs from an independent account of it."""

    field: str = Field(description="arrived_at, arrival_source, evidence_digest, outcome or "
                       "audit_entry")
    stored: str | int | None
    expected: str | int | None
    basis: Literal["positions", "audit_chain", "evidence"]
    message: str = Field(description="Bahasa Indonesia / English")


class ChainedArrivalOut(BaseModel):
    """The arrival as the audit hash chain recorded it."""

    arrived_at: IsoTime | None
    arrival_source: str | None
    evidence_digest: str | None


class EvidenceCheckOut(BaseModel):
    """The arrival recomputed from the stored positions with the recorded rule, the audit
    chain's record of it, and every disagreement with the assignment."""

    consistent: bool
    rule: dict[str, Number]
    recomputed_arrived_at: IsoTime | None
    audit: ChainedArrivalOut | None
    disagreements: list[DisagreementOut]


class EvidenceOut(BaseModel):
    """Arrival evidence (GeoJSON track, target, geofences, rule), its digest and the re-check."""

    assignment_id: int
    arrival_source: str | None
    arrived_at: IsoTime | None
    digest: str | None
    digest_valid: bool | None = Field(description="null when nothing is stored yet")
    evidence: FeatureCollection | None
    check: EvidenceCheckOut | None = None


class SlaSummaryOut(BaseModel):
    count: int
    met: int
    breached: int
    pending: int
    mean_response_s: Number | None
    p90_response_s: Number | None
    compliance_pct: Number | None


class SlaAgencyOut(BaseModel):
    """One agency: the older ``on_scene``/``acknowledgement`` sections (clock from the
    notification, minutes copied at triage), then the Perbup judgement and the standard
    segments (``dispatch.sla_breakdown``; absent for an agency with only hand-offs)."""

    agency: str
    name: str
    on_scene: SlaSummaryOut
    acknowledgement: SlaSummaryOut
    perbup: PerbupSummary | None = None
    call_processing: SegmentSummary | None = None
    turnout: SegmentSummary | None = None
    travel: SegmentSummary | None = None
    total_response: SegmentSummary | None = None
    gps_verified_arrivals: int | None = None
    perbup_rules: list[RuleJudgement] = []


class RuleVersionOut(BaseModel):
    version: int | None
    effective_from: IsoTime | None
    reference: str


class SlaReportOut(BaseModel):
    """Per agency: on-scene response and acknowledgement over ``[from, to)``."""

    model_config = ConfigDict(populate_by_name=True)

    kode_kab: str
    date_from: IsoTime = Field(alias="from")
    date_to: IsoTime = Field(alias="to")
    evaluated_at: IsoTime
    percentile_method: str
    agencies: list[SlaAgencyOut]
    breakdown: list[BreakdownRow] = Field(
        default=[], description="agency × category × kecamatan × month")
    breakdown_desa: list[BreakdownRow] = Field(
        default=[], description="agency × category × kecamatan × desa × month")
    drills_excluded: int = 0
    include_drills: bool = False
    timezone: str = "UTC"
    rule_versions: list[RuleVersionOut] = Field(
        default=[], description="the Perbup rule-set versions that judged this period")


class EscalationOut(BaseModel):
    action: str
    incident_id: int
    agency: str
    role: str
    ack_deadline: IsoTime
    overdue_s: Number
    next_unit: RecommendedUnitOut | None


class EscalationsOut(BaseModel):
    escalated: list[EscalationOut]
