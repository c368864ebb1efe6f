"""The live WebSocket filters by role and agency: real clients of four roles, the real broker,
incidents and units in the real database."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from fastapi.testclient import TestClient

from api.live import LiveView, visible
from api.services import LiveOptions
from tests.fixtures.console import TEST_AGENCY_CODE

PHONE = "081234567890"


def _publish(mqtt_url: str, messages: list[tuple[str, dict]]) -> None:
    u = urlparse(mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    client.connect(u.hostname, u.port or 1883)
    client.loop_start()
    for topic, payload in messages:
        client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def _until_marker(ws, marker: str, timeout_s: float = 15.0) -> list[dict]:
    """Every event received up to and including the ``sla`` event carrying ``marker``."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        msg = ws.receive_json()
        if msg.get("type") != "events":
            continue
        events += msg["events"]
        if any(e["data"].get("marker") == marker for e in events):
            return events
    raise AssertionError(f"marker never arrived: {events[-5:]}")


def _wait_subscribed(app) -> None:
    source = app.state.siaga.running.live_source
    deadline = time.monotonic() + 5
    while not source.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert source.connected
    time.sleep(0.2)  # SUBACK


def _incident_with(client: TestClient, category: str) -> int:
    r = client.post("/api/v1/incidents", json={"category": category, "lon": 110.3695,
                                                "lat": -7.8014, "caller_phone": PHONE})
    assert r.status_code == 201, r.text
    incident_id = r.json()["id"]
    detail = client.get(f"/api/v1/incidents/{incident_id}").json()
    if not detail["agencies"]:
        client.post(f"/api/v1/incidents/{incident_id}/triage", json={})
    return incident_id


def test_each_role_receives_only_what_it_may_see(settings, database_url, mqtt_url, role_tokens,
                                                 console_world):
    from api.app import create_app

    prefix = f"siaga-test-{uuid.uuid4().hex[:8]}/v1/events"
    cfg = settings.model_copy(update={"database_url": database_url, "mqtt_url": mqtt_url,
                                      "roads_dir": console_world})
    app = create_app(cfg, live=LiveOptions(topic=f"{prefix}/#", window_s=0.2))
    bearer = {"Authorization": f"Bearer {role_tokens['dispatcher']}"}
    with TestClient(app, headers=bearer) as api:
        ours = _incident_with(api, "fire")  # DAMKAR takes part
        theirs = _incident_with(api, "flood")  # BPBD, not DAMKAR
        agencies = {a["agency"] for a in api.get(f"/api/v1/incidents/{ours}").json()["agencies"]}
        assert TEST_AGENCY_CODE in agencies
        others = {a["agency"] for a in api.get(f"/api/v1/incidents/{theirs}").json()["agencies"]}
        assert TEST_AGENCY_CODE not in others
        units = api.get("/api/v1/units?kode_kab=34.71").json()["units"]
        own_unit = next(u for u in units if u["agency"] == TEST_AGENCY_CODE)
        other_unit = next(u for u in units if u["agency"] != TEST_AGENCY_CODE)
        _wait_subscribed(app)
        del api.headers["Authorization"]  # each socket authenticates with its own token
        sockets = {role: api.websocket_connect(f"/api/v1/live?token={role_tokens[role]}")
                   for role in ("dispatcher", "planner", "viewer", "agency")}
        try:
            for ws in sockets.values():
                ws.__enter__()
                assert ws.receive_json()["type"] == "hello"
            marker = uuid.uuid4().hex
            _publish(mqtt_url, [
                (f"{prefix}/incident", {"action": "created", "incident_id": ours,
                                        "caller_phone": PHONE, "caller_name": "Budi"}),
                (f"{prefix}/incident", {"action": "created", "incident_id": theirs,
                                        "caller_phone": PHONE, "caller_name": "Sari"}),
                (f"{prefix}/unit", {"action": "status", "unit_id": own_unit["id"]}),
                (f"{prefix}/unit", {"action": "status", "unit_id": other_unit["id"]}),
                (f"{prefix}/sla", {"action": "acknowledged", "incident_id": theirs,
                                   "agency": "BPBD"}),
                (f"{prefix}/position", {"device_id": f"unregistered-{marker}", "seq": 1}),
                (f"{prefix}/sla", {"action": "note", "agency": TEST_AGENCY_CODE,
                                   "kode_kab": "34.71", "marker": marker}),
            ])
            seen = {role: _until_marker(ws, marker) for role, ws in sockets.items()}
        finally:
            for ws in sockets.values():
                ws.__exit__(None, None, None)
            # leave no open incidents behind in the shared test database
            cancelled = [api.post(f"/api/v1/incidents/{incident_id}/status",
                                  json={"status": "cancelled", "reason": "uji selesai"},
                                  headers=bearer).status_code
                         for incident_id in (ours, theirs)]
    assert cancelled == [200, 200]

    def incidents(role: str) -> dict[int, dict]:
        return {e["data"]["incident_id"]: e["data"] for e in seen[role]
                if e["kind"] == "incident"}

    def unit_ids(role: str) -> set[int]:
        return {e["data"]["unit_id"] for e in seen[role] if e["kind"] == "unit"}

    # dispatchers: everything, callers in full
    assert incidents("dispatcher")[ours]["caller_phone"] == PHONE
    assert incidents("dispatcher")[theirs]["caller_name"] == "Sari"
    assert unit_ids("dispatcher") == {own_unit["id"], other_unit["id"]}
    # every non-admin user acts for named regencies: an event of no known regency (the
    # unregistered tracker's position) reaches none of them (fail closed)
    assert not [e for e in seen["dispatcher"] if e["kind"] == "position"]
    assert len(seen["dispatcher"]) == 6
    # planners: everything, numbers masked, no names
    assert set(incidents("planner")) == {ours, theirs}
    assert incidents("planner")[ours]["caller_phone"] == "0812*****890"
    assert "caller_name" not in incidents("planner")[ours]
    # viewers: no caller data at all
    assert set(incidents("viewer")) == {ours, theirs}
    assert all("caller_phone" not in d and "caller_name" not in d
               for d in incidents("viewer").values())
    # the agency desk: only what involves its agency, callers masked
    assert set(incidents("agency")) == {ours}
    assert incidents("agency")[ours]["caller_phone"] == "0812*****890"
    assert "caller_name" not in incidents("agency")[ours]
    assert unit_ids("agency") == {own_unit["id"]}
    assert not [e for e in seen["agency"] if e["data"].get("agency") == "BPBD"]
    assert not [e for e in seen["agency"] if e["kind"] == "position"]  # not one of its devices
    assert len(seen["agency"]) == 3


def test_visibility_rules_without_a_scope_fail_closed_for_agency_desks():
    events = [{"kind": "incident", "data": {"incident_id": 1, "caller_phone": PHONE}},
              {"kind": "sla", "data": {"agency": "DAMKAR", "incident_id": 1}}]
    desk = visible(events, LiveView("agency", "DAMKAR"))
    assert [e["kind"] for e in desk] == ["sla"]  # names its agency itself
    assert visible(events, LiveView("agency", "BPBD")) == []
    assert visible(events, LiveView("admin")) is events
