"""Live fan-out: coalescing (pure) and MQTT → hub → WebSocket through the real broker."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from api.live import Coalescer, LiveHub, LiveView, kind_of, mask_callers, unwrap
from api.services import LiveOptions
from dispatch.scoping import EVERYTHING


def test_coalescer_keeps_the_latest_position_per_device_and_every_other_event():
    c = Coalescer()
    for seq in range(5):
        c.add("position", {"device_id": "a", "seq": seq})
    c.add("arrival", {"device_id": "a", "assignment_id": 1})
    c.add("position", {"device_id": "b", "seq": 0})
    c.add("position", {"device_id": "a", "seq": 9})
    c.add("sla", {"incident_id": 3})
    events = c.drain()
    positions = [e["data"] for e in events if e["kind"] == "position"]
    assert positions == [{"device_id": "b", "seq": 0}, {"device_id": "a", "seq": 9}]
    assert [e["kind"] for e in events if e["kind"] != "position"] == ["arrival", "sla"]
    assert c.drain() == [] and len(c) == 0


def test_callers_are_masked_for_roles_that_may_not_see_them():
    events = [{"kind": "incident", "data": {"incident_id": 1, "caller_phone": "081234567890"}}]
    masked = mask_callers(events)
    assert masked[0]["data"]["caller_phone"] == "0812*****890"
    assert events[0]["data"]["caller_phone"] == "081234567890"  # original untouched


def test_topic_kind_and_payload_shapes():
    assert kind_of("siaga/v1/events/arrival") == "arrival"
    assert unwrap({"kind": "position", "fixes": [{"a": 1}, {"b": 2}]}) == [{"a": 1}, {"b": 2}]
    assert unwrap([{"a": 1}]) == [{"a": 1}] and unwrap({"a": 1}) == [{"a": 1}]


def test_hub_drops_the_oldest_window_for_a_slow_browser():
    import asyncio

    async def run() -> tuple[int, int]:
        hub = LiveHub(window_s=10)
        sub = hub.subscribe(LiveView(role="dispatcher"))
        for i in range(70):
            hub.publish("position", {"device_id": "x", "seq": i})
            hub.flush()
        first = json.loads(sub.queue.get_nowait())
        return sub.dropped, first["events"][0]["data"]["seq"]

    dropped, first_seq = asyncio.run(run())
    assert dropped == 6 and first_seq == 6  # queue of 64: windows 0..5 dropped, newest kept


def _publish(mqtt_url: str, messages: list[tuple[str, dict | list]]) -> None:
    u = urlparse(mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    client.connect(u.hostname, u.port or 1883)
    client.loop_start()
    for topic, payload in messages:
        client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def _collect(ws, want, timeout_s: float = 10.0) -> list[dict]:
    """Receive event batches until ``want(events)`` holds (or fail after ``timeout_s``)."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        msg = ws.receive_json()
        if msg.get("type") == "events":
            events += msg["events"]
            if want(events):
                return events
    raise AssertionError(f"events never arrived: {events[-5:]}")


def _wait_subscribed(app) -> None:
    source = app.state.siaga.running.live_source
    deadline = time.monotonic() + 5
    while not source.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert source.connected
    time.sleep(0.2)  # SUBACK


def test_mqtt_events_reach_the_browser_coalesced(settings, database_url, mqtt_url, role_tokens):
    from api.app import create_app

    prefix = f"siaga-test-{uuid.uuid4().hex[:8]}/v1/events"
    cfg = settings.model_copy(update={"database_url": database_url, "mqtt_url": mqtt_url})
    app = create_app(cfg, live=LiveOptions(topic=f"{prefix}/#", window_s=0.3))
    with TestClient(app) as client:
        _wait_subscribed(app)
        with client.websocket_connect(f"/api/v1/live?token={role_tokens['dispatcher']}") as ws, \
                client.websocket_connect(f"/api/v1/live?token={role_tokens['planner']}") as ws2:
            assert ws.receive_json()["type"] == "hello"
            assert ws2.receive_json()["role"] == "planner"
            # Every non-admin user acts for named regencies: events must name theirs.
            fixes = [{"device_id": "dev-1", "seq": i, "lat": -7.8, "lon": 110.37 + i * 1e-4,
                      "fix_time": "2026-01-01T00:00:00Z", "kode_kab": "34.71"}
                     for i in range(30)]
            _publish(mqtt_url, [(f"{prefix}/position", fixes[:10]),  # an array
                                (f"{prefix}/position", {"kind": "position",  # ingest's shape
                                                        "fixes": fixes[10:]}),
                                (f"{prefix}/incident", {"incident_id": 7, "kode_kab": "34.71",
                                                        "caller_phone": "081234567890"}),
                                (f"{prefix}/arrival", {"assignment_id": 3, "device_id": "dev-1",
                                                       "kode_kab": "34.71"}),
                                (f"{prefix}/garbage", "not an object")])
            seen = _collect(ws, lambda ev: any(e["kind"] == "arrival" for e in ev)
                            and any(e["data"].get("seq") == 29 for e in ev))
            positions = [e["data"]["seq"] for e in seen if e["kind"] == "position"]
            assert len(positions) < 30 and positions[-1] == 29  # coalesced, newest last
            incident = next(e["data"] for e in seen if e["kind"] == "incident")
            assert incident["caller_phone"] == "081234567890"
            seen2 = _collect(ws2, lambda ev: any(e["kind"] == "incident" for e in ev))
            assert next(e["data"] for e in seen2 if e["kind"] == "incident")[
                "caller_phone"] == "0812*****890"
        assert app.state.siaga.running.live_source.rejected >= 1


def test_dispatch_events_published_by_the_api_come_back_live(settings, database_url, mqtt_url,
                                                             role_tokens):
    """The ``publish_events`` sink the dispatch routes use goes through the broker."""
    from api.app import create_app

    prefix = f"siaga-test-{uuid.uuid4().hex[:8]}/v1/events"
    cfg = settings.model_copy(update={"database_url": database_url, "mqtt_url": mqtt_url})
    app = create_app(cfg, live=LiveOptions(topic=f"{prefix}/#"))
    with TestClient(app) as client:
        _wait_subscribed(app)
        sink = app.state.siaga.publish_events
        with client.websocket_connect(f"/api/v1/live?token={role_tokens['viewer']}") as ws:
            ws.receive_json()
            sink([(f"{prefix}/unit", {"unit_id": 1, "status": "dispatched",
                                      "kode_kab": "34.71"})])
            seen = _collect(ws, lambda ev: any(e["kind"] == "unit" for e in ev))
            assert seen[0]["data"] == {"unit_id": 1, "status": "dispatched", "kode_kab": "34.71"}


def test_the_stream_closes_when_the_session_is_revoked(settings, database_url, mqtt_url, engine):
    from sqlalchemy.orm import Session
    from starlette.websockets import WebSocketDisconnect

    from api.app import create_app
    from api.auth import service

    with Session(engine) as session:
        issued = service.issue_api_token(session=session, username="test_viewer", name="ws",
                                         scope=EVERYTHING)
        session.commit()
    cfg = settings.model_copy(update={"database_url": database_url, "mqtt_url": mqtt_url})
    app = create_app(cfg, live=LiveOptions(recheck_s=0.2,
                                           topic=f"siaga-test-{uuid.uuid4().hex[:8]}/#"))
    with TestClient(app) as client:
        with client.websocket_connect(f"/api/v1/live?token={issued.token}") as ws:
            assert ws.receive_json()["type"] == "hello"
            with Session(engine) as session:
                service.revoke_token(session=session, token_id=issued.token_id, scope=EVERYTHING)
                session.commit()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1008
