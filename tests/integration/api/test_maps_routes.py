"""Console page, static assets, road layer, coverage and hotspot maps over HTTP."""

from __future__ import annotations

import pytest

from tests.unit.maps.test_console import external_refs


@pytest.fixture
def world_client(app_factory, console_world, role_tokens):
    from fastapi.testclient import TestClient

    def make(role: str = "admin") -> TestClient:
        return TestClient(app_factory(roads_dir=console_world),
                          headers={"Authorization": f"Bearer {role_tokens[role]}"})

    return make


def test_console_page_is_public_offline_and_locked_down(api_client):
    api_client.headers.pop("Authorization")
    r = api_client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert external_refs(r.text) == []
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert "Masuk" in r.text and 'id="login-form"' in r.text
    en = api_client.get("/console", params={"lang": "en", "region": "51.06"})
    assert "Log in" in en.text and '"label": "WITA"' in en.text
    assert api_client.get("/", params={"region": "x"}).status_code == 422


def test_static_assets_are_served_without_login(api_client):
    api_client.headers.pop("Authorization")
    js = api_client.get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert api_client.get("/static/vendor/leaflet/LICENSE").status_code == 200
    assert api_client.get("/static/console.js").status_code == 200
    assert api_client.get("/static/../settings.py").status_code == 404
    assert api_client.get("/static/%2e%2e/%2e%2e/api/settings.py").status_code == 404


def test_road_layer_geojson(world_client):
    with world_client("viewer") as client:
        fc = client.get("/maps/roads/34.71.geojson").json()
        lines = fc["features"][0]["geometry"]["coordinates"]
        assert len(lines) > 1000
        lon, lat = lines[0][0]
        assert 110.3 < lon < 110.45 and -7.85 < lat < -7.75
        assert client.get("/maps/roads/51.06.geojson").json()["features"] == []  # no roads


def test_coverage_map_of_damkar(world_client):
    with world_client("viewer") as client:
        r = client.get("/maps/coverage", params={"agency": "DAMKAR", "profile": "fire_truck",
                                                 "minutes": "5,10"})
        assert r.status_code == 200, r.text
        assert external_refs(r.text) == []
        assert "YK-DAMKAR-01" in r.text and "≤ 10 menit" in r.text
        assert "CC BY-IGO" in r.text and "OpenStreetMap" in r.text
        assert client.get("/maps/coverage", params={"minutes": "abc"}).status_code == 422
        assert client.get("/maps/coverage", params={"agency": "NOPE"}).status_code == 422


def test_coverage_map_of_a_regency_without_roads_is_an_estimate(world_client, engine):
    from sqlalchemy.orm import Session

    from dispatch.config import load_config
    from dispatch.seed_service import fleet_path, seed_region

    with Session(engine) as session:  # Bangli's illustrative fleet (an idempotent upsert)
        seed_region(session, load_config(), "51.06", fleet=fleet_path("51.06"))
        session.commit()
    with world_client("viewer") as client:
        r = client.get("/maps/coverage", params={"kode_kab": "51.06", "agency": "DAMKAR",
                                                 "profile": "fire_truck", "minutes": "10"})
        assert r.status_code == 200, r.text  # not a 404 for Bangli
        assert "ETA perkiraan (garis lurus" in r.text and "≤ 10 menit" in r.text
        assert external_refs(r.text) == []


def test_hotspot_map_from_incidents(world_client):
    with world_client("dispatcher") as client:
        for lon, lat in [(110.3650, -7.8010), (110.3652, -7.8012), (110.3900, -7.8200)]:
            r = client.post("/api/v1/incidents", json={
                "kode_kab": "34.71", "lon": lon, "lat": lat, "category": "fire",
                "channel": "phone_112", "description": "uji peta titik rawan"})
            assert r.status_code == 201, r.text
    with world_client("planner") as client:
        r = client.get("/maps/hotspot", params={"kode_kab": "34.71", "category": "fire"})
        assert r.status_code == 200, r.text
        assert "/static/vendor/leaflet.heat/leaflet-heat.js" in r.text
        assert external_refs(r.text) == []
        empty = client.get("/maps/hotspot", params={"kode_kab": "64.71", "category": "animal"})
        assert empty.status_code == 422 and "no located incident" in empty.text
