"""Tracker MQTT logins on a real Mosquitto (password file + the shipped ACL, reloaded by SIGHUP):
a registered tracker publishes its own topic and not another's; once revoked it is disconnected
and cannot log in again. Registration goes through the same path as the API and CLI."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from api import registry_accounts
from dispatch.scope import Scope
from tests.fixtures.tracking import REPO, free_port, wait_port
from tracking.models import Device
from tracking.mqtt_accounts import MosquittoFileAccounts, acl_block, without_block

ACL = REPO / "deploy" / "mosquitto" / "acl"
BANGLI = Scope.of(["51.06"])


class LoginBroker:
    """Mosquitto with a password file, the shipped ACL and a pid file (for SIGHUP reloads)."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.passwd, self.acl = workdir / "passwd", workdir / "acl"
        self.passwd.write_text("siaga-ingest:ingest-pw\n")
        subprocess.run(["mosquitto_passwd", "-U", str(self.passwd)], check=True, timeout=30)
        shutil.copy(ACL, self.acl)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join([
            "per_listener_settings false", f"listener {self.port} 127.0.0.1",
            "allow_anonymous false", f"password_file {self.passwd}", f"acl_file {self.acl}",
            f"log_dest file {workdir / 'mosquitto.log'}", f"user {getpass.getuser()}", ""]))
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid_file = workdir / "mosquitto.pid"
        self.pid_file.write_text(f"{self.proc.pid}\n")
        wait_port(self.port)

    def accounts(self) -> MosquittoFileAccounts:
        return MosquittoFileAccounts(self.passwd, self.acl, pid_file=self.pid_file)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


class Client:
    """A paho client (MQTT v5) logged in as ``user``; ``connected`` False if refused."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                                  client_id=f"{user}-{uuid.uuid4().hex[:6]}")
        self.client.username_pw_set(user, password)
        self.answered, self.disconnected = threading.Event(), threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.received: list[str] = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.disconnected.set()
        self.client.on_message = lambda c, u, msg: self.received.append(msg.topic)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.answered.wait(10), "no CONNACK"

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.reason = reason_code
        self.answered.set()

    @property
    def connected(self) -> bool:
        return self.reason is not None and not self.reason.is_failure

    def publish(self, topic: str, payload: bytes = b"{}") -> mqtt.MQTTMessageInfo:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        return info

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def login_broker(tmp_path):
    for tool in ("mosquitto", "mosquitto_passwd"):
        if shutil.which(tool) is None:
            from tests.conftest import service_missing

            service_missing(f"{tool} is not installed")
    broker = LoginBroker(tmp_path / "login-broker")
    try:
        yield broker
    finally:
        broker.stop()


def test_acl_block_is_added_once_and_removed_alone():
    text = "user siaga-api\ntopic read siaga/v1/pos/#\n"
    once = without_block(text + acl_block("a"), "a") + acl_block("a") + acl_block("b")
    assert once.count("user a\n") == 1 and without_block(once, "a") == text + acl_block("b")


def _can_login(port: int, user: str, password: str) -> bool:
    client = Client(port, user, password)
    try:
        return client.connected
    finally:
        client.close()


def _wait(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_registered_tracker_publishes_only_its_own_topic_and_revoked_cannot_connect(
        db_session, login_broker):
    token = uuid.uuid4().hex[:8]
    own, other = f"uji-{token}-1", f"uji-{token}-2"
    accounts = login_broker.accounts()
    _, password = registry_accounts.register(db_session, own, kode_kab="51.06", scope=BANGLI,
                                             actor="uji", accounts=accounts, protocol="gt06")
    _, other_password = registry_accounts.register(db_session, other, kode_kab="51.06",
                                                   scope=BANGLI, actor="uji", accounts=accounts)
    assert password and other_password and password != other_password
    device = db_session.scalars(select(Device).where(Device.device_id == own)).one()
    assert device.registered and device.mqtt_provisioned_at is not None
    assert f"user {own}\n" in login_broker.acl.read_text()
    assert password not in login_broker.passwd.read_text()  # stored hashed

    watcher = Client(login_broker.port, "siaga-ingest", "ingest-pw")
    watcher.client.subscribe("siaga/v1/pos/#", qos=1)
    time.sleep(0.3)
    tracker = Client(login_broker.port, own, password)
    try:
        assert tracker.connected
        tracker.publish(f"siaga/v1/pos/{own}")
        tracker.publish(f"siaga/v1/pos/{other}")  # another tracker's topic: refused
        assert _wait(lambda: f"siaga/v1/pos/{own}" in watcher.received)
        time.sleep(0.5)
        assert watcher.received == [f"siaga/v1/pos/{own}"]
        assert not _can_login(login_broker.port, own, "salah")

        registry_accounts.revoke(db_session, own, scope=BANGLI, actor="uji", accounts=accounts)
        # the reload drops the connected tracker, and it cannot log in again
        assert _wait(tracker.disconnected.is_set), "revoked tracker stayed connected"
        assert not _can_login(login_broker.port, own, password)
        assert f"user {own}\n" not in login_broker.acl.read_text()
        device = db_session.scalars(select(Device).where(Device.device_id == own)).one()
        assert not device.registered and device.revoked_at is not None
        # the other tracker is untouched
        assert _can_login(login_broker.port, other, other_password)
    finally:
        tracker.close()
        watcher.close()


def test_a_failed_commit_takes_the_new_login_back(db_session, login_broker, monkeypatch):
    device_id = f"uji-{uuid.uuid4().hex[:8]}"
    accounts = login_broker.accounts()

    def broken_commit() -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(db_session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        registry_accounts.register(db_session, device_id, kode_kab="51.06", scope=BANGLI,
                                   actor="uji", accounts=accounts)
    assert f"{device_id}:" not in login_broker.passwd.read_text()
    assert f"user {device_id}\n" not in login_broker.acl.read_text()


def test_registration_over_http_returns_a_working_login(login_broker, app_factory, role_tokens,
                                                        engine):
    from fastapi.testclient import TestClient
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    device_id = f"uji-{uuid.uuid4().hex[:8]}"
    app = app_factory(mqtt_passwd_file=login_broker.passwd, mqtt_acl_file=login_broker.acl,
                      mqtt_pid_file=login_broker.pid_file)
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {role_tokens['admin']}"}) as api:
            r = api.post("/api/v1/registry/trackers",
                         json={"device_id": device_id, "kode_kab": "51.06", "protocol": "gt06"})
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["mqtt_username"] == device_id and body["tracker"]["registered"]
            assert body["topic"] == f"siaga/v1/pos/{device_id}"
            assert _can_login(login_broker.port, device_id, body["mqtt_password"])
            renewed = api.post(f"/api/v1/registry/trackers/{device_id}/credentials")
            assert renewed.status_code == 200
            assert not _can_login(login_broker.port, device_id, body["mqtt_password"])
            assert _can_login(login_broker.port, device_id, renewed.json()["mqtt_password"])
            gone = api.delete(f"/api/v1/registry/trackers/{device_id}")
            assert gone.status_code == 200 and not gone.json()["registered"]
            assert not _can_login(login_broker.port, device_id, renewed.json()["mqtt_password"])
    finally:
        with Session(engine) as s:
            s.execute(delete(Device).where(Device.device_id == device_id))
            s.commit()


def test_cli_registers_and_revokes_a_tracker_login(login_broker, database_url, engine):
    import json
    import os
    import sys

    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    device_id = f"uji-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "SIAGA_DATABASE_URL": database_url,
           "SIAGA_MQTT_PASSWD_FILE": str(login_broker.passwd),
           "SIAGA_MQTT_ACL_FILE": str(login_broker.acl),
           "SIAGA_MQTT_PID_FILE": str(login_broker.pid_file)}

    def siaga(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api.cli", "trackers", *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)

    try:
        done = siaga("register", device_id, "--region", "51.06", "--protocol", "teltonika")
        assert done.returncode == 0, done.stderr
        password = json.loads(done.stdout)["mqtt_password"]
        assert _can_login(login_broker.port, device_id, password)
        unknown = siaga("list", "--unknown")
        assert unknown.returncode == 0 and device_id not in unknown.stdout
        assert siaga("revoke", device_id).returncode == 0
        assert not _can_login(login_broker.port, device_id, password)
        again = siaga("revoke", "uji-tidak-ada")
        assert again.returncode == 1 and "not found" in again.stderr
    finally:
        with Session(engine) as s:
            s.execute(delete(Device).where(Device.device_id == device_id))
            s.commit()
