"""Helpers of the tracking integration tests: a QoS 1 publisher and database polling."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, text

from tests.fixtures.tracking import mqtt_host_port


def mosquitto_pub(mqtt_url: str, topic: str, payload: bytes) -> None:
    """Publish one message with the independent ``mosquitto_pub`` client at QoS 1."""
    host, port = mqtt_host_port(mqtt_url)
    subprocess.run(["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1", "-t", topic, "-s"],
                   input=payload, check=True, timeout=20)


class Publisher:
    """A paho QoS 1 publisher with a persistent session that survives broker restarts."""

    def __init__(self, mqtt_url: str, client_id: str) -> None:
        host, port = mqtt_host_port(mqtt_url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(50)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 600
        self.connected = threading.Event()
        self.client.on_connect = lambda *a: self.connected.set()
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.acked: set[int] = set()
        self.client.on_publish = lambda client, userdata, mid, rc, props: self.acked.add(mid)
        self.client.connect_async(host, port, clean_start=False, properties=props)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise TimeoutError("publisher could not connect")
        self.mids: list[int] = []

    def publish(self, topic: str, payload: bytes) -> None:
        # queued by paho even while disconnected, and sent again after a reconnect
        self.mids.append(self.client.publish(topic, payload, qos=1).mid)

    def pending(self, last: int | None = None) -> int:
        mids = self.mids if last is None else self.mids[-last:]
        return sum(1 for mid in mids if mid not in self.acked)

    def publish_all(self, messages: Iterable[tuple[str, bytes]],
                    between: Callable[[int], None] | None = None) -> None:
        for i, (topic, payload) in enumerate(messages):
            # keep the local queue short so the stream really spans the test's disturbance
            while self.pending(200) > 100:
                time.sleep(0.002)
            self.publish(topic, payload)
            if between:
                between(i)

    def wait_all(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.pending()} messages still not acknowledged by the broker")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def scalar(engine: Engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def position_counts(engine: Engine, device_prefix: str) -> tuple[int, int]:
    """(rows, distinct (device_id, fix_time, seq)) of devices whose id starts with the prefix."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*), count(DISTINCT (device_id, fix_time, seq)) FROM position "
            "WHERE device_id LIKE :p"), {"p": device_prefix + "%"}).one()
    return row[0], row[1]
