"""The analytics routes through the real app (auth, error mapping, committed data in PostGIS).

The routes are not wired into ``api.app.ROUTE_MODULES`` / ``api.permissions.RULES`` by this
module's owner; the test adds exactly the entries the wiring needs (see ``WIRING``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.security import Role

KAB = "64.71"  # Balikpapan Kota: 5 kelurahan, its own road network
T0 = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
REPORTS = frozenset({Role.DISPATCHER, Role.PLANNER, Role.VIEWER, Role.ADMIN})
PLANNERS = frozenset({Role.PLANNER, Role.ADMIN})
WIRING = {
    ("GET", "/api/v1/analytics/hotspots/desa"): REPORTS,
    ("GET", "/api/v1/analytics/hotspots/grid"): REPORTS,
    ("GET", "/api/v1/analytics/time"): REPORTS,
    ("GET", "/api/v1/analytics/emerging"): REPORTS,
    ("POST", "/api/v1/analytics/siting"): PLANNERS,
}


@pytest.fixture
def incidents(engine, pilot_regions) -> Iterator[None]:
    """Committed incidents in Balikpapan (deleted afterwards): 40 in the first kelurahan over
    two months, 2 in each other one, plus 5 cancelled ones."""
    with Session(engine) as s:
        desa = list(s.execute(text(
            "SELECT kode_desa, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM desa WHERE kode_kab = :k ORDER BY kode_desa"), {"k": KAB}))
        rows = []
        for i, (kode, lon, lat) in enumerate(desa):
            for j in range(40 if i == 0 else 2):
                rows.append((kode, lon, lat, T0 + timedelta(days=31 * (j % 2)), "new"))
        rows += [(desa[1][0], desa[1][1], desa[1][2], T0, "cancelled")] * 5
        for kode, lon, lat, at, status in rows:
            s.execute(text(
                "INSERT INTO incident (kode_kab, received_at, channel, category, kind, status, "
                "kode_desa, geom, description, triage_overridden) VALUES (:kab, :at, "
                "'phone_112', 'analytics_http_test', 'emergency', :st, :kode, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), '', false)"),
                {"kab": KAB, "at": at, "st": status, "kode": kode, "lon": lon, "lat": lat})
        s.commit()
    try:
        yield
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM incident WHERE category = 'analytics_http_test'"))
            s.commit()


@pytest.fixture
def client_for(monkeypatch, app_factory, role_tokens, road_networks):
    import api.app
    import api.permissions

    monkeypatch.setattr(api.app, "ROUTE_MODULES", [*api.app.ROUTE_MODULES, "analytics"])
    monkeypatch.setattr(api.permissions, "RULES", {**api.permissions.RULES, **WIRING})
    clients = []

    def make(role: str) -> TestClient:
        app = app_factory()
        app.state.siaga.road_networks = road_networks
        c = TestClient(app, headers={"Authorization": f"Bearer {role_tokens[role]}"})
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


Q = {"kode_kab": KAB, "category": "analytics_http_test", "permutations": 99}


def test_desa_hotspots_time_and_emerging(client_for, incidents):
    c = client_for("planner")
    r = c.get("/api/v1/analytics/hotspots/desa", params=Q)
    assert r.status_code == 200, r.text
    body = r.json()
    assert sum(d["count"] for d in body["desa"]) == 48  # the cancelled 5 are not counted
    assert body["measure"] == "density_per_km2"
    r = c.get("/api/v1/analytics/time", params={"kode_kab": KAB,
                                                "category": "analytics_http_test"})
    assert r.status_code == 200
    t = r.json()
    assert sum(map(sum, t["hour_of_week"])) == 48 and t["hour_of_week"][0][9] == 24
    assert t["months"] == ["2026-02", "2026-03"]
    r = c.get("/api/v1/analytics/emerging", params=Q)
    assert r.status_code == 200, r.text
    assert len(r.json()["steps"]) == 2
    r = c.get("/api/v1/analytics/hotspots/grid", params={**Q, "cell_m": 500})
    assert r.status_code == 200, r.text
    assert sum(cell["count"] for cell in r.json()["cells"]) == 48


def test_siting_mclp_over_the_road_network(client_for, incidents):
    c = client_for("planner")
    body = {"kode_kab": KAB, "profile": "ambulance", "problem": "mclp", "minutes": 3, "p": 2,
            "sample_candidates": 60, "category": "analytics_http_test"}
    r = c.post("/api/v1/analytics/siting", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["optimal"] and out["mip_gap"] == 0.0 and len(out["new_posts"]) == 2
    assert out["total_weight"] == 48 and 0 < out["covered_weight"] <= 48


def test_bad_input_is_422_with_both_languages_and_roles_are_enforced(client_for, incidents):
    c = client_for("planner")
    r = c.get("/api/v1/analytics/hotspots/desa", params={"kode_kab": KAB, "kind": "drill"})
    assert r.status_code == 422
    assert " / " in r.json()["error"]["message"]
    r = c.get("/api/v1/analytics/time", params={"kode_kab": KAB, "tz": "Mars/Olympus"})
    assert r.status_code == 422
    r = c.get("/api/v1/analytics/hotspots/desa", params={"kode_kab": KAB, "category": "none"})
    assert r.status_code == 422  # no incidents: a clear error, not a 500
    r = c.post("/api/v1/analytics/siting", json={"kode_kab": KAB, "p": -1})
    assert r.status_code == 422
    viewer = client_for("viewer")
    assert viewer.post("/api/v1/analytics/siting", json={"kode_kab": KAB}).status_code == 403
