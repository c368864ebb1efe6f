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
import os
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
import yaml
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
        "plugin /usr/lib/mosquitto_dynamic_security.so\n": f"plugin {_dynsec_plugin()}\n",
        "plugin_opt_config_file /mosquitto/data/dynamic-security.json\n":
            f"plugin_opt_config_file {data / 'dynamic-security.json'}\n",
        "persistence_location /mosquitto/data/\n": f"persistence_location {data}/\n",
        "log_dest stdout\n": f"log_dest file {workdir / 'mosquitto.log'}\n",
    }
    for old, new in swaps.items():
        assert old in text, f"mosquitto.conf no longer has {old!r}: adapt this test"
        text = text.replace(old, new)
    conf = workdir / "mosquitto.conf"
    conf.write_text(text + f"user {getpass.getuser()}\n")
    return conf


def _dynsec_plugin() -> Path:
    """This machine's copy of the plugin the eclipse-mosquitto image has in /usr/lib."""
    found = sorted(Path("/usr/lib").glob("**/mosquitto_dynamic_security.so"))
    if not found:
        from tests.conftest import service_missing

        service_missing("mosquitto_dynamic_security.so is not installed (package mosquitto)")
    return found[0]


def _init_dynsec(workdir: Path, password: str) -> None:
    """Run the compose file's ``mqtt-init`` command as written, on ``workdir/data``."""
    command = yaml.safe_load(COMPOSE.read_text())["services"]["mqtt-init"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = (command[2].replace("$$", "$").replace("/mosquitto/data", str(workdir / "data"))
              .replace("chown -R 1883:1883", "chown -R $(id -u):$(id -g)"))
    env = {"PATH": os.environ["PATH"], "SIAGA_MQTT_DYNSEC_PASSWORD": password}
    for _ in range(2):  # the second start keeps the file
        subprocess.run(["sh", "-c", script], check=True, timeout=60, capture_output=True,
                       env=env)


@pytest.fixture
def compose_broker(tmp_path):
    for tool in ("mosquitto", "mosquitto_passwd", "mosquitto_ctrl"):
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
    conf = _compose_conf(tmp_path, port)
    users["siaga-dynsec"] = f"dynsec-{token}"
    _init_dynsec(tmp_path, users["siaga-dynsec"])
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)],
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


class _Device:
    """A tracker's MQTT v5 connection; ``refused`` when the broker turns the login down."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                                  client_id=f"t-{uuid.uuid4().hex[:10]}")
        self.client.username_pw_set(user, password)
        self.answered, self.dropped = threading.Event(), threading.Event()
        self.refused = False

        def on_connect(c, u, f, rc, p) -> None:  # noqa: ANN001
            self.refused = rc.is_failure
            self.answered.set()

        self.client.on_connect = on_connect
        self.client.on_disconnect = lambda *a: self.dropped.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.answered.wait(10), "no CONNACK"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _logs_in(port: int, user: str, password: str) -> bool:
    device = _Device(port, user, password)
    device.close()
    return not device.refused


def test_compose_api_provisions_and_revokes_tracker_logins_through_dynsec(
        compose_broker, tmp_path, app_factory, role_tokens, engine):
    """The compose API (SIAGA_MQTT_LOGINS=dynsec, admin siaga-dynsec made by mqtt-init)
    registers a tracker: it logs in, publishes its own topic and not another's; a new password
    replaces the old; revoked, it is dropped and cannot log in again."""
    from fastapi.testclient import TestClient
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from tracking.models import Device

    port, users, token = compose_broker
    compose = yaml.safe_load(COMPOSE.read_text())["services"]["api"]["environment"]
    assert compose["SIAGA_MQTT_LOGINS"] == "dynsec"
    assert compose["SIAGA_MQTT_DYNSEC_URL"].startswith("mqtt://siaga-dynsec:")
    own, other = f"trk-{token}-1", f"trk-{token}-2"
    app = app_factory(mqtt_logins="dynsec", mqtt_dynsec_url=(
        f"mqtt://siaga-dynsec:{quote(users['siaga-dynsec'])}@127.0.0.1:{port}"))
    received: list[str] = []
    ingest = _client(port, "siaga-ingest", users["siaga-ingest"])
    ingest.on_message = lambda c, u, m: received.append(m.topic)
    ingest.subscribe("siaga/v1/pos/+", qos=1)
    headers = {"Authorization": f"Bearer {role_tokens['admin']}"}
    device = None
    try:
        with TestClient(app, headers=headers) as api:
            made = {}
            for device_id in (own, other):
                r = api.post("/api/v1/registry/trackers",
                             json={"device_id": device_id, "kode_kab": "51.06"})
                assert r.status_code == 201, r.text
                made[device_id] = r.json()["mqtt_password"]
            assert own not in (tmp_path / "passwd").read_text()  # not a file login
            stored = (tmp_path / "data" / "dynamic-security.json").read_text()
            assert f'"{own}"' in stored and made[own] not in stored  # hashed by the plugin

            device = _Device(port, own, made[own])
            assert not device.refused
            for topic in (f"siaga/v1/pos/{own}", f"siaga/v1/pos/{other}"):
                device.client.publish(topic, b"{}", qos=1).wait_for_publish(10)
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            assert received == [f"siaga/v1/pos/{own}"]  # not the other tracker's topic
            assert not _logs_in(port, own, "salah")

            renewed = api.post(f"/api/v1/registry/trackers/{own}/credentials")
            assert renewed.status_code == 200, renewed.text
            assert device.dropped.wait(10), "the old session survived a password reset"
            device.close()
            assert not _logs_in(port, own, made[own])
            device = _Device(port, own, renewed.json()["mqtt_password"])
            assert not device.refused

            gone = api.delete(f"/api/v1/registry/trackers/{own}")
            assert gone.status_code == 200 and not gone.json()["registered"], gone.text
            assert device.dropped.wait(10), "revoked tracker stayed connected"
            assert not _logs_in(port, own, renewed.json()["mqtt_password"])
            assert _logs_in(port, other, made[other])  # the other tracker is untouched
            assert f'"{own}"' not in (tmp_path / "data" / "dynamic-security.json").read_text()
    finally:
        if device is not None:
            device.close()
        ingest.disconnect()
        ingest.loop_stop()
        with Session(engine) as s:
            s.execute(delete(Device).where(Device.device_id.in_([own, other])))
            s.commit()
