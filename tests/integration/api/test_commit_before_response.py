"""Writes are committed before the response, under a real uvicorn server (not TestClient):
a GET right after a 201 finds the row; a revoked token is refused right after the revocation's
200; a request that cannot get a pooled connection
gets 503 with Retry-After (never 500, never a 30 s hang)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, SlaRule, Station, Unit
from dispatch.seed_service import seed_region
from tests.integration.api.live_server import serve

KODE = "99.61"
REGION = {"name": "Wilayah uji commit", "agencies": [{"code": "DAMKAR", "name": "Damkar uji"}],
          "sla": {"default": {"ack_min": 5, "on_scene_min": 30}}}
FLEET = {"kode_kab": KODE, "illustrative": True,
         "stations": [{"code": "C1", "agency": "DAMKAR", "name": "Pos C1", "lon": 121.0,
                       "lat": -5.0}],
         "units": [{"call_sign": f"CBR-{n:02d}", "agency": "DAMKAR", "vehicle_type": "pumper",
                    "profile": "fire_truck", "capabilities": ["pumper"], "station": "C1"}
                   for n in range(3)]}


def region_config():
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    return parse_config([doc, {"regions": {KODE: REGION}}])


def cleanup_region(engine, kode: str) -> None:
    with Session(engine) as s:
        ids = s.scalars(select(Incident.id).where(Incident.kode_kab == kode)).all()
        s.execute(delete(Assignment).where(Assignment.kode_kab == kode))
        s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == kode))
        s.execute(delete(Incident).where(Incident.id.in_(ids)))
        for model in (Unit, Station, SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == kode))
        s.commit()


@pytest.fixture
def world(engine, role_tokens) -> Iterator[dict]:
    config = region_config()
    cleanup_region(engine, KODE)
    with Session(engine) as s:
        seed_region(s, config, KODE, fleet=FLEET)
        units = [u.id for u in s.scalars(select(Unit).where(Unit.kode_kab == KODE)
                                         .order_by(Unit.call_sign))]
        s.commit()
    try:
        yield {"config": config, "units": units, "tokens": role_tokens}
    finally:
        cleanup_region(engine, KODE)


def served_app(app_factory, config, **settings):
    app = app_factory(**settings)
    app.state.siaga.dispatch_config = config
    app.state.siaga.publish_events = lambda events: None
    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_get_right_after_201_always_finds_the_row(world, app_factory):
    app = served_app(app_factory, world["config"])
    with serve(app) as base, httpx.Client(base_url=base, timeout=30,
                                          headers=bearer(world["tokens"]["dispatcher"])) as c:
        missing = []
        for n in range(200):
            r = c.post("/api/v1/incidents", json={
                "category": "fire", "kode_kab": KODE, "lon": 121.0 + n / 10_000, "lat": -5.01,
                "description": f"uji {n}"})
            assert r.status_code == 201, r.text
            got = c.get(f"/api/v1/incidents/{r.json()['id']}")
            if got.status_code != 200:
                missing.append((n, got.status_code))
        assert missing == []


def test_revoked_token_is_refused_right_after_the_revocation(world, app_factory):
    app = served_app(app_factory, world["config"])
    admin = bearer(world["tokens"]["admin"])
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as c:
        still_working = []
        for n in range(30):
            issued = c.post("/api/v1/auth/tokens", headers=admin,
                            json={"username": "test_dispatcher", "name": f"revoke-{n}"})
            assert issued.status_code == 201, issued.text
            token = issued.json()["token"]
            assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
            revoked = c.delete(f"/api/v1/auth/tokens/{issued.json()['id']}", headers=admin)
            assert revoked.status_code == 200, revoked.text
            after = c.get("/api/v1/auth/me", headers=bearer(token))
            if after.status_code != 401:
                still_working.append((n, after.status_code))
        assert still_working == []


def test_no_connection_in_time_gives_503_with_retry_after(world, app_factory, engine):
    """One pooled connection, held by a PATCH that waits on a row lock taken by the test: the
    next request cannot get a connection within the pool timeout and is answered 503."""
    app = served_app(app_factory, world["config"], db_pool_size=1, db_max_overflow=0,
                     db_pool_timeout_s=0.5, api_threads=8)
    unit_id = world["units"][0]
    headers = bearer(world["tokens"]["dispatcher"])
    with serve(app) as base, httpx.Client(base_url=base, timeout=30, headers=headers) as c:
        assert c.get("/api/v1/units", params={"kode_kab": KODE}).status_code == 200
        with engine.connect() as blocker:
            blocker.execute(text("select id from unit where id = :i for update"), {"i": unit_id})
            patch_result: dict[str, httpx.Response] = {}

            def patch() -> None:
                with httpx.Client(base_url=base, timeout=30, headers=headers) as c2:
                    patch_result["r"] = c2.patch(f"/api/v1/units/{unit_id}",
                                                 json={"status": "out_of_service"})

            t = threading.Thread(target=patch)
            t.start()
            time.sleep(1.0)  # the PATCH now holds the only connection, waiting for the lock
            started = time.perf_counter()
            r = c.get("/api/v1/units", params={"kode_kab": KODE})
            elapsed = time.perf_counter() - started
            health = c.get("/api/v1/health")
            blocker.rollback()
        t.join(timeout=30)
    assert r.status_code == 503, r.text
    assert r.headers.get("Retry-After") and r.json()["error"]["code"] == "database_unavailable"
    assert elapsed < 10  # the pool timeout (0.5 s) plus scheduling, not a 30 s hang
    assert health.status_code == 200  # the health probe has a connection of its own
    assert patch_result["r"].status_code == 200, patch_result["r"].text
