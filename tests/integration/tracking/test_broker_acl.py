"""The shipped broker ACL (``deploy/mosquitto/acl``) on a real Mosquitto with password logins.

OwnTracks phones publish ``owntracks/<user>/<device>`` under their own username; devices whose
username holds ``@`` or spaces publish their own ``siaga/v1/pos/<username>``; the ingest worker,
logged in as ``siaga-ingest``, stores both. A user cannot publish for another.
"""

from __future__ import annotations

import getpass
import json
import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import text

from tests.fixtures.tracking import REPO, free_port, wait_port
from tests.integration.tracking.helpers import scalar, wait_for

ACL = REPO / "deploy" / "mosquitto" / "acl"


class AclBroker:
    """Mosquitto with the shipped ACL file and a password file of the given users."""

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        passwd = workdir / "passwd"
        passwd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
        subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True, timeout=30)
        acl = workdir / "acl"
        shutil.copy(ACL, acl)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join([
            "per_listener_settings false", f"listener {self.port} 127.0.0.1",
            "allow_anonymous false", f"password_file {passwd}", f"acl_file {acl}",
            f"log_dest file {workdir / 'mosquitto.log'}", f"user {getpass.getuser()}", ""]))
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def url(self, user: str, password: str) -> str:
        return f"mqtt://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}"

    def publish(self, user: str, password: str, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 as ``user`` and wait for the broker's answer (PUBACK)."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.username_pw_set(user, password)
        connected = threading.Event()
        client.on_connect = lambda *a: connected.set()
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        try:
            assert connected.wait(10), f"{user} could not log in"
            client.publish(topic, payload, qos=1).wait_for_publish(10)
        finally:
            client.disconnect()
            client.loop_stop()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture
def acl_broker(tmp_path):
    for tool in ("mosquitto", "mosquitto_passwd"):
        if shutil.which(tool) is None:
            from tests.conftest import service_missing

            service_missing(f"{tool} is not installed")
    token = uuid.uuid4().hex[:8]
    users = {"siaga-ingest": "ingest-pw", f"budi-{token}@bpbd.go.id": "ot-pw",
             f"Ambulans {token}": "amb-pw", f"8621{token}": "imei-pw"}
    broker = AclBroker(tmp_path / "acl-broker", users)
    try:
        yield broker, token
    finally:
        broker.stop()


def test_owntracks_and_usernames_with_at_and_spaces_pass_the_shipped_acl_into_postgis(
        engine, acl_broker, ingest_process):
    broker, token = acl_broker
    worker = ingest_process(broker.url("siaga-ingest", "ingest-pw"), f"ingest-{token}", "")
    worker.wait_subscribed()
    now = datetime.now(UTC).replace(microsecond=0)
    ot_user, amb, imei = f"budi-{token}@bpbd.go.id", f"Ambulans {token}", f"8621{token}"
    location = {"_type": "location", "tst": int(now.timestamp()) - 20, "lat": -7.7956,
                "lon": 110.3695, "vel": 18, "acc": 9, "tid": "bd"}
    broker.publish(ot_user, "ot-pw", f"owntracks/{ot_user}/hp budi",
                   json.dumps(location).encode())

    def fix(device_id: str, seq: int) -> bytes:
        return json.dumps({"v": 1, "device_id": device_id, "seq": seq, "lat": -7.8,
                           "lon": 110.36, "fix_time": (now - timedelta(seconds=10))
                           .strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()

    broker.publish(amb, "amb-pw", f"siaga/v1/pos/{amb}", fix(amb, 1))
    # refused by the ACL: a device publishing for another device, an OwnTracks user for another
    broker.publish(amb, "amb-pw", f"siaga/v1/pos/{imei}", fix(imei, 2))
    broker.publish(imei, "imei-pw", f"owntracks/{ot_user}/hp budi",
                   json.dumps({**location, "tst": location["tst"] + 1}).encode())
    broker.publish(imei, "imei-pw", f"siaga/v1/pos/{imei}", fix(imei, 3))
    ot_device = f"owntracks:{ot_user}:hp budi"
    devices = [ot_device, amb, imei]
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM position WHERE device_id = ANY(:d)",
                            d=devices) >= 3, 20, "the three allowed fixes")
    time.sleep(1.0)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT device_id, seq, source FROM position "
                                 "WHERE device_id = ANY(:d) ORDER BY device_id, seq"),
                            {"d": devices}).all()
        rejects = conn.execute(text("SELECT count(*) FROM position_reject WHERE topic LIKE :p"),
                               {"p": f"%{token}%"}).scalar_one()
    assert sorted(tuple(r) for r in rows) == sorted(
        [(amb, 1, "native"), (imei, 3, "native"), (ot_device, None, "owntracks")])
    assert rejects == 0  # '@' and spaces are valid device ids, not invalid_topic
    assert worker.terminate() == 0
