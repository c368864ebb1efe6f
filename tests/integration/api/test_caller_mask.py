"""One caller-phone mask everywhere: the REST incident and the live WebSocket event show a
non-dispatcher role the same masked number (``dispatch.privacy.mask_phone``)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from api.services import LiveOptions
from tests.integration.api.test_live import _collect, _publish, _wait_subscribed
from tests.integration.dispatch.test_configured_profiles import region  # noqa: F401 - fixture

#: Nine digits: the two old masks disagreed on it (``0812**567`` vs ``*******67``).
PHONE = "081234567"


def test_rest_and_websocket_mask_the_caller_alike(region, settings, database_url,  # noqa: F811
                                                 mqtt_url, role_tokens):
    from api.app import create_app

    prefix = f"siaga-test-{uuid.uuid4().hex[:8]}/v1/events"
    cfg = settings.model_copy(update={"database_url": database_url, "mqtt_url": mqtt_url})
    app = create_app(cfg, live=LiveOptions(topic=f"{prefix}/#", window_s=0.2),
                     dispatch_config=region["config"], publish_events=lambda events: None)

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {role_tokens[role]}"}

    with TestClient(app) as client:
        r = client.post("/api/v1/incidents", headers=auth("dispatcher"),
                        json={"category": "fire", "lon": 120.005, "lat": -5.002,
                              "kode_kab": "99.02", "caller_phone": PHONE})
        assert r.status_code == 201, r.text
        incident_id = r.json()["id"]
        assert r.json()["caller_phone"] == PHONE  # a dispatcher sees the number
        r = client.get(f"/api/v1/incidents/{incident_id}", headers=auth("planner"))
        assert r.status_code == 200, r.text
        rest_mask = r.json()["caller_phone"]
        assert rest_mask != PHONE and rest_mask.endswith("567")

        _wait_subscribed(app)
        with client.websocket_connect(f"/api/v1/live?token={role_tokens['planner']}") as ws:
            assert ws.receive_json()["role"] == "planner"
            _publish(mqtt_url, [(f"{prefix}/incident", {"incident_id": incident_id,
                                                        "caller_phone": PHONE})])
            seen = _collect(ws, lambda ev: any(e["kind"] == "incident" for e in ev))
        live_mask = next(e["data"] for e in seen if e["kind"] == "incident")["caller_phone"]
        assert live_mask == rest_mask
