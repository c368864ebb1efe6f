"""The shipped ACL (deploy/mosquitto/acl) on a real Mosquitto for tracker commands: the bridge
reads ``siaga/v1/cmd/+`` and writes ``siaga/v1/cmd/+/answer`` but cannot forge commands; devices
and the API cannot send commands; an operator account can once granted deliberately."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.integration.gps_firmware_bridge.test_acl import REPO, _wait

USERS = {"siaga-bridge": "pb", "siaga-api": "pa", "ops": "po", "dev-A": "pd"}
GRANT = "\nuser ops\ntopic write siaga/v1/cmd/+\ntopic read siaga/v1/cmd/+/answer\n"
IMEI = "356307042441013"


def _broker(broker_factory, grant: str):
    broker = broker_factory(
        extra_conf="allow_anonymous false\npassword_file {dir}/passwd\nacl_file {dir}/acl\n"
    )
    broker.conf.write_text(broker.conf.read_text().replace("{dir}", str(broker.dir)))
    shipped = (REPO / "deploy" / "mosquitto" / "acl").read_text()
    # user blocks end at the next "user"/"pattern" line: the operator grant goes before patterns
    head, sep, tail = shipped.partition("\npattern ")
    (broker.dir / "acl").write_text(head + grant + sep + tail)
    passwd = broker.dir / "passwd"
    passwd.write_text("".join(f"{u}:{p}\n" for u, p in USERS.items()))
    subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True)
    if broker.as_root:
        shutil.chown(passwd, "mosquitto")
    broker.start()
    return broker


def _client(user: str, port: int, sub: str | None = None):
    acks: dict[int, int] = {}
    got: list[tuple[str, bytes]] = []
    ready = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cmdacl-{user}",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    client.username_pw_set(user, USERS[user])
    client.on_publish = lambda c, u, mid, rc, p: acks.__setitem__(mid, rc.value)
    client.on_message = lambda c, u, m: got.append((m.topic, m.payload))
    client.on_subscribe = lambda *a: ready.set()
    if sub:
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(sub, qos=1)
    else:
        client.on_connect = lambda c, u, f, rc, p: ready.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert ready.wait(5)
    return client, acks, got


def test_only_a_granted_operator_sends_commands_and_the_bridge_answers(broker_factory):
    broker = _broker(broker_factory, GRANT)
    bridge, bridge_acks, bridge_got = _client("siaga-bridge", broker.port, f"siaga/v1/cmd/{IMEI}")
    ops, ops_acks, ops_got = _client("ops", broker.port, "siaga/v1/cmd/+/answer")
    api, api_acks, _ = _client("siaga-api", broker.port)
    dev, dev_acks, _ = _client("dev-A", broker.port)
    topic = f"siaga/v1/cmd/{IMEI}"
    try:
        sent = ops.publish(topic, b"getinfo", qos=1)
        assert _wait(lambda: sent.mid in ops_acks and bridge_got)
        assert ops_acks[sent.mid] == 0 and bridge_got == [(topic, b"getinfo")]
        answer = bridge.publish(f"{topic}/answer", b'{"answer":"ok"}', qos=1)
        assert _wait(lambda: answer.mid in bridge_acks and ops_got)
        assert bridge_acks[answer.mid] == 0
        assert ops_got == [(f"{topic}/answer", b'{"answer":"ok"}')]
        by_api = api.publish(topic, b"Relay,1#", qos=1)
        by_dev = dev.publish(topic, b"Relay,1#", qos=1)
        forged = bridge.publish(topic, b"Relay,1#", qos=1)
        assert _wait(lambda: by_api.mid in api_acks and by_dev.mid in dev_acks)
        assert _wait(lambda: forged.mid in bridge_acks)
        assert api_acks[by_api.mid] == 135 and dev_acks[by_dev.mid] == 135  # Not authorized
        assert bridge_acks[forged.mid] == 135
        time.sleep(0.3)
        assert bridge_got == [(topic, b"getinfo")]  # none of the refused commands arrived
    finally:
        for client in (bridge, ops, api, dev):
            client.loop_stop()
            client.disconnect()


def test_shipped_acl_lets_no_account_send_commands(broker_factory):
    broker = _broker(broker_factory, "\n")
    ops, acks, _ = _client("ops", broker.port)
    try:
        info = ops.publish(f"siaga/v1/cmd/{IMEI}", b"getinfo", qos=1)
        assert _wait(lambda: info.mid in acks)
        assert acks[info.mid] == 135
    finally:
        ops.loop_stop()
        ops.disconnect()
