"""MQTT publisher draining the outbox at QoS 1 (paho-mqtt 2.x, callback API version 2).

One background thread owns the drain loop: it plans messages (:mod:`flush`), publishes them,
remembers ``mid -> outbox row ids`` and deletes the rows when paho reports the PUBACK through
``on_publish``. The paho network thread only enqueues acknowledged mids, so the outbox is touched
by the drain thread and the producers, never inside a paho callback. Messages still in flight
when the connection drops are resent by paho itself after reconnecting; if the process dies, the
rows are still in the outbox and are published again at the next start.

Replay: an acknowledged row moves to the outbox's ``recent`` table (the last K acknowledged
messages, :mod:`gps_firmware_bridge.outbox`). After a reconnect that follows a lost connection
(not the first connect), those messages are published again, same topic and payload, oldest first
and before newer pending fixes, because a broker that crashed (``kill -9``) lost what it had
acknowledged since its last save. Counted in :attr:`Publisher.replayed_messages` and the outbox's
``replayed_total``; the ingest absorbs the duplicates of what the broker had kept.

Refusals: the client speaks MQTT v5 by default, whose PUBACK carries a reason code. A code >= 0x80
(e.g. 0x87 *Not authorized*: the broker ACL does not let this login publish the device's topic)
means the broker did **not** accept the fix: it is counted in :attr:`Publisher.refused_fixes`, moved
to the outbox's ``refused`` table (kept, not resent in a loop) and logged. MQTT v3.1.1 has no way to
report it: Mosquitto acknowledges a refused QoS 1 publish with a normal PUBACK, so with
``protocol="3.1.1"`` refusals are invisible to the client. A CONNACK refusal for bad credentials,
not authorized or banned is kept in :attr:`Publisher.connect_refusal`.

Status messages (``siaga/v1/status/{device_id}``, :mod:`gps_firmware_bridge.status`) take a
lighter path than fixes: :meth:`Publisher.put_status` keeps only the **newest** status of each
device in memory, published at QoS 1 before the fixes of the same drain iteration and forgotten
once acknowledged (or refused: counted in :attr:`Publisher.refused_statuses`). A status only says
"this tracker is alive without a GPS fix" and is superseded by the next one, so it is not worth an
outbox row: a backlog of old statuses would only delay the fixes, and a status lost with the
process is replaced by the tracker's next report. Paho resends a status in flight at reconnection.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gps_firmware_bridge.exceptions import ConfigError
from gps_firmware_bridge.flush import Message, message_for, plan_flush
from gps_firmware_bridge.mqtt_config import PERMANENT_CONNECT_REFUSALS, MqttConfig, parse_url
from gps_firmware_bridge.outbox import Outbox, OutboxRow

log = logging.getLogger(__name__)

__all__ = ["PERMANENT_CONNECT_REFUSALS", "MqttConfig", "Publisher", "parse_url"]


class Publisher:
    """Store-and-forward publisher: outbox in, QoS 1 MQTT out.

    Parameters
    ----------
    outbox : Outbox
        The durable outbox producers write to.
    config : MqttConfig
        Broker settings.
    batch_size : int
        Maximum fixes in one backlog array payload.
    max_inflight : int
        Maximum unacknowledged messages.
    """

    def __init__(
        self, outbox: Outbox, config: MqttConfig, batch_size: int = 100, max_inflight: int = 20
    ) -> None:
        self.outbox = outbox
        self.config = config
        self.batch_size = batch_size
        self.max_inflight = max_inflight
        host, port, tls, url_user, url_password = parse_url(config.url)
        self._host, self._port = host, port
        if config.protocol not in ("5", "3.1.1"):
            raise ConfigError(f"unsupported MQTT protocol {config.protocol!r} (5 or 3.1.1)")
        self._v5 = config.protocol == "5"
        if self._v5:
            self.client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=config.client_id, protocol=mqtt.MQTTv5
            )
        else:
            self.client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=config.client_id,
                protocol=mqtt.MQTTv311,
                clean_session=True,
            )
        user = config.username or url_user
        if user:
            self.client.username_pw_set(user, config.password or url_password)
        if tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self._acks: queue.SimpleQueue[tuple[int, bool, str]] = queue.SimpleQueue()
        self._inflight: dict[int, Message] = {}
        self._inflight_ids: set[int] = set()
        self._newest: list[OutboxRow] = []
        self._replay: list[Message] = []  # recent messages still to publish again
        self._replay_mids: set[int] = set()
        self._was_connected = False
        self._replay_due = threading.Event()
        self._connected = threading.Event()
        self._reconnected = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subs: dict[str, Callable[[str, bytes], None]] = {}
        self._status_lock = threading.Lock()
        self._status: dict[str, str] = {}  # topic -> newest payload not yet published
        self._status_inflight: dict[int, str] = {}  # mid -> topic
        self.delivered_statuses = 0
        self.refused_statuses = 0
        self.published_messages = 0
        self.replayed_messages = 0
        self.delivered_fixes = 0
        self.refused_fixes = 0
        self.last_refusal: str | None = None
        self.connect_refusal: str | None = None

    # paho callbacks (network thread) -------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            log.warning("MQTT connect refused: %s", reason_code)
            if reason_code.value in PERMANENT_CONNECT_REFUSALS:
                self.connect_refusal = str(reason_code)
            return
        self.connect_refusal = None
        log.info("MQTT connected to %s:%s", self._host, self._port)
        if self._was_connected:
            self._replay_due.set()  # the broker may have crashed: publish recent messages again
        self._was_connected = True
        for topic in self._subs:
            client.subscribe(topic, qos=1)
        self._connected.set()
        self._reconnected.set()
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self._connected.clear()
        log.info("MQTT disconnected: %s", reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
        self._acks.put((mid, bool(reason_code.is_failure), str(reason_code)))
        self._wake.set()

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        for pattern, handler in list(self._subs.items()):
            if mqtt.topic_matches_sub(pattern, message.topic):
                try:
                    handler(message.topic, message.payload)
                except Exception:  # noqa: BLE001 - a bad command must not kill the network loop
                    log.exception("command handler failed for %s", message.topic)

    # public API ----------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self._connected.is_set()

    def subscribe(self, topic: str, handler: Callable[[str, bytes], None]) -> None:
        """Call ``handler(topic, payload)`` for messages on ``topic`` (wildcards allowed)."""
        self._subs[topic] = handler
        if self.connected:
            self.client.subscribe(topic, qos=1)

    def put_status(self, topic: str, payload: str) -> None:
        """Publish ``payload`` on ``topic`` (QoS 1), replacing an unpublished older one."""
        with self._status_lock:
            self._status[topic] = payload
        self._wake.set()

    def notify(self) -> None:
        """Tell the drain loop new fixes were stored."""
        self._wake.set()

    def start(self) -> None:
        """Connect in the background (retrying forever) and start draining."""
        if self._v5:
            self.client.connect_async(
                self._host, self._port, keepalive=self.config.keepalive_s, clean_start=True
            )
        else:
            self.client.connect_async(self._host, self._port, keepalive=self.config.keepalive_s)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="outbox-drain", daemon=True)
        self._thread.start()

    def stop(self, drain_timeout_s: float = 0.0) -> None:
        """Optionally wait for the outbox to empty, then disconnect."""
        deadline = time.monotonic() + drain_timeout_s
        while drain_timeout_s and time.monotonic() < deadline and self.outbox.count():
            time.sleep(0.05)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def wait_drained(self, timeout_s: float) -> bool:
        """Block until the outbox is empty (every fix acknowledged or refused by the broker).

        Returns False on timeout, or at once when the broker refused the connection for a reason
        retrying cannot fix (:attr:`connect_refusal`). Refused fixes leave the outbox: check
        :attr:`refused_fixes`.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (
                self.outbox.count() == 0
                and not self._inflight
                and not self._replay
                and not self._status
                and not self._status_inflight
            ):
                return True
            if self.connect_refusal is not None:
                return False
            time.sleep(0.05)
        return False

    # drain loop (own thread) ---------------------------------------------------------------
    def _process_acks(self) -> None:
        done: list[tuple[int, ...]] = []
        refused: dict[str, list[int]] = {}
        while True:
            try:
                mid, failed, reason = self._acks.get_nowait()
            except queue.Empty:
                break
            msg = self._inflight.pop(mid, None)
            if msg is None:
                self._status_acked(mid, failed, reason)
                continue
            self._inflight_ids.difference_update(msg.row_ids)
            replay = mid in self._replay_mids
            self._replay_mids.discard(mid)
            if failed and replay:
                log.warning("broker refused a replayed message on %s: %s", msg.topic, reason)
            elif failed:
                refused.setdefault(reason, []).extend(msg.row_ids)
                log.warning(
                    "broker refused %d fix(es) on %s: %s (kept in the outbox's refused table; "
                    "siaga-bridge outbox --retry-refused resends them)",
                    len(msg.row_ids),
                    msg.topic,
                    reason,
                )
            else:
                done.append(msg.row_ids)
        if done:
            self.delivered_fixes += self.outbox.acknowledge(done)
        for reason, ids in refused.items():
            self.outbox.refuse(ids, reason)
            self.refused_fixes += len(ids)
            self.last_refusal = reason

    def _status_acked(self, mid: int, failed: bool, reason: str) -> None:
        topic = self._status_inflight.pop(mid, None)
        if topic is None:
            return
        if failed:
            self.refused_statuses += 1
            self.last_refusal = reason
            log.warning("broker refused the status on %s: %s (not resent)", topic, reason)
        else:
            self.delivered_statuses += 1

    def _publish_statuses(self, budget: int) -> int:
        """Publish up to ``budget`` pending statuses; returns how many were sent."""
        with self._status_lock:
            pending = list(self._status.items())[:budget]
            for topic, _ in pending:
                del self._status[topic]
        sent = 0
        for index, (topic, payload) in enumerate(pending):
            info = self.client.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                log.warning("status publish failed rc=%s; will retry", info.rc)
                with self._status_lock:  # keep what was not sent unless a newer one came
                    for later, text in pending[index:]:
                        self._status.setdefault(later, text)
                break
            self._status_inflight[info.mid] = topic
            sent += 1
        return sent

    def _publish_replay(self, budget: int) -> int:
        """Publish up to ``budget`` recent messages again; returns how many were sent."""
        sent = 0
        while self._replay and sent < budget:
            msg = self._replay[0]
            info = self.client.publish(msg.topic, msg.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                log.warning("replay publish failed rc=%s; will retry", info.rc)
                break
            self._replay.pop(0)
            self._inflight[info.mid] = msg
            self._replay_mids.add(info.mid)
            self.replayed_messages += 1
            sent += 1
        return sent

    def _run(self) -> None:
        last_expire = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            try:
                self._process_acks()
                if time.monotonic() - last_expire > 60:
                    self.outbox.expire()
                    last_expire = time.monotonic()
                if self._reconnected.is_set():
                    self._reconnected.clear()
                    self._newest = [
                        r for r in self.outbox.backlog_newest() if r.id not in self._inflight_ids
                    ]
                if self._replay_due.is_set():
                    self._replay_due.clear()
                    self._replay = [message_for(rows) for rows in self.outbox.replay_messages()]
                    if self._replay:
                        log.info("replaying %d acknowledged message(s)", len(self._replay))
                if self.connected:
                    self._publish_some()
            except Exception:  # noqa: BLE001 - keep draining whatever one iteration hit
                log.exception("outbox drain iteration failed")
                time.sleep(0.5)

    def _publish_some(self) -> None:
        budget = self.max_inflight - len(self._inflight) - len(self._status_inflight)
        if budget > 0 and self._status:
            budget -= self._publish_statuses(budget)
        if budget > 0 and self._replay:
            budget -= self._publish_replay(budget)
        if budget <= 0:
            return  # the next PUBACK wakes the loop
        limit = len(self._inflight_ids) + budget * self.batch_size + 1
        rows = [r for r in self.outbox.pending(limit) if r.id not in self._inflight_ids]
        newest = self._newest
        plan = plan_flush(rows, self.batch_size, budget, newest)
        planned = {i for msg in plan for i in msg.row_ids}
        self._newest = [r for r in newest if r.id not in planned]
        for msg in plan:
            info = self.client.publish(msg.topic, msg.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                log.warning("publish failed rc=%s; will retry", info.rc)
                break
            self._inflight[info.mid] = msg
            self._inflight_ids.update(msg.row_ids)
            self.published_messages += 1
        if len(plan) == budget:
            self._wake.set()
