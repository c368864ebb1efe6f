"""A simulated tracker for the broker failover test: MQTT 3.1.1 QoS 1 publications, moving to the
next node of the cluster when its connection drops or PUBACKs stop, then replaying its last
acknowledged messages as ``siaga-bridge --replay-last`` does."""

from __future__ import annotations

import threading
import time
from collections import deque

import paho.mqtt.client as mqtt

REPLAY_LAST = 200  # as siaga-bridge --replay-last
PUBACK_TIMEOUT_S = 8.0  # a tracker that waits longer for a PUBACK reconnects


class Device:
    """A tracker publishing QoS 1 over MQTT 3.1.1 (what nats-server speaks) that moves to the
    next node when its connection drops and then replays its last acknowledged messages."""

    def __init__(self, device_id: str, ports: list[int], first: int) -> None:
        self.device_id, self.ports, self.node = device_id, ports, first
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id,
                                  protocol=mqtt.MQTTv311, clean_session=False)
        self.client.max_inflight_messages_set(20)
        self.pending: dict[int, tuple[str, bytes]] = {}
        self.recent: deque[tuple[str, bytes]] = deque(maxlen=REPLAY_LAST)
        self.early: set[int] = set()
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.dropped = threading.Event()
        self.stopping = threading.Event()  # the test ends: stop publishing and moving
        self.reconnects = 0
        self.errors: list[BaseException] = []
        self.last_ack = time.monotonic()
        self.client.on_connect = lambda c, u, f, rc, p: (not rc.is_failure) and self.connected.set()
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.dropped.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self.lock:
            self.last_ack = time.monotonic()
            message = self.pending.pop(mid, None)
            if message is not None:
                self.recent.append(message)
            else:  # acknowledged before publish() recorded it
                self.early.add(mid)

    def connect(self) -> None:
        self.client.connect_async("127.0.0.1", self.ports[self.node], keepalive=10)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        # not under self.lock: paho calls on_publish holding its own lock (lock order)
        info = self.client.publish(topic, payload, qos=1)
        with self.lock:
            if info.mid in self.early:
                self.early.discard(info.mid)
                self.recent.append((topic, payload))
            else:
                self.pending[info.mid] = (topic, payload)

    def failover(self) -> None:
        """Reconnect to the next node: paho re-sends what was not acknowledged (same client id,
        session kept), then the replay of the last acknowledged messages."""
        try:
            self.client.loop_stop()
        except AttributeError:  # paho: its network thread ended between its check and join()
            pass
        self.dropped.clear()
        self.last_ack = time.monotonic()
        for _ in range(60):
            if self.stopping.is_set():
                return
            self.node = (self.node + 1) % len(self.ports)
            try:
                self.client.reconnect_delay_set(1, 2)
                self.client.connect("127.0.0.1", self.ports[self.node], keepalive=10)
                break
            except OSError:
                time.sleep(0.5)
        # a network thread that ended by itself may not have cleared its slot yet
        deadline = time.monotonic() + 10
        while (self.client.loop_start() != mqtt.MQTT_ERR_SUCCESS
               and time.monotonic() < deadline):
            time.sleep(0.01)
        self.connected.wait(20)
        self.reconnects += 1
        with self.lock:
            replay = list(self.recent)
        for topic, payload in replay:
            self.publish(topic, payload)

    def stalled(self) -> bool:
        """Publications wait for PUBACK for longer than a tracker waits (then it reconnects)."""
        with self.lock:
            return bool(self.pending) and time.monotonic() - self.last_ack > PUBACK_TIMEOUT_S

    def check(self) -> None:
        if self.dropped.is_set() or self.stalled():
            self.failover()

    def run(self, payloads: list[bytes], spacing_s: float, done: threading.Event) -> None:
        """Publish ``payloads`` in order (at most 20 in flight), moving node when dropped; an
        exception is kept in ``errors`` (the test reports it) and still ends the run."""
        try:
            self._run(payloads, spacing_s)
        except BaseException as exc:  # noqa: BLE001 (reported by the test, not swallowed)
            self.errors.append(exc)
        finally:
            done.set()

    def _run(self, payloads: list[bytes], spacing_s: float) -> None:
        topic = f"siaga/v1/pos/{self.device_id}"
        for payload in payloads:
            while True:
                if self.stopping.is_set():
                    return
                self.check()
                with self.lock:
                    if len(self.pending) < 20:
                        break
                time.sleep(0.01)
            self.publish(topic, payload)
            time.sleep(spacing_s)
        deadline = time.monotonic() + 240
        while not self.idle() and time.monotonic() < deadline and not self.stopping.is_set():
            self.check()
            time.sleep(0.05)

    def idle(self) -> bool:
        with self.lock:
            return not self.pending

    def close(self) -> None:
        """Disconnect and stop the network thread (after :attr:`stopping` is set and the
        device's own thread has ended: it may be starting a network thread)."""
        self.client.disconnect()
        try:
            self.client.loop_stop()
        except (AttributeError, RuntimeError):  # paho: a network thread ending or not started
            pass

    def state(self) -> str:
        with self.lock:
            return (f"{self.device_id} node {self.node} connected {self.connected.is_set()} "
                    f"pending {len(self.pending)} reconnects {self.reconnects} "
                    f"last ack {time.monotonic() - self.last_ack:.0f} s ago")


def stall_report(what: str, stored: int, devices: list[Device], workers: list) -> str:
    """A stall's report: rows stored, the workers' counters, the devices still waiting."""
    waiting = [d.state() for d in devices if not d.idle()]
    return (f"{what}: {stored} stored; workers {[dict(w.counters) for w in workers]}; "
            f"{len(waiting)} devices waiting, e.g. {waiting[:5]}")
