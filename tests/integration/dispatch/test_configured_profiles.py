"""A custom ``profiles_path`` (``SIAGA_PROFILES_PATH``) drives every ETA estimate: the HTTP
recommendation, the HTTP escalation check, and ``siaga dispatch recommend|escalate``.

Region 99.02 (``test_http_api``) has no road network, so ETAs are straight-line estimates at the
profile's ``secondary`` speed: a profiles file with a distinctive slow speed must show in them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Agency, IncidentAgency, Unit
from dispatch.seed_service import seed_region
from geo.routing.profiles import DEFAULT_PROFILES_PATH, load_profiles
from tests.integration.dispatch.test_http_api import FLEET, KODE, REGION, _cleanup, fire

#: km/h on secondary roads in the custom file (packaged fire_truck: 30).
SLOW_KMH = 7


def _slowdown() -> float:
    """How many times slower the custom file makes the fire truck's estimate."""
    return load_profiles()["fire_truck"].speeds_kmh["secondary"] / SLOW_KMH


@pytest.fixture
def slow_profiles(tmp_path: Path) -> Path:
    doc = yaml.safe_load(DEFAULT_PROFILES_PATH.read_text(encoding="utf-8"))
    doc["defaults"]["speeds_kmh"]["secondary"] = SLOW_KMH
    for p in doc["profiles"].values():
        p.get("speeds_kmh", {}).pop("secondary", None)
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.fixture
def region(engine) -> Iterator[dict]:
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    config = parse_config([doc, {"regions": {KODE: REGION}}])
    _cleanup(engine)
    with Session(engine) as s:
        seed_region(s, config, KODE, fleet=FLEET)
        s.commit()
    try:
        yield {"config": config}
    finally:
        _cleanup(engine)


def _client(app_factory, role_tokens, config, **overrides) -> TestClient:
    app = app_factory(**overrides)
    app.state.siaga.dispatch_config = config
    app.state.siaga.publish_events = lambda events: None
    return TestClient(app, headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"},
                      raise_server_exceptions=False)


def _damkar_eta(client: TestClient, incident_id: int) -> float:
    r = client.get(f"/api/v1/incidents/{incident_id}/recommendations")
    assert r.status_code == 200, r.text
    [damkar] = [a for a in r.json()["agencies"] if a["agency"] == "DAMKAR"]
    unit = damkar["units"][0]
    assert unit["estimated"] is True  # no road network in 99.02
    return unit["eta_s"]


def _make_overdue(engine, incident_id: int) -> None:
    with Session(engine) as s:
        damkar = s.scalar(select(Agency.id).where(Agency.kode_kab == KODE,
                                                  Agency.code == "DAMKAR"))
        s.execute(update(IncidentAgency).where(IncidentAgency.incident_id == incident_id,
                                               IncidentAgency.agency_id == damkar)
                  .values(notified_at=datetime.now(UTC) - timedelta(hours=1)))
        s.commit()


def test_http_recommend_and_escalate_use_profiles_path(region, app_factory, role_tokens,
                                                        slow_profiles, engine):
    config = region["config"]
    with _client(app_factory, role_tokens, config) as packaged, \
            _client(app_factory, role_tokens, config, profiles_path=slow_profiles) as custom:
        r = fire(custom)
        assert r.status_code == 201, r.text
        incident_id = r.json()["id"]
        assert custom.post(f"/api/v1/incidents/{incident_id}/triage", json={}).status_code == 200
        default_eta = _damkar_eta(packaged, incident_id)
        slow_eta = _damkar_eta(custom, incident_id)
        assert slow_eta == pytest.approx(default_eta * _slowdown(), rel=0.02)

        _make_overdue(engine, incident_id)
        r = custom.post("/api/v1/escalations/check", params={"kode_kab": KODE})
        assert r.status_code == 200, r.text
        items = [e for e in r.json()["escalated"] if e["incident_id"] == incident_id]
        assert len(items) == 1, r.json()
        [item] = items
        assert item["next_unit"]["eta_s"] == pytest.approx(slow_eta, rel=0.01)


def test_cli_recommend_and_escalate_use_profiles_path(region, app_factory, role_tokens,
                                                       slow_profiles, engine, database_url,
                                                       monkeypatch):
    from api.cli import app as cli

    config = region["config"]
    with _client(app_factory, role_tokens, config) as packaged:
        r = fire(packaged)
        assert r.status_code == 201, r.text
        incident_id = r.json()["id"]
        assert packaged.post(f"/api/v1/incidents/{incident_id}/triage", json={}).status_code == 200
        default_eta = _damkar_eta(packaged, incident_id)
    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    monkeypatch.setenv("SIAGA_PROFILES_PATH", str(slow_profiles))
    runner = CliRunner()
    r = runner.invoke(cli, ["dispatch", "recommend", str(incident_id)])
    assert r.exit_code == 0, r.output
    [damkar] = [a for a in json.loads(r.output)["agencies"] if a["agency"] == "DAMKAR"]
    slow_eta = damkar["units"][0]["eta_s"]
    assert slow_eta == pytest.approx(default_eta * _slowdown(), rel=0.02)

    _make_overdue(engine, incident_id)
    with Session(engine) as s:  # the CLI reads the packaged agencies file: keep 99.02 seeded
        assert s.scalar(select(Unit.id).where(Unit.call_sign == "API-DAMKAR-01")) is not None
    r = runner.invoke(cli, ["dispatch", "escalate", "--kode-kab", KODE])
    assert r.exit_code == 0, r.output
    [item] = [e for e in json.loads(r.output) if e["incident_id"] == incident_id]
    assert item["next_unit"]["eta_s"] == pytest.approx(slow_eta, rel=0.01)
