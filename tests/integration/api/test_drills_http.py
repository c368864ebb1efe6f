"""Drills over HTTP: an exercise, a drill incident carrying ``drill`` in every response, the
``drill`` list filter, and the admin-only purge (a dispatcher is refused)."""

from __future__ import annotations

import pytest

KAB = "51.06"
SCENE = {"lon": 115.3590, "lat": -8.4560}


@pytest.fixture
def clients(client_as, pilot_regions):
    def make(role: str):
        c = client_as(role)
        if c.app.state.siaga.publish_events is None:
            c.app.state.siaga.publish_events = lambda events: None
        return c

    yield make
    make("admin").post("/api/v1/drills/purge", json={"kode_kab": KAB})


def test_exercise_drill_incident_filter_and_purge(clients):
    d, adm = clients("dispatcher"), clients("admin")
    r = d.post("/api/v1/exercises", json={"kode_kab": KAB, "name": "Latihan gempa Bangli"})
    assert r.status_code == 201, r.text
    ex = r.json()
    assert ex["drill"] is True and ex["ended_at"] is None
    r = d.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KAB,
                                          "exercise_id": ex["id"], **SCENE})
    assert r.status_code == 201, r.text
    drill_inc = r.json()
    assert drill_inc["drill"] is True and drill_inc["exercise_id"] == ex["id"]
    detail = d.get(f"/api/v1/incidents/{drill_inc['id']}").json()
    assert detail["drill"] is True and detail["exercise_id"] == ex["id"]
    real = d.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KAB, **SCENE})
    assert real.status_code == 201 and real.json()["drill"] is False
    ids = {i["id"]: i["drill"] for i in d.get(
        "/api/v1/incidents", params={"kode_kab": KAB, "drill": "true"}).json()["incidents"]}
    assert drill_inc["id"] in ids and set(ids.values()) == {True}
    no_drills = d.get("/api/v1/incidents", params={"kode_kab": KAB, "drill": "false"}).json()
    assert real.json()["id"] in {i["id"] for i in no_drills["incidents"]}
    assert all(not i["drill"] for i in no_drills["incidents"])
    assert ex["id"] in {e["id"] for e in d.get("/api/v1/exercises").json()["exercises"]}
    # unknown exercise: 404 with a bilingual message; a closed one takes no more calls (422)
    r = d.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KAB,
                                          "exercise_id": 2**31 - 1, **SCENE})
    assert r.status_code == 404 and "/" in r.json()["error"]["message"]
    assert d.post(f"/api/v1/exercises/{ex['id']}/end").status_code == 200
    r = d.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KAB,
                                          "exercise_id": ex["id"], **SCENE})
    assert r.status_code == 422, r.text
    # the purge is for admins only
    assert d.post("/api/v1/drills/purge", json={"kode_kab": KAB}).status_code == 403
    r = adm.post("/api/v1/drills/purge", json={"kode_kab": KAB, "exercise_id": ex["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["incident_ids"] == [drill_inc["id"]] and r.json()["exercises"] == 1
    assert d.get(f"/api/v1/incidents/{drill_inc['id']}").status_code == 404
    assert d.get(f"/api/v1/incidents/{real.json()['id']}").status_code == 200
