"""Tenancy of the live WebSocket, of scope changes and of user administration, with the same two
regencies as ``test_tenancy_routes.py`` (Kota Yogyakarta 34.71 and Kabupaten Bangli 51.06)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.auth.models import AppUser
from tests.fixtures.api import once_notified
from tests.integration.api import tenancy_world as world
from tests.integration.api.tenancy_world import CENTRE, DESK_AGENCY, ROLES, A, B, Side


@pytest.fixture(scope="module")
def tenancy(settings, database_url, engine, pilot_regions, tmp_path_factory):
    yield from world.tenancy_app(settings, database_url, engine, tmp_path_factory)


def _auth(side: Side, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {side.tokens[role]}"}


def _events(me: Side, other: Side) -> list[tuple[str, dict[str, Any]]]:
    """The other regency's events (each way a regency can be told, and one that tells none),
    then the caller's own position and a closing marker."""
    here, there = CENTRE[me.kode_kab], CENTRE[other.kode_kab]
    return [
        ("incident", {"action": "created", "incident_id": other.incident_id,
                      "kode_kab": other.kode_kab, "note": other.mark}),
        ("position", {"device_id": other.device_id, "lon": there.lon, "lat": there.lat,
                      "note": other.mark}),
        ("sla", {"action": "acknowledged", "incident_id": other.incident_id,
                 "agency": DESK_AGENCY, "note": other.mark}),
        ("unit", {"action": "dispatched", "unit_id": other.unit_id, "note": other.mark}),
        ("incident", {"action": "created", "agency": DESK_AGENCY, "note": other.mark}),
        ("position", {"device_id": me.device_id, "lon": here.lon, "lat": here.lat}),
        ("sla", {"action": "acknowledged", "incident_id": me.incident_id,
                 "agency": DESK_AGENCY, "marker": me.mark}),
    ]


def _until_marker(ws: Any, marker: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not any(e["data"].get("marker") == marker for e in events):
        msg = ws.receive_json()
        if msg.get("type") == "events":
            events += msg["events"]
    return events


def test_live_stream_carries_only_own_regency(tenancy):
    client, a, b = tenancy
    hub = client.app.state.siaga.running.live_hub
    for me, other in ((a, b), (b, a)):
        for role in ROLES:
            before = hub.subscriber_count
            with client.websocket_connect("/api/v1/live", headers=_auth(me, role)) as ws:
                assert ws.receive_json()["type"] == "hello"
                deadline = time.monotonic() + 5
                while hub.subscriber_count <= before and time.monotonic() < deadline:
                    time.sleep(0.01)
                for kind, data in _events(me, other):
                    hub.publish_threadsafe(kind, data)
                got = _until_marker(ws, me.mark)
            text = json.dumps(got)
            assert other.mark not in text and other.device_id not in text, (role, got)
            if role == "dispatcher":  # its own tracker, placed by the device's regency
                assert any(e["kind"] == "position" and e["data"]["device_id"] == me.device_id
                           for e in got), got


def test_a_change_of_regencies_applies_to_existing_tokens_at_once(tenancy, engine):
    """A province centre's dispatcher given a second regency sees it on the next request with
    the same token, and loses it again as soon as it is taken away."""
    client, a, b = tenancy
    url = f"/api/v1/incidents/{b.incident_id}"

    def set_regencies(codes: list[str]) -> None:
        with Session(engine) as s:
            s.execute(update(AppUser).where(AppUser.username == a.usernames["dispatcher"])
                      .values(kode_kabs=codes))
            s.commit()

    def status_soon(expected: int) -> httpx.Response:
        """The change was made in another session (as the CLI would): the API's principal
        cache hears of it by PostgreSQL NOTIFY, within milliseconds (api/principal_cache.py)."""
        return once_notified(lambda: client.get(url, headers=_auth(a, "dispatcher")),
                             lambda r: r.status_code == expected, "a change of regencies")

    assert client.get(url, headers=_auth(a, "dispatcher")).status_code == 404
    set_regencies([A, B])
    try:
        r = status_soon(200)
        assert b.mark in r.text
        listed = client.get("/api/v1/incidents", headers=_auth(a, "dispatcher")).text
        assert a.mark in listed and b.mark in listed
    finally:
        set_regencies([A])
    status_soon(404)


def test_regency_admin_manages_only_users_of_its_regencies(tenancy, role_tokens):
    client, a, b = tenancy
    admin = _auth(a, "admin")
    body = {"username": f"{a.mark}-baru".lower(), "password": world.PASSWORD,
            "role": "agency", "agency_code": DESK_AGENCY}
    r = client.post("/api/v1/auth/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["kode_kabs"] == [A]  # omitted: the admin's own regencies
    wider = client.post("/api/v1/auth/users", headers=admin,
                        json=body | {"username": f"{a.mark}-lebar".lower(), "kode_kabs": [A, B]})
    assert wider.status_code == 422 and "51.06" in wider.json()["error"]["message"]
    users = client.get("/api/v1/auth/users", headers=admin).json()
    assert users and all(u["kode_kabs"] == [A] for u in users)
    assert not any(u["username"].startswith(b.mark.lower()) for u in users)
    # the installation administrator (no regency list) sees and manages both
    everyone = client.get("/api/v1/auth/users",
                          headers={"Authorization": f"Bearer {role_tokens['admin']}"}).json()
    names = {u["username"] for u in everyone}
    assert a.usernames["admin"] in names and b.usernames["admin"] in names
