"""The five seed workflows, one test each. Bangli uses the shipped pilot configuration; Badung,
Muba, Kaur and Dairi use test configurations (tests/integration/dispatch/data/workflows.yaml and
the fleet_*.yaml test fleets) because their boundaries are not in the pilot data."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dispatch import assignment_service as asg
from dispatch import incident_service as svc
from dispatch.escalation_service import check_escalations
from dispatch.exceptions import DispatchValidationError
from dispatch.models import Agency, Assignment, AuditLog, SlaRule, Unit
from dispatch.recommend_service import recommend
from dispatch.report_service import assignment_sla
from dispatch.scoping import EVERYTHING
from dispatch.triage import triage
from geo.types import LonLat

T0 = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)


def roles(session, incident_id):
    return {a.code: ia for ia, a in svc.incident_agencies(session, incident_id)}


def test_badung_public_service_complaint_routed_without_dispatch(seeded, dispatch_config):
    i = svc.create_incident(seeded, config=dispatch_config, geocoder=None, kode_kab="51.03",
                            category="road_damage", channel="complaint_line", actor="op",
                            description="Lampu jalan mati di Jalan Raya Kuta", now=T0,
                            scope=EVERYTHING).value
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op", now=T0, scope=EVERYTHING)
    assert i.kind == "public_service" and i.status == "triaged"
    [(code, ia)] = roles(seeded, i.id).items()
    assert (code, ia.role, ia.units_required, ia.notified_at) == ("PUPR", "forward", 0, T0)
    assert (ia.ack_min, ia.on_scene_min) == (30, 2880)
    svc.acknowledge_agency(seeded, i.id, "PUPR", actor="urc-pupr",
                           now=T0 + timedelta(minutes=12), scope=EVERYTHING)
    svc.change_incident_status(seeded, i.id, "resolved", actor="urc-pupr",
                               now=T0 + timedelta(hours=20), scope=EVERYTHING)
    assert i.status == "resolved"
    assert seeded.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.incident_id == i.id)) == 0
    assert [a.action for a in svc.timeline(seeded, i.id, scope=EVERYTHING)] == [
        "create", "triage", "acknowledge", "status:resolved"]


def test_bangli_emergency_two_hour_onsite_sla_five_opd(seeded, dispatch_config, geocoder):
    # Landslide on the road near Kintamani; Bangli has no road network: estimates only.
    i = svc.create_incident(seeded, config=dispatch_config, geocoder=geocoder, category="landslide",
                            location=LonLat(115.35914, -8.27274), actor="op", now=T0,
                            scope=EVERYTHING).value
    assert (i.kode_kab, i.nama_desa) == ("51.06", "Batur Tengah")
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op", now=T0, scope=EVERYTHING)
    agencies = roles(seeded, i.id)
    assert sorted(agencies) == ["BPBD", "DISHUB", "PSC119", "PUPR", "SATPOLPP"]
    assert {ia.on_scene_min for ia in agencies.values()} == {120}
    recs = recommend(seeded, i.id, config=dispatch_config, road_networks=None, scope=EVERYTHING)
    assert len(recs) == 5
    best = {r.agency: r.units[0] for r in recs}
    assert all(u.estimated and u.position_source == "station" for u in best.values())
    assert best["BPBD"].call_sign == "BLI-BPBD-02"  # the Batur post, not the town
    arrivals = {"BPBD": 35, "PUPR": 118, "DISHUB": 90, "PSC119": 50, "SATPOLPP": 125}
    outcomes = {}
    for code, minutes in arrivals.items():
        a = asg.assign_unit(seeded, i.id, best[code].unit_id, config=dispatch_config,
                            actor="op", now=T0 + timedelta(minutes=2), scope=EVERYTHING).value
        assert a.estimated
        asg.arrive(seeded, a.id, actor=f"{code.lower()}-radio",
                   now=T0 + timedelta(minutes=2 + minutes), scope=EVERYTHING)
        outcomes[code] = assignment_sla(seeded, a, agencies[code],
                                        T0 + timedelta(hours=3))["status"]
    # on site within 2 h of the report: arrivals at 37, 120, 92, 52 and 127 minutes after it
    assert outcomes == {"BPBD": "met", "PUPR": "met", "DISHUB": "met", "PSC119": "met",
                        "SATPOLPP": "breached"}
    assert i.status == "on_scene"


def test_bangli_live_sla_counts_from_the_report_not_the_notification(seeded, dispatch_config,
                                                                     geocoder):
    # reported at T0, the OPD notified 20 minutes later, on site 130 minutes after the report
    # (110 after the notification): breached under the Perbup, live as in the report
    i = svc.create_incident(seeded, config=dispatch_config, geocoder=geocoder, category="landslide",
                            location=LonLat(115.35914, -8.27274), actor="op", received_at=T0,
                            now=T0, scope=EVERYTHING).value
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op",
                        now=T0 + timedelta(minutes=20), scope=EVERYTHING)
    agencies = roles(seeded, i.id)
    best = {r.agency: r.units[0]
            for r in recommend(seeded, i.id, config=dispatch_config, road_networks=None,
                               scope=EVERYTHING)}
    a = asg.assign_unit(seeded, i.id, best["BPBD"].unit_id, config=dispatch_config,
                        actor="op", now=T0 + timedelta(minutes=21), scope=EVERYTHING).value
    asg.arrive(seeded, a.id, actor="bpbd-radio", now=T0 + timedelta(minutes=130), scope=EVERYTHING)
    sla = assignment_sla(seeded, a, agencies["BPBD"], T0 + timedelta(hours=3))
    assert sla["status"] == "breached"
    assert sla["clock_started_at"] == "2026-06-01T07:30:00Z"  # the report, T0
    assert sla["response_s"] == 130 * 60


def test_muba_eight_opd_configuration(seeded, dispatch_config):
    internal = seeded.scalars(select(Agency.code).where(
        Agency.kode_kab == "16.06", Agency.kind == "internal")).all()
    assert len(internal) == 8
    result = triage(dispatch_config, "16.06", "major_disaster")
    assert sorted(a.agency for a in result.agencies) == sorted(internal)
    assert not result.missing_agencies
    i = svc.create_incident(seeded, config=dispatch_config, geocoder=None, kode_kab="16.06",
                            category="major_disaster", actor="op", now=T0,
                            description="Karhutla meluas ke permukiman", scope=EVERYTHING).value
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op", now=T0, scope=EVERYTHING)
    agencies = roles(seeded, i.id)
    assert len(agencies) == 8
    assert (agencies["DINSOS"].ack_min, agencies["DINSOS"].on_scene_min) == (15, 120)
    assert (agencies["BPBD"].ack_min, agencies["BPBD"].on_scene_min) == (10, 60)
    # standby OPD are notified at triage; dispatching OPD when their first unit is sent
    assert {c for c, ia in agencies.items() if ia.notified_at == T0} == {
        "SATPOLPP", "DISHUB", "PUPR", "DINSOS", "DPPPA"}
    fire = seeded.scalar(select(SlaRule.on_scene_min).join(Agency).where(
        Agency.kode_kab == "16.06", Agency.code == "DAMKAR", SlaRule.category == "fire"))
    assert fire == 15


def test_kaur_standby_acknowledgement_and_escalation(seeded, dispatch_config):
    i = svc.create_incident(seeded, config=dispatch_config, geocoder=None, kode_kab="17.04",
                            category="flood", location=LonLat(103.3600, -4.8100),
                            actor="op", now=T0, scope=EVERYTHING).value
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op", now=T0, scope=EVERYTHING)
    first = seeded.scalars(select(Unit).where(Unit.call_sign == "KAUR-BPBD-01")).one()
    a = asg.assign_unit(seeded, i.id, first.id, config=dispatch_config, actor="op",
                        now=T0 + timedelta(minutes=1), scope=EVERYTHING).value
    # DINSOS answers its standby line in time; PSC119 and BPBD stay silent.
    svc.acknowledge_agency(seeded, i.id, "DINSOS", actor="hp-siaga-dinsos",
                           now=T0 + timedelta(minutes=4), scope=EVERYTHING)
    assert check_escalations(seeded, config=dispatch_config, kode_kab="17.04", scope=EVERYTHING,
                                 now=T0 + timedelta(minutes=5)).value == []
    out = check_escalations(seeded, config=dispatch_config, kode_kab="17.04", scope=EVERYTHING,
                                now=T0 + timedelta(minutes=6, seconds=30))
    by_agency = {e.agency: e for e in out.value}
    assert sorted(by_agency) == ["BPBD", "PSC119"]
    assert by_agency["PSC119"].overdue_s == 90
    assert by_agency["BPBD"].overdue_s == 30
    assert by_agency["BPBD"].next_unit.call_sign == "KAUR-BPBD-02"
    assert by_agency["PSC119"].next_unit.call_sign == "KAUR-PSC-01"
    payloads = {e.payload["agency"]: e.payload for e in out.events}  # the wire form
    assert payloads["BPBD"]["next_unit"]["call_sign"] == "KAUR-BPBD-02"
    assert payloads["BPBD"]["ack_deadline"].endswith("Z")
    assert {e.topic for e in out.events} == {"siaga/v1/events/sla"}
    escalations = seeded.scalars(select(AuditLog).where(AuditLog.action == "escalate",
                                                        AuditLog.kode_kab == "17.04")).all()
    assert len(escalations) == 2 and all(e.actor == "system:escalation" for e in escalations)
    asg.acknowledge(seeded, a.id, actor="bpbd", now=T0 + timedelta(minutes=8), scope=EVERYTHING)
    ia = roles(seeded, i.id)["BPBD"]
    assert ia.acknowledged_at == T0 + timedelta(minutes=8) and ia.escalation_count == 1


def test_dairi_handoff_psc119_bnpb117_police110(seeded, dispatch_config):
    i = svc.create_incident(seeded, config=dispatch_config, geocoder=None, kode_kab="12.11",
                            category="landslide", location=LonLat(98.3200, 2.7500),
                            actor="op", now=T0, scope=EVERYTHING).value
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op", now=T0, scope=EVERYTHING)
    agencies = roles(seeded, i.id)
    handoffs = {c: ia for c, ia in agencies.items() if ia.role == "handoff"}
    assert sorted(handoffs) == ["BNPB117", "POLRI110", "PSC119"]
    assert {c: ia.handoff_number for c, ia in handoffs.items()} == {
        "BNPB117": "117", "POLRI110": "110", "PSC119": "119"}
    refs = {"PSC119": "119-DAIRI-0042", "BNPB117": "117/2026/06/118", "POLRI110": "LP-110-77"}
    for n, (code, ref) in enumerate(refs.items()):
        svc.record_handoff(seeded, i.id, code, reference=ref, actor="op",
                           now=T0 + timedelta(minutes=n + 1), scope=EVERYTHING)
    agencies = roles(seeded, i.id)
    assert {c: agencies[c].handoff_ref for c in refs} == refs
    assert all(agencies[c].acknowledged_at is not None for c in refs)
    with pytest.raises(DispatchValidationError):
        svc.record_handoff(seeded, i.id, "BPBD", reference="x", actor="op", scope=EVERYTHING)
    timeline = [(e.action, e.after.get("handoff_ref")) for e in svc.timeline(seeded, i.id,
                                                                             scope=EVERYTHING)
                if e.action == "handoff"]
    assert timeline == [("handoff", r) for r in refs.values()]
    # handed-off lines are not escalated; BPBD (dispatch role, no unit yet) has no clock
    assert check_escalations(seeded, config=dispatch_config, kode_kab="12.11", scope=EVERYTHING,
                                 now=T0 + timedelta(hours=1)).value == []
