"""A regency onboarded without a road network still gets recommendations, with ETAs labelled as
estimates (straight line × the profile's detour factor at its ``secondary`` speed); once its
roads are imported from an OSM PBF extract (``siaga roads import``) the same recommendation is a
road ETA. The regency is the synthetic ``52.99`` (see ``tests/integration/geo/national_files``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, SlaRule, Station, Unit
from dispatch.seed_service import seed_region
from geo.geodesy import haversine_m
from geo.routing.profiles import load_profiles
from tests.integration.geo.national_files import SYNTH_KAB, shifted, write_synthetic_roads

STATION = shifted(110.3780, -7.7925)  # a Kota Yogyakarta street corner, moved
SCENE = shifted(110.3655, -7.8050)
REGION = {"name": "Kabupaten Uji Coba", "agencies": [
    {"code": "DAMKAR", "name": "Damkar uji"}, {"code": "PSC119", "name": "PSC 119 uji"},
    {"code": "BPBD", "name": "BPBD uji"}, {"code": "PUPR", "name": "PUPR uji"},
    {"code": "SATPOLPP", "name": "Satpol PP uji"}, {"code": "DISHUB", "name": "Dishub uji"},
    {"code": "POLRI110", "name": "Polisi 110", "kind": "external", "handoff_number": "110"}],
    "sla": {"default": {"ack_min": 5, "on_scene_min": 30}}}
FLEET = {"kode_kab": SYNTH_KAB, "illustrative": True,
         "stations": [{"code": "U1", "agency": "DAMKAR", "name": "Pos uji", "lon": STATION[0],
                       "lat": STATION[1]}],
         "units": [{"call_sign": "UJI-DAMKAR-01", "agency": "DAMKAR", "vehicle_type": "pumper",
                    "profile": "fire_truck", "capabilities": ["pumper"], "station": "U1"}]}


def _cleanup(engine) -> None:
    with Session(engine) as s:
        ids = s.scalars(select(Incident.id).where(Incident.kode_kab == SYNTH_KAB)).all()
        s.execute(delete(Assignment).where(Assignment.kode_kab == SYNTH_KAB))
        s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == SYNTH_KAB))
        s.execute(delete(Incident).where(Incident.id.in_(ids)))
        for model in (Unit, Station, SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == SYNTH_KAB))
        s.commit()


@pytest.fixture
def synthetic(engine) -> Iterator[dict]:
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    config = parse_config([doc, {"regions": {SYNTH_KAB: REGION}}])
    _cleanup(engine)
    with Session(engine) as s:
        seed_region(s, config, SYNTH_KAB, fleet=FLEET)
        s.commit()
    try:
        yield config
    finally:
        _cleanup(engine)


def _client(app_factory, role_tokens, config, roads_dir: Path) -> TestClient:
    app = app_factory(roads_dir=roads_dir)
    state = app.state.siaga
    if hasattr(state, "resources"):  # AppState of older composition roots
        state.resources["dispatch_config"] = config
        state.resources["publish_events"] = lambda events: None
    else:
        state.dispatch_config = config
        state.publish_events = lambda events: None
    # The synthetic regency is created by this test: only an installation-wide login (the
    # administrator) acts for it; the test dispatcher names its regencies.
    return TestClient(app, headers={"Authorization": f"Bearer {role_tokens['admin']}"},
                      raise_server_exceptions=False)


def _damkar_unit(client: TestClient, incident_id: int) -> dict:
    r = client.get(f"/api/v1/incidents/{incident_id}/recommendations")
    assert r.status_code == 200, r.text
    [damkar] = [a for a in r.json()["agencies"] if a["agency"] == "DAMKAR"]
    return damkar["units"][0]


def test_estimate_without_roads_then_road_eta_after_a_pbf_import(
        synthetic, app_factory, role_tokens, tmp_path, monkeypatch):
    roads_dir = tmp_path / "roads"
    with _client(app_factory, role_tokens, synthetic, roads_dir) as client:
        r = client.post("/api/v1/incidents", json={
            "category": "fire", "lon": SCENE[0], "lat": SCENE[1], "kode_kab": SYNTH_KAB,
            "caller_phone": "08123456789", "description": "Gudang terbakar"})
        assert r.status_code == 201, r.text
        incident_id = r.json()["id"]
        assert client.post(f"/api/v1/incidents/{incident_id}/triage", json={}).status_code == 200
        unit = _damkar_unit(client, incident_id)
    fire_truck = load_profiles()["fire_truck"]
    straight_m = haversine_m(*STATION, *SCENE)
    speed_mps = min(fire_truck.speeds_kmh["secondary"], fire_truck.max_speed_kmh) / 3.6
    assert unit["call_sign"] == "UJI-DAMKAR-01" and unit["reachable"]
    assert (unit["eta_kind"], unit["estimated"]) == ("estimate", True)
    assert unit["distance_m"] == pytest.approx(straight_m * fire_truck.detour_factor, abs=0.1)
    assert unit["eta_s"] == pytest.approx(straight_m * fire_truck.detour_factor / speed_mps,
                                          abs=0.1)

    from api.cli import app as cli

    pbf = write_synthetic_roads(tmp_path / "uji-coba.osm.pbf")
    monkeypatch.setenv("SIAGA_ROADS_DIR", str(roads_dir))
    result = CliRunner().invoke(cli, ["roads", "import", str(pbf), "--region", SYNTH_KAB,
                                      "--profile", "fire_truck"])
    assert result.exit_code == 0, result.output
    [built] = json.loads(result.stdout)["indexes"]
    assert built["profile"] == "fire_truck" and built["edges"] > 1000

    with _client(app_factory, role_tokens, synthetic, roads_dir) as client:
        road = _damkar_unit(client, incident_id)
    assert (road["eta_kind"], road["estimated"]) == ("road", False)
    assert road["distance_m"] > straight_m  # along the streets
    assert road["eta_s"] != pytest.approx(unit["eta_s"], rel=0.01)
