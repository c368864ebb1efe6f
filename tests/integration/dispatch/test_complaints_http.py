"""Complaint tickets over HTTP: the numbers of a complaint, lookup by the quoted number, the
OPD's status changes (422 / 409 / 404 with bilingual messages), the overdue list, and another
agency's or regency's ticket answering 404. A test-only region (99.08) is committed and removed
afterwards (audit rows stay: the log is append-only)."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import incident_service as svc
from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Agency, Incident, IncidentAgency, SlaRule
from dispatch.rule_models import ComplaintTicket, SlaRuleSetRow
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import seed_region

KODE = "99.08"
T = datetime(2026, 2, 2, 1, 0, tzinfo=UTC)
REGION = {"name": "Wilayah uji pengaduan", "agencies": [
    {"code": "SATPOLPP", "name": "Satpol PP uji"}, {"code": "PUPR", "name": "PUPR uji"},
    {"code": "DAMKAR", "name": "Damkar uji"}],
    "sla": {"default": {"ack_min": 5, "on_scene_min": 30},
            "by_kind": {"public_service": {"ack_min": 60, "on_scene_min": 1440}}}}


def _cleanup(engine) -> None:
    with Session(engine) as s:
        ids = s.scalars(select(Incident.id).where(Incident.kode_kab == KODE)).all()
        s.execute(delete(ComplaintTicket).where(ComplaintTicket.kode_kab == KODE))
        s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == KODE))
        s.execute(delete(Incident).where(Incident.id.in_(ids)))
        s.execute(delete(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab == KODE))
        for model in (SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KODE))
        s.commit()


@pytest.fixture
def world(engine, client_as) -> Iterator:
    config = parse_config([yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8")),
                           {"regions": {KODE: REGION}}])
    _cleanup(engine)
    made = []
    with Session(engine) as s:
        seed_region(s, config, KODE)
        for category in ("public_order", "road_damage"):
            i = svc.create_incident(s, config=config, geocoder=None, category=category,
                                    actor="op1", kode_kab=KODE, channel="complaint_line",
                                    received_at=T, now=T, scope=EVERYTHING).value
            svc.triage_incident(s, i.id, config=config, actor="op1", now=T, scope=EVERYTHING)
            made.append(i.id)
        s.commit()
    try:
        yield client_as, made
    finally:
        _cleanup(engine)


def test_ticket_flow_over_http(world):
    client_as, (order_id, road_id) = world
    d = client_as("dispatcher")
    r = d.get("/api/v1/complaints/tickets", params={"incident_id": order_id})
    assert r.status_code == 200, r.text
    [t] = r.json()["tickets"]
    assert (t["agency"], t["status"], t["due_at"]) == ("SATPOLPP", "received",
                                                       "2026-02-03T01:00:00Z")
    number = t["ticket_no"]
    r = d.get(f"/api/v1/complaints/tickets/{number.replace('-', ' ')}")
    assert r.status_code == 200 and r.json()["ticket_no"] == number
    r = d.post(f"/api/v1/complaints/tickets/{number}/status", json={"status": "rejected"})
    assert r.status_code == 422 and "alasan" in r.json()["error"]["message"]
    r = d.post(f"/api/v1/complaints/tickets/{number}/status", json={"status": "in_progress"})
    assert r.status_code == 200 and r.json()["status_label_en"] == "In progress"
    r = d.post(f"/api/v1/complaints/tickets/{number}/status", json={"status": "done"})
    assert r.status_code == 200 and r.json()["closed_at"] is not None
    r = d.post(f"/api/v1/complaints/tickets/{number}/status", json={"status": "in_progress"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"
    seg = d.get(f"/api/v1/incidents/{order_id}/segments")
    assert seg.status_code == 200, seg.text
    [satpol] = seg.json()["agencies"]
    assert satpol["agency"] == "SATPOLPP" and satpol["rule"]["limit_min"] == 1440
    assert satpol["outcome"]["status"] == "breached"  # done today, due on 3 February 2026
    assert client_as("agency").get(f"/api/v1/incidents/{order_id}/segments").status_code == 404
    # the road complaint is still open, a day past its deadline: on the overdue list
    r = client_as("viewer").get("/api/v1/complaints/overdue", params={"kode_kab": KODE})
    assert r.status_code == 200
    assert [(g["agency"], g["overdue"]) for g in r.json()["agencies"]] == [("PUPR", 1)]
    assert r.json()["agencies"][0]["tickets"][0]["incident_id"] == road_id


def test_wrong_numbers_roles_and_other_agencies(world):
    client_as, (order_id, _) = world
    d = client_as("dispatcher")
    [t] = d.get("/api/v1/complaints/tickets", params={"incident_id": order_id}).json()["tickets"]
    number = t["ticket_no"]
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    r = d.get(f"/api/v1/complaints/tickets/{wrong}")
    assert r.status_code == 404
    assert "tidak ditemukan" in r.json()["error"]["message"]
    assert "not found" in r.json()["error"]["message"]
    # the test agency desk is DAMKAR: SATPOLPP's ticket is not its own
    desk = client_as("agency")
    assert desk.get(f"/api/v1/complaints/tickets/{number}").status_code == 404
    r = desk.post(f"/api/v1/complaints/tickets/{number}/status", json={"status": "done"})
    assert r.status_code == 404
    assert desk.get("/api/v1/complaints/tickets",
                    params={"incident_id": order_id}).json()["tickets"] == []
    assert client_as("viewer").get(f"/api/v1/complaints/tickets/{number}").status_code == 403
    r = client_as("planner").post(f"/api/v1/complaints/tickets/{number}/status",
                                  json={"status": "done"})
    assert r.status_code == 403
    r = d.post(f"/api/v1/complaints/tickets/{number}/status",
               json={"status": "done", "extra": 1})
    assert r.status_code == 422
