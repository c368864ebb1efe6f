"""The production ACL (deploy/mosquitto/acl) on a real broker: a device publishes only as itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.outbox import Outbox
from gps_firmware_bridge.publisher import MqttConfig, Publisher
from tests.unit.gps_firmware_bridge._vectors import REPO, when

USERS = {"dev-A": "pa", "dev-B": "pb", "siaga-ingest": "pi"}


def _secured_broker(broker_factory):
    broker = broker_factory(
        extra_conf="allow_anonymous false\npassword_file {dir}/passwd\nacl_file {dir}/acl\n"
    )
    conf = broker.conf.read_text().replace("{dir}", str(broker.dir))
    broker.conf.write_text(conf)
    shutil.copy(REPO / "deploy" / "mosquitto" / "acl", broker.dir / "acl")
    passwd = broker.dir / "passwd"
    passwd.write_text("".join(f"{u}:{p}\n" for u, p in USERS.items()))
    subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True)
    broker.start()
    return broker


def _v5(user: str, port: int) -> tuple[mqtt.Client, dict[int, ReasonCode], threading.Event]:
    acks: dict[int, ReasonCode] = {}
    connected = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{user}", protocol=mqtt.MQTTv5)
    client.username_pw_set(user, USERS[user])
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.on_publish = lambda c, u, mid, rc, p: acks.__setitem__(mid, rc)
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(5)
    return client, acks, connected


def _wait(pred, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_device_cannot_publish_as_another(broker_factory, tmp_path):
    broker = _secured_broker(broker_factory)
    received: list[tuple[str, dict]] = []
    ingest, _, _ = _v5("siaga-ingest", broker.port)
    subscribed = threading.Event()
    ingest.on_subscribe = lambda *a: subscribed.set()
    ingest.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    ingest.subscribe("siaga/v1/pos/#", qos=1)
    assert subscribed.wait(5)

    dev_a, acks, _ = _v5("dev-A", broker.port)
    own = dev_a.publish("siaga/v1/pos/dev-A", json.dumps({"who": "A"}), qos=1)
    forged = dev_a.publish("siaga/v1/pos/dev-B", json.dumps({"who": "A-as-B"}), qos=1)
    assert _wait(lambda: own.mid in acks and forged.mid in acks)
    assert acks[own.mid].value == 0
    assert acks[forged.mid].value == 135  # 0x87 Not authorized
    assert _wait(lambda: len(received) >= 1)
    time.sleep(0.3)
    assert received == [("siaga/v1/pos/dev-A", {"who": "A"})]

    # The bridge publisher with dev-B's credentials: its own fixes go through.
    box = Outbox(tmp_path / "b.sqlite")
    box.put(Fix("dev-B", when("2026-11-23T01:00:00Z"), 110.36, -7.8, source="gt06"))
    pub = Publisher(box, MqttConfig(broker.url, "acl-bridge-b", "dev-B", USERS["dev-B"]))
    pub.start()
    try:
        assert pub.wait_drained(10)
    finally:
        pub.stop()
    assert _wait(lambda: any(t == "siaga/v1/pos/dev-B" for t, _ in received))
    forged_seen = [p for t, p in received if p.get("who") == "A-as-B"]
    assert forged_seen == []

    # A wrong password is refused at connect.
    bad = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="acl-bad", protocol=mqtt.MQTTv5)
    bad.username_pw_set("dev-A", "wrong")
    refused = threading.Event()
    bad.on_connect = lambda c, u, f, rc, p: refused.set() if rc.is_failure else None
    bad.connect("127.0.0.1", broker.port)
    bad.loop_start()
    assert refused.wait(5)
    for client in (bad, dev_a, ingest):
        client.disconnect()
        client.loop_stop()


def test_device_publishes_only_its_own_status(broker_factory):
    """siaga/v1/status/<device>: a device may publish its own status, not another's; the ingest
    user reads them all."""
    broker = _secured_broker(broker_factory)
    received: list[tuple[str, dict]] = []
    ingest, _, _ = _v5("siaga-ingest", broker.port)
    subscribed = threading.Event()
    ingest.on_subscribe = lambda *a: subscribed.set()
    ingest.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    ingest.subscribe("siaga/v1/status/#", qos=1)
    assert subscribed.wait(5)

    dev_a, acks, _ = _v5("dev-A", broker.port)
    own = dev_a.publish("siaga/v1/status/dev-A", json.dumps({"who": "A"}), qos=1)
    forged = dev_a.publish("siaga/v1/status/dev-B", json.dumps({"who": "A-as-B"}), qos=1)
    wildcard_level = dev_a.publish("siaga/v1/status/dev-A/x", json.dumps({"who": "A/x"}), qos=1)
    assert _wait(lambda: {own.mid, forged.mid, wildcard_level.mid} <= acks.keys())
    assert acks[own.mid].value == 0
    assert acks[forged.mid].value == 135  # 0x87 Not authorized
    assert acks[wildcard_level.mid].value == 135
    assert _wait(lambda: len(received) >= 1)
    time.sleep(0.3)
    assert received == [("siaga/v1/status/dev-A", {"who": "A"})]
    for client in (dev_a, ingest):
        client.loop_stop()
        client.disconnect()
