"""Every timestamp the main endpoints return has one form: ISO 8601 in UTC ending in ``Z``
(``dispatch.timestamp.iso_utc``), whatever offset it was given or stored with."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Unit
from dispatch.seed_service import seed_region
from dispatch.timestamp import iso_utc
from tests.integration.dispatch.test_http_api import FLEET, KODE, REGION, _cleanup
from tracking.fix import Fix
from tracking.service import write_batch

#: Looks like a date-time (any form).
LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
#: The one form.
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
WIB = timezone(timedelta(hours=7))
FIRE = {"category": "fire", "lon": 120.005, "lat": -5.002, "kode_kab": KODE,
        "caller_phone": "08123456789", "description": "Gudang terbakar"}


def timestamps(doc: Any, path: str = "$") -> list[tuple[str, str]]:
    """(JSON path, value) of every string in ``doc`` that looks like a date-time."""
    if isinstance(doc, dict):
        return [t for k, v in doc.items() for t in timestamps(v, f"{path}.{k}")]
    if isinstance(doc, list):
        return [t for i, v in enumerate(doc) for t in timestamps(v, f"{path}[{i}]")]
    return [(path, doc)] if isinstance(doc, str) and LOOKS_LIKE_TIME.match(doc) else []


def test_iso_utc_converts_offsets_and_keeps_none():
    assert iso_utc(datetime(2026, 3, 1, 9, 15, tzinfo=WIB)) == "2026-03-01T02:15:00Z"
    assert iso_utc(datetime(2026, 3, 1, 2, 15, 0, 500, tzinfo=UTC)) == (
        "2026-03-01T02:15:00.000500Z")
    assert iso_utc(datetime(2026, 3, 1, 2, 15)) == "2026-03-01T02:15:00Z"
    assert iso_utc(None) is None


@pytest.fixture
def world(engine) -> Iterator[dict]:
    device = f"ts-form-{uuid.uuid4().hex[:8]}"
    fleet = {**FLEET, "units": [dict(FLEET["units"][0], device_id=device), FLEET["units"][1]]}
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    config = parse_config([doc, {"regions": {KODE: REGION}}])
    _cleanup(engine)
    with Session(engine) as s:
        seed_region(s, config, KODE, fleet=fleet)
        units = {u.call_sign: u.id for u in s.scalars(select(Unit).where(Unit.kode_kab == KODE))}
        now = datetime.now(WIB)  # stored and returned whatever the offset it came with
        write_batch(s, [Fix(device, now - timedelta(minutes=1), 120.001, -5.0, speed_mps=3.0,
                            received_at=now)])
        s.commit()
    try:
        yield {"config": config, "units": units, "device": device}
    finally:
        _cleanup(engine)


def test_every_timestamp_of_the_main_endpoints_has_one_form(world, app_factory, role_tokens):
    app = app_factory()
    app.state.siaga.dispatch_config = world["config"]
    app.state.siaga.publish_events = lambda events: None
    seen: dict[str, list[tuple[str, str]]] = {}

    def call(name: str, method: str, url: str, role: str = "dispatcher", **kw) -> Any:
        r = client.request(method, url, headers={"Authorization": f"Bearer {role_tokens[role]}"},
                           **kw)
        assert r.status_code in (200, 201), (name, r.status_code, r.text)
        seen[name] = timestamps(r.json())
        return r.json()

    with TestClient(app, raise_server_exceptions=False) as client:
        received = datetime.now(WIB).replace(microsecond=0) - timedelta(minutes=2)
        created = call("incident create", "POST", "/api/v1/incidents",
                       json=FIRE | {"received_at": received.isoformat()})
        iid = created["id"]
        assert created["received_at"] == iso_utc(received)
        call("triage", "POST", f"/api/v1/incidents/{iid}/triage", json={})
        asg = call("assign", "POST", "/api/v1/assignments",
                   json={"incident_id": iid, "unit_id": world["units"]["API-DAMKAR-01"]})
        call("acknowledge", "POST", f"/api/v1/assignments/{asg['id']}/acknowledge", json={})
        call("agency acknowledge", "POST", f"/api/v1/incidents/{iid}/agencies/PSC119/acknowledge",
             json={})
        call("incident get", "GET", f"/api/v1/incidents/{iid}")
        call("incident list", "GET", "/api/v1/incidents", params={"kode_kab": KODE})
        call("units", "GET", "/api/v1/units", params={"kode_kab": KODE})
        call("tracking latest", "GET", "/api/v1/tracking/latest",
             params={"device_id": world["device"]})
        now = datetime.now(UTC)
        call("sla report", "GET", "/api/v1/reports/sla",
             params={"kode_kab": KODE, "from": (now - timedelta(days=1)).isoformat(),
                     "to": (now + timedelta(hours=1)).isoformat()})
        call("tokens", "GET", "/api/v1/auth/tokens", role="admin")

    for name in ("incident create", "incident get", "incident list", "units", "assign",
                 "tracking latest", "sla report", "tokens"):
        assert seen[name], f"{name}: no timestamp at all"
    assert any(p.endswith(".timeline[0].at") for p, _ in seen["incident get"])
    assert any("last_position.fix_time" in p for p, _ in seen["units"])
    wrong = {name: [(p, v) for p, v in found if not UTC_Z.match(v)]
             for name, found in seen.items()}
    assert not any(wrong.values()), wrong
