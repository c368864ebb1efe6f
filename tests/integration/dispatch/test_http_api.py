"""The dispatch HTTP API against the real database: statuses (201/404/409/422), masking by role,
the assignment lifecycle, evidence, agencies, SLA report. Uses a test-only region (99.02) whose
rows are committed and removed afterwards (audit rows stay: the log is append-only)."""

from collections.abc import Iterator

import pytest
import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, SlaRule, Station, Unit
from dispatch.seed_service import seed_region

KODE = "99.02"
REGION = {"name": "Wilayah uji API", "agencies": [
    {"code": "DAMKAR", "name": "Damkar uji"}, {"code": "PSC119", "name": "PSC 119 uji"},
    {"code": "PUPR", "name": "PUPR uji"}, {"code": "SATPOLPP", "name": "Satpol PP uji"},
    {"code": "BPBD", "name": "BPBD uji"}, {"code": "DISHUB", "name": "Dishub uji"},
    {"code": "POLRI110", "name": "Polisi 110", "kind": "external", "handoff_number": "110"}],
    "sla": {"default": {"ack_min": 5, "on_scene_min": 30},
            "rules": [{"agency": "DAMKAR", "categories": ["fire"], "ack_min": 2,
                       "on_scene_min": 15}]}}
FLEET = {"kode_kab": KODE, "illustrative": True,
         "stations": [{"code": "P1", "agency": "DAMKAR", "name": "Pos 1", "lon": 120.00,
                       "lat": -5.00},
                      {"code": "P2", "agency": "PSC119", "name": "Pos 2", "lon": 120.01,
                       "lat": -5.00}],
         "units": [{"call_sign": "API-DAMKAR-01", "agency": "DAMKAR", "vehicle_type": "pumper",
                    "profile": "fire_truck", "capabilities": ["pumper"], "station": "P1"},
                   {"call_sign": "API-PSC-01", "agency": "PSC119",
                    "vehicle_type": "ambulance", "profile": "ambulance",
                    "capabilities": ["ambulance"], "station": "P2"}]}


def _cleanup(engine) -> None:
    with Session(engine) as s:
        ids = s.scalars(select(Incident.id).where(Incident.kode_kab == KODE)).all()
        s.execute(delete(Assignment).where(Assignment.kode_kab == KODE))
        s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == KODE))
        s.execute(delete(Incident).where(Incident.id.in_(ids)))
        for model in (Unit, Station, SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KODE))
        s.commit()


@pytest.fixture
def api(engine, client_as) -> Iterator:
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    config = parse_config([doc, {"regions": {KODE: REGION}}])
    _cleanup(engine)
    with Session(engine) as s:
        seed_region(s, config, KODE, fleet=FLEET)
        units = {u.call_sign: u.id for u in s.scalars(select(Unit).where(Unit.kode_kab == KODE))}
        s.commit()

    def client(role: str):
        c = client_as(role)
        c.app.state.siaga.dispatch_config = config
        if c.app.state.siaga.publish_events is None:
            c.app.state.siaga.publish_events = lambda events: None
        return c

    try:
        yield client, units
    finally:
        _cleanup(engine)


def fire(c, **extra):
    body = {"category": "fire", "lon": 120.005, "lat": -5.002, "kode_kab": KODE,
            "caller_phone": "08123456789", "description": "Gudang terbakar"} | extra
    return c.post("/api/v1/incidents", json=body)


def test_incident_lifecycle_over_http(api):
    client, units = api
    d = client("dispatcher")
    r = fire(d)
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["status"] == "new" and inc["caller_phone"] == "08123456789"  # dispatcher sees it
    iid = inc["id"]
    r = d.post(f"/api/v1/incidents/{iid}/triage", json={})
    assert r.status_code == 200 and r.json()["status"] == "triaged"
    assert [a["agency"] for a in r.json()["agencies"]] == ["DAMKAR", "PSC119"]
    r = d.get(f"/api/v1/incidents/{iid}/recommendations")
    damkar = r.json()["agencies"][0]
    assert damkar["agency"] == "DAMKAR" and damkar["units"][0]["call_sign"] == "API-DAMKAR-01"
    assert damkar["units"][0]["estimated"] is True  # no road network for this region
    r = d.post("/api/v1/assignments", json={"incident_id": iid,
                                            "unit_id": units["API-DAMKAR-01"]})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert r.json()["sla"]["status"] == "pending" and r.json()["sla"]["on_scene_min"] == 15
    r = d.post("/api/v1/assignments", json={"incident_id": iid,
                                            "unit_id": units["API-DAMKAR-01"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "unit_unavailable"
    r = d.patch(f"/api/v1/units/{units['API-DAMKAR-01']}", json={"status": "out_of_service"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"
    for step in ("acknowledge", "depart", "arrive"):
        r = d.post(f"/api/v1/assignments/{aid}/{step}", json={})
        assert r.status_code == 200, (step, r.text)
    assert r.json()["arrival_source"] == "manual" and r.json()["sla"]["status"] == "met"
    r = d.post(f"/api/v1/assignments/{aid}/depart", json={})
    assert r.status_code == 409
    r = d.get(f"/api/v1/assignments/{aid}/evidence")
    assert r.status_code == 200 and r.json()["arrival_source"] == "manual"
    assert d.post(f"/api/v1/assignments/{aid}/clear", json={}).status_code == 200
    r = d.get(f"/api/v1/units?kode_kab={KODE}")
    status = {u["call_sign"]: (u["status"], u["last_position"]["source"])
              for u in r.json()["units"]}
    assert status["API-DAMKAR-01"] == ("returning", "station")
    assert d.patch(f"/api/v1/units/{units['API-DAMKAR-01']}",
                   json={"status": "available"}).status_code == 200
    assert d.post(f"/api/v1/incidents/{iid}/status", json={"status": "resolved"}).json()[
        "status"] == "resolved"
    detail = d.get(f"/api/v1/incidents/{iid}").json()
    actions = [e["action"] for e in detail["timeline"]]
    assert actions[:3] == ["create", "triage", "assign"] and "status:resolved" in actions
    assert all(e["actor"] == "test_dispatcher" for e in detail["timeline"])
    r = d.get(f"/api/v1/reports/sla?kode_kab={KODE}&from=2020-01-01T00:00:00Z"
              f"&to=2100-01-01T00:00:00Z")
    assert r.status_code == 200
    rep = {a["agency"]: a for a in r.json()["agencies"]}
    assert rep["DAMKAR"]["on_scene"]["met"] == 1


def test_masking_by_role_and_filters(api):
    client, _ = api
    d = client("dispatcher")
    iid = fire(d).json()["id"]
    fire(d, category="road_damage", caller_phone="+6281298765432")
    planner = client("planner")
    r = planner.get(f"/api/v1/incidents?kode_kab={KODE}")
    phones = {i["id"]: i["caller_phone"] for i in r.json()["incidents"]}
    assert phones[iid] == "0812****789"
    assert all("*" in p for p in phones.values())
    assert planner.get(f"/api/v1/incidents/{iid}").json()["caller_phone"] == "0812****789"
    assert d.get(f"/api/v1/incidents/{iid}").json()["caller_phone"] == "08123456789"
    r = d.get(f"/api/v1/incidents?kode_kab={KODE}&category=road_damage")
    assert [i["category"] for i in r.json()["incidents"]] == ["road_damage"]
    r = d.get(f"/api/v1/incidents?kode_kab={KODE}&status=new&kind=emergency")
    assert r.status_code == 200
    assert d.get("/api/v1/incidents?status=flying").status_code == 422


@pytest.mark.parametrize("body,field", [
    ({"category": "fire", "lon": 200, "lat": 0, "kode_kab": KODE}, "lon"),
    ({"category": "fire", "lon": 120.0, "kode_kab": KODE}, "lon and lat"),
    ({"category": "fire"}, "kode_kab"),
    ({"category": "fire", "kode_kab": KODE, "channel": "pigeon"}, "channel"),
    ({"category": "fire", "kode_kab": KODE, "caller_phone": "call me"}, "caller_phone"),
    ({"category": "fire", "kode_kab": KODE, "surprise": 1}, "surprise"),
    ({"category": "alien", "kode_kab": KODE}, "unknown category"),
    ({"category": "fire", "kode_kab": "77.77"}, "77.77"),
])
def test_bad_input_is_422_with_a_message(api, body, field):
    client, _ = api
    r = client("dispatcher").post("/api/v1/incidents", json=body)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_unknown_ids_are_404(api):
    client, _ = api
    d = client("dispatcher")
    assert d.get("/api/v1/incidents/987654").status_code == 404
    assert d.post("/api/v1/incidents/987654/triage", json={}).status_code == 404
    assert d.post("/api/v1/assignments/987654/acknowledge", json={}).status_code == 404
    assert d.get("/api/v1/assignments/987654/evidence").status_code == 404
    assert d.patch("/api/v1/units/987654", json={"status": "available"}).status_code == 404
    iid = fire(d).json()["id"]
    d.post(f"/api/v1/incidents/{iid}/triage", json={})
    r = d.post("/api/v1/assignments", json={"incident_id": iid, "unit_id": 987654})
    assert r.status_code == 404
    r = d.post(f"/api/v1/incidents/{iid}/agencies/NOPE/acknowledge", json={})
    assert r.status_code == 404
    # ids beyond the integer column are bad input (422), never a database error
    assert d.get("/api/v1/incidents/99999999999").status_code == 422
    assert d.post("/api/v1/assignments/0/clear", json={}).status_code == 422
    r = d.post("/api/v1/assignments", json={"incident_id": 2**40, "unit_id": 1})
    assert r.status_code == 422


def test_illegal_incident_transition_is_409_and_override_is_audited(api):
    client, units = api
    d = client("dispatcher")
    iid = fire(d).json()["id"]
    r = d.post("/api/v1/assignments", json={"incident_id": iid,
                                            "unit_id": units["API-DAMKAR-01"]})
    assert r.status_code == 409  # not triaged
    assert d.post(f"/api/v1/incidents/{iid}/status",
                  json={"status": "closed"}).status_code == 409
    r = d.post(f"/api/v1/incidents/{iid}/triage",
               json={"priority": 2, "reason": "api override",
                     "agencies": [{"agency": "PSC119", "capabilities": ["ambulance"]}]})
    assert r.status_code == 200
    body = r.json()
    assert body["priority"] == 2 and body["triage_overridden"] is True
    assert body["timeline"][-1]["action"] == "triage_override"


def test_agency_desk_acts_only_on_its_own_assignments(api):
    client, units = api
    d = client("dispatcher")
    iid = fire(d).json()["id"]
    d.post(f"/api/v1/incidents/{iid}/triage", json={})
    a_fire = d.post("/api/v1/assignments", json={"incident_id": iid,
                                                 "unit_id": units["API-DAMKAR-01"]}).json()
    a_psc = d.post("/api/v1/assignments", json={"incident_id": iid,
                                                "unit_id": units["API-PSC-01"]}).json()
    desk = client("agency")  # test_agency belongs to DAMKAR
    assert desk.post(f"/api/v1/assignments/{a_fire['id']}/acknowledge",
                     json={}).status_code == 200
    assert desk.post(f"/api/v1/assignments/{a_psc['id']}/acknowledge",
                     json={}).status_code == 404  # another agency's: not found (tenancy)
    agencies = desk.get(f"/api/v1/agencies?kode_kab={KODE}").json()["agencies"]
    assert {a["code"]: a["kind"] for a in agencies}["POLRI110"] == "external"


def test_agency_desk_sees_only_incidents_of_its_agency(api):
    client, _ = api
    d = client("dispatcher")
    fire_id = fire(d).json()["id"]
    complaint_id = fire(d, category="public_order", description="Pedagang di trotoar").json()["id"]
    for iid in (fire_id, complaint_id):
        assert d.post(f"/api/v1/incidents/{iid}/triage", json={}).status_code == 200
    desk = client("agency")  # test_agency belongs to DAMKAR: the fire, not the Satpol PP case
    listed = {i["id"] for i in desk.get(f"/api/v1/incidents?kode_kab={KODE}").json()["incidents"]}
    assert fire_id in listed and complaint_id not in listed
    assert desk.get(f"/api/v1/incidents/{fire_id}").status_code == 200
    r = desk.get(f"/api/v1/incidents/{complaint_id}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    everything = {i["id"] for i in d.get(f"/api/v1/incidents?kode_kab={KODE}").json()["incidents"]}
    assert {fire_id, complaint_id} <= everything
