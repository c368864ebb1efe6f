"""``docker-compose.yml``'s broker as written: the real ``mosquitto`` with
``deploy/mosquitto/mosquitto.conf`` (only its port, file paths and run-as user adapted), the
shipped ACL and a password file made by ``deploy/mosquitto/make-passwd.sh``; the real API app
under uvicorn logged in as ``siaga-api`` (as the compose file does) and a WebSocket client.

* an incident created over HTTP reaches the console's WebSocket (the API may publish events);
* the ingest login reads device positions and OwnTracks topics;
* a device cannot publish as another device, nor inject an event into the console.
"""

from __future__ import annotations

import getpass
import json
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import paho.mqtt.client as mqtt
import pytest
from websockets.sync.client import connect as ws_connect

from tests.fixtures.tracking import REPO, free_port, wait_port
from tests.integration.api.live_server import serve

DEPLOY = REPO / "deploy" / "mosquitto"
COMPOSE = REPO / "docker-compose.yml"


def _compose_conf(workdir: Path, port: int) -> Path:
    """deploy/mosquitto/mosquitto.conf with the container paths and port replaced."""
    text = (DEPLOY / "mosquitto.conf").read_text()
    data = workdir / "data"
    data.mkdir()
    swaps = {
        "listener 1883\n": f"listener {port} 127.0.0.1\n",
        "password_file /mosquitto/config/passwd\n": f"password_file {workdir / 'passwd'}\n",
        "acl_file /mosquitto/config/acl\n": f"acl_file {DEPLOY / 'acl'}\n",
        "persistence_location /mosquitto/data/\n": f"persistence_location {data}/\n",
        "log_dest stdout\n": f"log_dest file {workdir / 'mosquitto.log'}\n",
    }
    for old, new in swaps.items():
        assert old in text, f"mosquitto.conf no longer has {old!r}: adapt this test"
        text = text.replace(old, new)
    conf = workdir / "mosquitto.conf"
    conf.write_text(text + f"user {getpass.getuser()}\n")
    return conf


@pytest.fixture
def compose_broker(tmp_path):
    for tool in ("mosquitto", "mosquitto_passwd"):
        if shutil.which(tool) is None:
            from tests.conftest import service_missing

            service_missing(f"{tool} is not installed")
    token = uuid.uuid4().hex[:8]
    users = {"siaga-api": f"api-{token}", "siaga-ingest": f"ingest-{token}",
             f"amb-{token}": "amb-pw", f"imei-{token}": "imei-pw", f"budi-{token}": "ot-pw"}
    listing = tmp_path / "users.txt"
    listing.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
    subprocess.run([str(DEPLOY / "make-passwd.sh"), str(listing), str(tmp_path / "passwd")],
                   check=True, timeout=60, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(["mosquitto", "-c", str(_compose_conf(tmp_path, port))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port, users, token
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _client(port: int, user: str, password: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                         client_id=f"t-{uuid.uuid4().hex[:10]}")
    client.username_pw_set(user, password)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(10), f"{user} could not log in"
    return client


def _publish_as(port: int, user: str, password: str, topic: str, payload: dict) -> None:
    """One QoS 1 message as a tracker sends it (MQTT 3.1.1: the broker acknowledges and drops
    what the ACL refuses), on a connection of its own."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                         client_id=f"t-{uuid.uuid4().hex[:10]}")
    client.username_pw_set(user, password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _events(ws, until, timeout_s: float) -> list[dict]:
    """Console events received until ``until(events)`` holds or ``timeout_s`` passes."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not until(events):
        try:
            msg = json.loads(ws.recv(timeout=max(0.05, deadline - time.monotonic())))
        except TimeoutError:
            break
        if msg.get("type") == "events":
            events += msg["events"]
    return events


def test_compose_broker_carries_api_events_and_keeps_devices_apart(
        compose_broker, settings, database_url, role_tokens, pilot_regions):
    from api.app import create_app

    port, users, token = compose_broker
    assert "mqtt://siaga-api:" in COMPOSE.read_text()  # the login the compose file gives the API
    cfg = settings.model_copy(update={
        "database_url": database_url,
        "mqtt_url": f"mqtt://siaga-api:{quote(users['siaga-api'])}@127.0.0.1:{port}"})
    amb, imei, budi = f"amb-{token}", f"imei-{token}", f"budi-{token}"
    received: list[tuple[str, bytes]] = []
    ingest = _client(port, "siaga-ingest", users["siaga-ingest"])
    ingest.on_message = lambda c, u, m: received.append((m.topic, m.payload))
    for topic in ("siaga/v1/pos/+", "siaga/v1/status/+", "owntracks/+/+"):
        ingest.subscribe(topic, qos=1)
    headers = {"Authorization": f"Bearer {role_tokens['dispatcher']}"}
    with serve(create_app(cfg)) as base, httpx.Client(base_url=base, headers=headers) as http, \
            ws_connect(base.replace("http", "ws") + "/api/v1/live?token="
                       + role_tokens["dispatcher"]) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        # The API's live subscriber connects in the background: the first incident may be
        # published before it has subscribed, so try a few.
        seen: list[dict] = []
        for _ in range(5):
            r = http.post("/api/v1/incidents", json={
                "category": "fire", "lon": 110.3695, "lat": -7.8014,
                "caller_phone": "081234567890", "description": f"uji broker {token}"})
            assert r.status_code == 201, r.text
            incident_id = r.json()["id"]
            seen = _events(ws, lambda ev, i=incident_id: any(
                e["kind"] == "incident" and e["data"].get("incident_id") == i for e in ev), 4.0)
            if any(e["kind"] == "incident" and e["data"].get("incident_id") == incident_id
                   for e in seen):
                break
        else:
            pytest.fail(f"no incident event reached the console through the broker: {seen}")

        fix = {"v": 1, "device_id": amb, "seq": 1, "lat": -7.8, "lon": 110.36,
               "fix_time": "2026-01-01T00:00:00Z"}
        marker = f"forged-{token}"
        _publish_as(port, amb, "amb-pw", f"siaga/v1/pos/{imei}", {**fix, "device_id": imei})
        _publish_as(port, amb, "amb-pw", "siaga/v1/events/incident",
                    {"incident_id": -1, "marker": marker})
        _publish_as(port, amb, "amb-pw", f"siaga/v1/pos/{amb}", fix)
        _publish_as(port, budi, "ot-pw", f"owntracks/{budi}/hp",
                    {"_type": "location", "tst": 1767225600, "lat": -7.8, "lon": 110.36})
        deadline = time.monotonic() + 10
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        late = _events(ws, lambda ev: False, 1.5)  # anything the forged event might have caused
        ingest.disconnect()
        ingest.loop_stop()
    assert sorted(topic for topic, _ in received) == [
        f"owntracks/{budi}/hp", f"siaga/v1/pos/{amb}"]  # not the one forged for imei
    assert marker not in json.dumps(seen + late)
