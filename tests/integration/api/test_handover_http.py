"""Shift handover over HTTP on real PostGIS: open incidents with SLA state, overdue follow-ups
(an OPD that never acknowledged, a hand-off to 110 not recorded), units out of service or with a
stale tracker; an agency desk sees only its part; the printable page in both languages; bad
input is a 4xx with the error body. Committed data in a test-only region (99.05), removed after.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import assignment_service as asg
from dispatch import incident_service as svc
from dispatch.config import parse_config
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, SlaRule, Station, Unit
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import seed_region
from geo.types import LonLat
from tests.fixtures.dispatch import make_fix, store_fixes

KAB = "99.05"


def _config():
    agencies = [{"agency": "DAMKAR", "capabilities": ["pumper"]},
                {"agency": "POLRI110", "role": "handoff"}]
    return parse_config([{
        "categories": {"fire": {"kind": "emergency", "priority": 1, "agencies": agencies},
                       "medical": {"kind": "emergency", "priority": 2,
                                   "agencies": [{"agency": "PSC119"}]}},
        "regions": {KAB: {"agencies": [
            {"code": "DAMKAR", "name": "Damkar uji"}, {"code": "PSC119", "name": "PSC uji"},
            {"code": "POLRI110", "name": "Polisi 110", "kind": "external",
             "handoff_number": "110"}],
            "sla": {"default": {"ack_min": 2, "on_scene_min": 15}}}}}])


def _cleanup(engine):
    with Session(engine) as s:
        for model in (Assignment, IncidentAgency, Incident, Unit, Station, SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KAB))
        s.commit()


@pytest.fixture
def world(engine):
    """Two open incidents (a fire 40 min old, a medical call 2 min old), each with a unit on
    its way; the DAMKAR truck's tracker last fixed 30 min ago; a PSC ambulance out of service."""
    token = uuid.uuid4().hex[:6]
    config = _config()
    now = datetime.now(UTC).replace(microsecond=0)
    fleet = {"kode_kab": KAB, "stations": [
        {"code": "S1", "agency": "DAMKAR", "name": "Pos Damkar", "lon": 110.38, "lat": -7.80},
        {"code": "S2", "agency": "PSC119", "name": "Pos PSC", "lon": 110.37, "lat": -7.79}],
        "units": [{"call_sign": f"HO-DAMKAR-{token}", "agency": "DAMKAR", "vehicle_type": "p",
                   "profile": "fire_truck", "capabilities": ["pumper"], "station": "S1",
                   "device_id": f"ho-{token}"},
                  {"call_sign": f"HO-PSC-{token}", "agency": "PSC119", "vehicle_type": "a",
                   "profile": "ambulance", "station": "S2"},
                  {"call_sign": f"HO-PSC2-{token}", "agency": "PSC119", "vehicle_type": "a",
                   "profile": "ambulance", "station": "S2"}]}
    _cleanup(engine)
    with Session(engine) as s:
        seed_region(s, config, KAB, fleet=fleet)
        fire = svc.create_incident(s, config=config, geocoder=None, kode_kab=KAB,
                                   category="fire", location=LonLat(110.371, -7.801),
                                   actor="op", now=now - timedelta(minutes=40),
                                   scope=EVERYTHING).value
        svc.triage_incident(s, fire.id, config=config, actor="op",
                            now=now - timedelta(minutes=40), scope=EVERYTHING)
        med = svc.create_incident(s, config=config, geocoder=None, kode_kab=KAB,
                                  category="medical", location=LonLat(110.372, -7.802),
                                  actor="op", now=now - timedelta(minutes=2),
                                  scope=EVERYTHING).value
        svc.triage_incident(s, med.id, config=config, actor="op", now=now - timedelta(minutes=2),
                            scope=EVERYTHING)
        def unit(sign):
            return s.scalars(select(Unit).where(Unit.call_sign == f"{sign}-{token}")).one()

        # the truck sent 35 min ago (on scene within 15: breached), the ambulance 1 min ago
        asg.assign_unit(s, fire.id, unit("HO-DAMKAR").id, config=config, actor="op",
                        now=now - timedelta(minutes=35), scope=EVERYTHING)
        asg.assign_unit(s, med.id, unit("HO-PSC").id, config=config, actor="op",
                        now=now - timedelta(minutes=1), scope=EVERYTHING)
        unit("HO-PSC2").status = "out_of_service"
        store_fixes(s, [make_fix(f"ho-{token}", now - timedelta(minutes=30), 110.38, -7.80)])
        s.commit()
        ids = {"fire": fire.id, "medical": med.id, "token": token}
    yield ids
    _cleanup(engine)


@pytest.fixture
def client(client_as, pilot_regions):
    def make(role):
        c = client_as(role)
        if c.app.state.siaga.publish_events is None:
            c.app.state.siaga.publish_events = lambda events: None
        return c
    return make


def test_handover_for_the_dispatcher(world, client):
    r = client("dispatcher").get("/api/v1/handover", params={"kode_kab": KAB})
    assert r.status_code == 200, r.text
    h = r.json()
    lines = {x["id"]: x for x in h["incidents"]}
    assert [x["id"] for x in h["incidents"]] == [world["fire"], world["medical"]]  # priority
    fire, med = lines[world["fire"]], lines[world["medical"]]
    assert fire["sla"] == "breached" and 40 * 60 - 5 <= fire["age_s"] <= 40 * 60 + 60
    assert fire["sla_left_s"] < 0
    assert med["sla"] == "pending" and 13 * 60 < med["sla_left_s"] <= 14 * 60 + 5
    follow = {(f["kind"], f["incident_id"], f["agency"]) for f in h["follow_ups"]}
    assert ("unacknowledged", world["fire"], "DAMKAR") in follow
    assert ("handoff", world["fire"], "POLRI110") in follow
    assert ("unacknowledged", world["medical"], "PSC119") not in follow  # 1 min: not yet due
    units = {u["call_sign"]: u for u in h["units"]}
    t = world["token"]
    assert units[f"HO-PSC2-{t}"]["reason"] == "out_of_service"
    assert f"HO-PSC-{t}" not in units  # no tracker, in service
    assert units[f"HO-DAMKAR-{t}"]["reason"] == "stale"
    assert 29 * 60 <= units[f"HO-DAMKAR-{t}"]["silent_s"] <= 31 * 60
    assert h["counts"]["open"] == 2 and h["counts"]["sla_breached"] == 1
    # a 45-minute threshold: the truck's tracker is no longer stale
    longer = client("dispatcher").get("/api/v1/handover",
                                      params={"kode_kab": KAB, "stale_after_min": 45}).json()
    assert f"HO-DAMKAR-{t}" not in {u["call_sign"] for u in longer["units"]}


def test_handover_of_an_agency_desk_is_its_own_part(world, client):
    h = client("agency").get("/api/v1/handover", params={"kode_kab": KAB}).json()
    # the DAMKAR desk: the fire only, its own follow-up, its own units
    assert [x["id"] for x in h["incidents"]] == [world["fire"]]
    assert {f["agency"] for f in h["follow_ups"]} == {"DAMKAR"}
    assert {u["agency"] for u in h["units"]} == {"DAMKAR"}


def test_printable_page_both_languages_and_bad_input(world, client):
    c = client("dispatcher")
    page = c.get("/console/handover", params={"kode_kab": KAB})
    assert page.status_code == 200 and "Serah terima giliran jaga" in page.text
    assert f'data-id="{world["fire"]}"' in page.text and "OPD belum konfirmasi" in page.text
    assert "Content-Security-Policy" in page.headers
    en = c.get("/console/handover", params={"kode_kab": KAB, "lang": "en"})
    assert "Shift handover" in en.text and "Agency not acknowledged" in en.text
    assert "Hand-off not recorded" in en.text and "Stale tracker" in en.text
    for params in ({"kode_kab": "x"}, {"kode_kab": KAB, "stale_after_min": 0}, {}):
        r = c.get("/api/v1/handover", params=params)
        assert r.status_code == 422 and r.json()["error"]["message"], params
    # the Bupati's viewers do not read operational data
    assert client("viewer").get("/api/v1/handover", params={"kode_kab": KAB}).status_code == 403
