"""The Perbup rule sets in PostGIS and the SLA report's segments and breakdowns, on a Bangli
month with hand-computed expectations (on site ≤ 2 h from the report; fire ≤ 15 min from
receipt, SPM); drills excluded; versions judged by their effective date."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dispatch import assignment_service as asg
from dispatch import incident_service as svc
from dispatch import sla_rules_service as rules
from dispatch.exceptions import IncidentNotFound, SlaRuleError
from dispatch.models import Incident, Unit
from dispatch.report_service import sla_report
from dispatch.rule_models import SlaRuleSetRow
from dispatch.scope import Scope

BANGLI = "51.06"
T = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
EVERYTHING = Scope.everything()


def _unit(session, call_sign):
    return session.scalars(select(Unit).where(Unit.call_sign == call_sign)).one()


def respond(session, config, category, received, *, call_sign=None, sent=None, departed=None,
            arrived=None, kec=("51.06.01", "Susut"), drill=False):
    """One incident: received, triaged at once, optionally a unit sent/departed/arrived
    (minutes after ``received``)."""
    i = svc.create_incident(session, config=config, geocoder=None, category=category,
                            actor="op1", kode_kab=BANGLI, received_at=received,
                            now=received, scope=EVERYTHING).value
    i.kode_kec, i.nama_kec = kec
    i.kode_desa, i.nama_desa = kec[0] + ".2001", "Desa " + kec[1]
    i.drill = drill
    svc.triage_incident(session, i.id, config=config, actor="op1", now=received, scope=EVERYTHING)
    if call_sign is not None:
        m = lambda minutes: received + timedelta(minutes=minutes)  # noqa: E731
        a = asg.assign_unit(session, i.id, _unit(session, call_sign).id, config=config,
                            actor="op1", now=m(sent), scope=EVERYTHING).value
        if departed is not None:
            asg.depart(session, a.id, actor="d", now=m(departed), scope=EVERYTHING)
        if arrived is not None:
            asg.arrive(session, a.id, actor="d", now=m(arrived), scope=EVERYTHING)
            asg.clear(session, a.id, actor="d", now=m(arrived + 30), scope=EVERYTHING)
            asg.set_unit_status(session, a.unit_id, "available", actor="d", scope=EVERYTHING)
    session.flush()
    return i


@pytest.fixture
def bangli_month(seeded, dispatch_config):
    c = dispatch_config
    # fire 1: sent +2, departed +3, arrived +12 → call processing 120 s, turnout 60 s,
    # travel 540 s, total 720 s: met (≤ 15 min from receipt)
    respond(seeded, c, "fire", T, call_sign="BLI-DAMKAR-01", sent=2, departed=3, arrived=12)
    # fire 2 (Kintamani): sent +5, departed +7, arrived +22 → 300, 120, 900, 1320 s: breached
    respond(seeded, c, "fire", T + timedelta(days=1), call_sign="BLI-DAMKAR-02", sent=5,
            departed=7, arrived=22, kec=("51.06.04", "Kintamani"))
    # a drill fire: not counted
    respond(seeded, c, "fire", T + timedelta(days=2), call_sign="BLI-DAMKAR-01", sent=1,
            departed=2, arrived=6, drill=True)
    # flood: BPBD sent only +50, arrived +125: 125 min from the report > 2 h → breached
    # (the older clock, from the notification, says 75 min: met)
    respond(seeded, c, "flood", T + timedelta(days=3), call_sign="BLI-BPBD-01", sent=50,
            departed=55, arrived=125)
    # fire 4, 31 March 17:00 UTC = 1 April 01:00 WITA: nobody sent, clock from receipt runs
    respond(seeded, c, "fire", datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
    return seeded


def report(session, **kw):
    """The SLA report of March 2026 (and 1 April) in its JSON form, the API's reply."""
    return sla_report(session, kode_kab=BANGLI, start=datetime(2026, 3, 1, tzinfo=UTC),
                      end=datetime(2026, 4, 2, tzinfo=UTC),
                      now=datetime(2026, 4, 10, tzinfo=UTC), scope=EVERYTHING, **kw).as_dict()


def test_seeded_default_rule_set_is_the_packaged_one(seeded):
    rs = rules.rule_set_in_force(seeded, EVERYTHING, BANGLI, T)
    assert rs.version == 1
    assert rs.rule_for("BPBD", "flood", "emergency").start == "received"
    assert rs.rule_for("DAMKAR", "fire", "emergency").limit_min == 15
    assert rules.versions(seeded, EVERYTHING, BANGLI)[0]["version"] == 1


def test_damkar_month_segments_and_perbup_by_hand(bangli_month, dispatch_config):
    out = report(bangli_month)
    assert out["drills_excluded"] == 1 and out["include_drills"] is False
    damkar = next(a for a in out["agencies"] if a["agency"] == "DAMKAR")
    # fires 1, 2 and 4 (not dispatched, overdue): 1 met, 2 breached, one never arrived
    p = damkar["perbup"]
    assert (p["count"], p["met"], p["breached"], p["pending"], p["unfinished"]) == (3, 1, 2, 0, 1)
    assert p["mean_response_s"] == (720 + 1320) / 2 and p["p90_response_s"] == 1320
    assert damkar["call_processing"] == {"count": 2, "mean_response_s": 210.0,
                                         "p90_response_s": 300.0}
    assert damkar["turnout"] == {"count": 2, "mean_response_s": 90.0, "p90_response_s": 120.0}
    assert damkar["travel"] == {"count": 2, "mean_response_s": 720.0, "p90_response_s": 900.0}
    assert damkar["total_response"]["mean_response_s"] == 1020.0
    assert damkar["gps_verified_arrivals"] == 0  # arrivals entered by hand
    [rule] = damkar["perbup_rules"]
    assert (rule["version"], rule["start"], rule["limit_min"], rule["judge"]) == (
        1, "received", 15.0, "each")
    assert rule["compliant"] is False
    # the older section, clock from the notification, knows only the two dispatched fires
    assert damkar["on_scene"]["count"] == 2


def test_bangli_two_hours_from_the_report(bangli_month):
    bpbd = next(a for a in report(bangli_month)["agencies"] if a["agency"] == "BPBD")
    assert (bpbd["perbup"]["met"], bpbd["perbup"]["breached"]) == (0, 1)
    assert bpbd["perbup"]["mean_response_s"] == 125 * 60
    assert bpbd["on_scene"]["met"] == 1  # 75 min after notification: the old clock is blind
    assert bpbd["call_processing"]["mean_response_s"] == 50 * 60


def test_breakdown_by_kecamatan_desa_and_local_month(bangli_month):
    utc = report(bangli_month)
    fires = [r for r in utc["breakdown"] if r["agency"] == "DAMKAR"]
    # sorted by agency, category, month, kecamatan code (51.06.01 Susut, 51.06.04 Kintamani)
    assert [(r["month"], r["nama_kec"], r["perbup"]["count"]) for r in fires] == [
        ("2026-03", "Susut", 2), ("2026-03", "Kintamani", 1)]
    assert {r["kode_desa"] for r in utc["breakdown_desa"]} >= {"51.06.04.2001", "51.06.01.2001"}
    wita = report(bangli_month, tz="Asia/Makassar")
    months = sorted((r["month"], r["nama_kec"], r["perbup"]["count"])
                    for r in wita["breakdown"] if r["agency"] == "DAMKAR")
    assert months == [("2026-03", "Kintamani", 1), ("2026-03", "Susut", 1),
                      ("2026-04", "Susut", 1)]


def test_drills_included_on_request(bangli_month):
    out = report(bangli_month, include_drills=True)
    damkar = next(a for a in out["agencies"] if a["agency"] == "DAMKAR")
    assert damkar["perbup"]["count"] == 4 and out["drills_excluded"] == 0


def test_new_version_judges_incidents_received_after_its_date(bangli_month, dispatch_config):
    doc = rules.rule_set_in_force(bangli_month, EVERYTHING, BANGLI).as_document()
    doc["effective_from"] = "2026-03-03T00:00:00Z"
    doc["reference"] = "Perbup perubahan (uji)"
    for r in doc["rules"]:
        if r.get("agency") == "DAMKAR":
            r["limit_min"] = 25
    v2 = rules.import_document(bangli_month, Scope.of([BANGLI]), doc, config=dispatch_config,
                               actor="admin")
    assert v2.version == 2
    damkar = next(a for a in report(bangli_month)["agencies"] if a["agency"] == "DAMKAR")
    # fire 1 (2 March) by v1: met in 12; fire 2 (3 March) by v2: 22 ≤ 25 met; fire 4 breached
    assert (damkar["perbup"]["met"], damkar["perbup"]["breached"]) == (2, 1)
    assert sorted((r["version"], r["limit_min"]) for r in damkar["perbup_rules"]) == [
        (1, 15.0), (2, 25.0)]


def test_invalid_document_stores_nothing(seeded, dispatch_config):
    before = seeded.scalar(select(func.count()).select_from(SlaRuleSetRow))
    doc = {"kode_kab": BANGLI, "effective_from": "2026-05-01T00:00:00+08:00",
           "default": {"limit_min": 120}, "rules": [{"agency": "NOPE", "limit_min": 5}]}
    with pytest.raises(SlaRuleError, match="NOPE"):
        rules.import_document(seeded, EVERYTHING, doc, config=dispatch_config, actor="admin")
    assert seeded.scalar(select(func.count()).select_from(SlaRuleSetRow)) == before


def test_other_regency_is_not_found(seeded, dispatch_config):
    yogya = Scope.of(["34.71"])
    with pytest.raises(rules.RuleSetNotFound):
        rules.rule_set_in_force(seeded, yogya, BANGLI)
    doc = rules.rule_set_in_force(seeded, EVERYTHING, BANGLI).as_document()
    with pytest.raises(rules.RuleSetNotFound):
        rules.import_document(seeded, yogya, doc, config=dispatch_config, actor="x")
    assert seeded.scalar(select(func.count()).select_from(Incident)) >= 0


def test_incident_segments_per_agency_and_assignment(bangli_month):
    from dispatch.segment_service import incident_segments

    first = bangli_month.scalars(select(Incident).where(
        Incident.kode_kab == BANGLI, Incident.received_at == T)).one()
    out = incident_segments(bangli_month, EVERYTHING, first.id,
                            now=datetime(2026, 4, 10, tzinfo=UTC))
    damkar = next(a for a in out["agencies"] if a["agency"] == "DAMKAR")
    assert damkar["rule_version"] == 1 and damkar["rule"]["limit_min"] == 15
    assert damkar["outcome"]["status"] == "met" and damkar["outcome"]["elapsed_s"] == 720
    assert damkar["outcome"]["clock_started_at"] == "2026-03-02T01:00:00Z"  # the report
    s = damkar["segments"]
    assert (s["call_processing_s"], s["turnout_s"], s["travel_s"], s["total_response_s"]) == (
        120.0, 60.0, 540.0, 720.0)
    [a] = damkar["assignments"]
    assert a["call_sign"] == "BLI-DAMKAR-01" and a["segments"]["total_response_s"] == 720.0
    psc = next(a for a in out["agencies"] if a["agency"] == "PSC119")
    assert psc["role"] == "standby" and psc["outcome"] is None  # stood by, sent no one
    with pytest.raises(IncidentNotFound):
        incident_segments(bangli_month, Scope.of(["34.71"]), first.id)


def test_triage_copies_the_minutes_of_the_rule_in_force_at_receipt(seeded, dispatch_config):
    from dispatch.models import Agency, IncidentAgency

    doc = rules.rule_set_in_force(seeded, EVERYTHING, BANGLI).as_document()
    doc["effective_from"] = "2026-06-01T00:00:00Z"
    for r in doc["rules"]:
        if r.get("agency") == "DAMKAR":
            r["limit_min"], r["ack_min"] = 20, 3
    rules.import_document(seeded, EVERYTHING, doc, config=dispatch_config, actor="admin")

    def damkar_minutes(received):
        i = respond(seeded, dispatch_config, "fire", received)
        ia = seeded.scalars(select(IncidentAgency).join(Agency).where(
            IncidentAgency.incident_id == i.id, Agency.code == "DAMKAR")).one()
        return ia.ack_min, ia.on_scene_min

    assert damkar_minutes(datetime(2026, 5, 31, 23, 0, tzinfo=UTC)) == (2, 15)
    assert damkar_minutes(datetime(2026, 6, 1, 0, 0, tzinfo=UTC)) == (3, 20)
