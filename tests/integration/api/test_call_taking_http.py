"""Call taking over HTTP against real PostGIS (Kota Yogyakarta): probable duplicates of the call
being taken, a further call attached to the first incident (stored, audited, in the timeline,
no new incident), WhatsApp as a channel, bad input answered 4xx with the error body, and the
queue ordered by priority then SLA time left with its breached / amber / overdue figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

KAB = "34.71"
#: Alun-alun Utara (Kraton): the scene of the first call.
SCENE = {"lon": 110.36475, "lat": -7.80385}
#: ~60 m east of it: the same scene as a second caller places it.
NEAR = {"lon": 110.36530, "lat": -7.80385}
#: Tugu, ~2.7 km north: another scene.
FAR = {"lon": 110.36708, "lat": -7.78293}
CANCEL = {"status": "cancelled", "reason": "uji otomatis"}


@pytest.fixture
def clients(client_as, console_world):
    made: list[int] = []

    def make(role: str):
        c = client_as(role)
        if c.app.state.siaga.publish_events is None:
            c.app.state.siaga.publish_events = lambda events: None
        return c

    make.created = made  # type: ignore[attr-defined]
    yield make
    d = make("dispatcher")
    for incident_id in made:  # committed rows: leave no open incident for the next tests
        d.post(f"/api/v1/incidents/{incident_id}/status", json=CANCEL)


def _create(clients, **body) -> dict:
    r = clients("dispatcher").post("/api/v1/incidents", json={"kode_kab": KAB, **body})
    assert r.status_code == 201, r.text
    clients.created.append(r.json()["id"])
    return r.json()


def _error(r) -> dict:
    err = r.json()["error"]
    assert err["code"] and err["message"]
    return err


def test_duplicate_suggested_and_call_attached(clients):
    d = clients("dispatcher")
    first = _create(clients, category="animal", caller_phone="081200000001", **SCENE)
    before = {i["id"] for i in d.get("/api/v1/incidents", params={"kode_kab": KAB}).json()[
        "incidents"]}
    dup = d.get("/api/v1/incidents/duplicates",
                params={"kode_kab": KAB, "category": "animal", **NEAR})
    assert dup.status_code == 200, dup.text
    found = {c["incident_id"]: c for c in dup.json()["candidates"]}
    assert first["id"] in found
    assert 30 < found[first["id"]]["distance_m"] < 120 and found[first["id"]]["calls"] == 0
    other_cat = d.get("/api/v1/incidents/duplicates",
                      params={"kode_kab": KAB, "category": "medical", **NEAR}).json()
    assert first["id"] not in {c["incident_id"] for c in other_cat["candidates"]}
    far = d.get("/api/v1/incidents/duplicates",
                params={"kode_kab": KAB, "category": "animal", **FAR}).json()
    assert first["id"] not in {c["incident_id"] for c in far["candidates"]}

    r = d.post(f"/api/v1/incidents/{first['id']}/calls",
               json={"channel": "whatsapp", "caller_phone": "081299998888",
                     "note": "Kucing di atas pohon beringin, penelepon kedua"})
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["incident_id"] == first["id"] and call["channel"] == "whatsapp"
    listed = d.get(f"/api/v1/incidents/{first['id']}/calls").json()["calls"]
    assert [c["id"] for c in listed] == [call["id"]]
    assert listed[0]["note"].startswith("Kucing") and listed[0]["received_at"].endswith("Z")
    # the planner reads it with the number masked
    masked = clients("planner").get(f"/api/v1/incidents/{first['id']}/calls").json()["calls"]
    assert masked[0]["caller_phone"] == "0812*****888"
    # audited on the incident: in its timeline
    detail = d.get(f"/api/v1/incidents/{first['id']}").json()
    attached = [e for e in detail["timeline"] if e["action"] == "call_attach"]
    assert len(attached) == 1 and attached[0]["entity_id"] == first["id"]
    # no new incident, and the candidate now counts the call
    after = {i["id"] for i in d.get("/api/v1/incidents", params={"kode_kab": KAB}).json()[
        "incidents"]}
    assert after == before
    again = d.get("/api/v1/incidents/duplicates",
                  params={"kode_kab": KAB, "category": "animal", **NEAR}).json()
    assert {c["incident_id"]: c["calls"] for c in again["candidates"]}[first["id"]] == 1


def test_bad_input_is_4xx_with_the_error_body(clients):
    d = clients("dispatcher")
    first = _create(clients, category="animal", **SCENE)
    url = f"/api/v1/incidents/{first['id']}/calls"
    for body in ({"channel": "fax"}, {"caller_phone": "not a number"},
                 {"note": "x" * 2001}, {"surprise": 1}):
        r = d.post(url, json=body)
        assert r.status_code == 422, (body, r.text)
        _error(r)
    for params in ({"kode_kab": KAB, "category": "animal", "lat": 95, "lon": 110},
                   {"kode_kab": "34", "category": "animal", **NEAR},
                   {"kode_kab": KAB, **NEAR}):
        r = d.get("/api/v1/incidents/duplicates", params=params)
        assert r.status_code == 422, (params, r.text)
        _error(r)
    assert d.post("/api/v1/incidents/2147483647/calls", json={}).status_code == 404
    # an agency desk does not take calls
    assert clients("agency").post(url, json={}).status_code == 403
    # a closed incident takes no further call
    assert d.post(f"/api/v1/incidents/{first['id']}/status",
                  json=CANCEL).status_code == 200
    r = d.post(url, json={"note": "terlambat"})
    assert r.status_code == 422 and "/" in _error(r)["message"]


def test_whatsapp_is_a_channel_of_incidents(clients):
    inc = _create(clients, category="animal", channel="whatsapp", **FAR)
    assert inc["channel"] == "whatsapp"


def test_queue_priority_then_time_left(clients, engine):
    from dispatch.models import Agency, IncidentAgency

    d = clients("dispatcher")
    now = datetime.now(UTC)

    def triaged(category: str, received_min_ago: float, where: dict) -> int:
        received = (now - timedelta(minutes=received_min_ago)).isoformat()
        inc = _create(clients, category=category, received_at=received, **where)
        assert d.post(f"/api/v1/incidents/{inc['id']}/triage", json={}).status_code == 200
        return inc["id"]

    # fire: Damkar's 15 min run from the report (SPM); flood: 30 min from notification
    breached = triaged("fire", 20, SCENE)
    amber = triaged("fire", 13, NEAR)
    fresh = triaged("fire", 0, FAR)
    flood = triaged("flood", 100, SCENE)
    with Session(engine) as s:  # the flood's standby lines were notified 10 min ago, no answer
        s.execute(update(IncidentAgency).where(IncidentAgency.incident_id == flood,
                                               IncidentAgency.role == "standby")
                  .values(notified_at=now - timedelta(minutes=10)))
        s.commit()
        codes = set(s.scalars(select(Agency.code).join(
            IncidentAgency, IncidentAgency.agency_id == Agency.id).where(
            IncidentAgency.incident_id == flood, IncidentAgency.role == "standby")))
    r = d.get("/api/v1/incidents/queue", params={"kode_kab": KAB})
    assert r.status_code == 200, r.text
    items = {i["incident_id"]: i for i in r.json()["items"]}
    order = [i["incident_id"] for i in r.json()["items"]
             if i["incident_id"] in {breached, amber, fresh, flood}]
    assert order == [breached, amber, fresh, flood]
    assert items[breached]["urgency"] == "breached" and items[breached]["left_s"] < 0
    assert items[breached]["deadline_agency"] == "DAMKAR" and items[breached]["limit_s"] == 900
    assert items[amber]["urgency"] == "warning" and 0 < items[amber]["fraction_left"] < 0.25
    assert items[fresh]["urgency"] == "ok" and items[fresh]["priority"] == 1
    assert items[flood]["priority"] == 2 and items[flood]["urgency"] == "ok"
    assert set(items[flood]["ack_overdue"]) == codes and codes
    assert 19 * 60 < items[flood]["left_s"] <= 20 * 60  # 30 min from the notification
    # an agency desk sees only the incidents its OPD takes part in (DAMKAR: the fires)
    desk = clients("agency").get("/api/v1/incidents/queue", params={"kode_kab": KAB}).json()
    desk_ids = {i["incident_id"] for i in desk["items"]}
    assert {breached, amber, fresh} <= desk_ids and flood not in desk_ids
    # resolved or cancelled incidents leave the queue
    d.post(f"/api/v1/incidents/{fresh}/status", json=CANCEL)
    left = d.get("/api/v1/incidents/queue", params={"kode_kab": KAB}).json()["items"]
    assert fresh not in {i["incident_id"] for i in left}
