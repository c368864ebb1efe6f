"""The ingest worker: MQTT (QoS 1, persistent session) -> batches -> PostGIS, with zero loss.

* paho-mqtt 2.x, MQTT v5, fixed client id, clean start off and a session expiry interval, so the
  broker queues what is published while the worker is down; optional shared subscription
  (``$share/<group>/...``) so several workers split the load (see ``IngestConfig.shared_group``
  for its limit with Mosquitto 2.0 broker restarts).
* Messages are acknowledged manually (``manual_ack=True`` + ``client.ack(mid, qos)``) only after
  the batch containing them committed. A crash before commit means the broker redelivers them;
  the unique key (device_id, fix_time, seq) absorbs the duplicates.
* Batches close by size (fixes or messages) or age; fixes are written with COPY into a staging
  table then ``INSERT ... ON CONFLICT DO NOTHING``; rejects go to ``position_reject`` in the same
  transaction; latest positions are upserted. After the commit: one ``events/position`` message
  per batch (newest fix per device), then each hook in its own transaction (a failing hook is
  logged and counted, the fixes are already safe).
* A timer publishes ``events/stale`` transitions for on-duty devices gone silent.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.orm import Session, sessionmaker

from tracking import service
from tracking.contract import Rejection, parse_message
from tracking.exceptions import IngestConfigError
from tracking.fix import Fix
from tracking.plausibility import JumpGuard, PlausibilityLimits
from tracking.stale import StaleMonitor

log = logging.getLogger("siaga.tracking.ingest")

#: ``hook(session, fixes) -> [(topic, payload_dict), ...]`` run after each committed batch.
IngestHook = Callable[[Session, Sequence[Fix]], list[tuple[str, dict]]]
#: ``on_duty(session) -> device ids`` that must report (stale tracker detection).
OnDuty = Callable[[Session], set[str]]


@dataclass(frozen=True)
class IngestConfig:
    """Explicit parameters of one worker (built from settings by ``siaga ingest``)."""

    mqtt_url: str
    client_id: str = "siaga-ingest"
    topic_prefix: str = ""
    #: MQTT 5 shared subscription group (``$share/<group>/...``) so several workers split the
    #: load; ``None`` = a plain subscription. Mosquitto 2.0 does not restore shared subscriptions
    #: from its persistence file after a broker restart, so messages published before the workers
    #: re-subscribe are lost: keep one worker with a plain subscription where broker restarts
    #: must lose nothing (tests/integration/tracking/test_zero_loss.py).
    shared_group: str | None = None
    batch_max_fixes: int = 5000
    batch_max_messages: int = 2000
    batch_max_delay_s: float = 0.1
    receive_maximum: int = 10000
    session_expiry_s: int = 7 * 86400
    keepalive_s: int = 30
    stale_after_s: float = 600.0
    stale_check_interval_s: float = 30.0
    stats_interval_s: float = 60.0
    retry_delay_s: float = 1.0
    limits: PlausibilityLimits = field(default_factory=PlausibilityLimits)

    def __post_init__(self) -> None:
        if self.batch_max_fixes < 1 or self.batch_max_messages < 1:
            raise IngestConfigError("batch sizes must be >= 1")
        if not 1 <= self.receive_maximum <= 65535:
            raise IngestConfigError("receive_maximum must be 1..65535")

    def subscriptions(self) -> list[str]:
        topics = [f"{self.topic_prefix}siaga/v1/pos/+", f"{self.topic_prefix}owntracks/+/+"]
        if self.shared_group:
            return [f"$share/{self.shared_group}/{t}" for t in topics]
        return topics

    def event_topic(self, kind: str) -> str:
        return f"{self.topic_prefix}siaga/v1/events/{kind}"


@dataclass
class _Item:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received_at: datetime


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def position_event(latest: dict[str, Fix]) -> dict:
    """Payload of ``siaga/v1/events/position``: the newest fix of each device in a batch."""
    return {"kind": "position", "fixes": [
        {"device_id": f.device_id, "fix_time": _iso(f.fix_time), "lon": f.lon, "lat": f.lat,
         "speed_mps": f.speed_mps, "heading_deg": f.heading_deg, "seq": f.seq,
         "accuracy_m": f.accuracy_m, "battery_pct": f.battery_pct, "source": f.source,
         "received_at": _iso(f.received_at)}
        for f in sorted(latest.values(), key=lambda f: f.device_id)]}


class IngestWorker:
    """Consumes position messages from MQTT and stores them; see the module docstring."""

    def __init__(self, sessions: sessionmaker[Session], config: IngestConfig, *,
                 hooks: Sequence[IngestHook] = (), on_duty: OnDuty | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.config = config
        self.hooks = list(hooks)
        self.on_duty = on_duty or service.registered_device_ids
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self.ready = threading.Event()
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._stop = threading.Event()
        self._generation = 0
        # Acks never cross a connection: the generation changes (under this lock) on connect and
        # disconnect, and a message is acked only on the connection that delivered it.
        self._ack_lock = threading.Lock()
        self._guard = JumpGuard(config.limits)
        self._stale = StaleMonitor(config.stale_after_s)
        self._partitions: set[date] = set()
        self._client = self._make_client()

    # -- MQTT ---------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        url = urlparse(self.config.mqtt_url)
        if url.username:
            client.username_pw_set(url.username, url.password)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(100)
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            return
        with self._ack_lock:
            self._generation += 1
        log.info("MQTT connected (session present: %s)", flags.session_present)
        options = SubscribeOptions(qos=1)
        client.subscribe([(topic, options) for topic in self.config.subscriptions()])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("MQTT subscription refused: %s", failed)
        else:
            self.ready.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._ack_lock:
            self._generation += 1
        self.ready.clear()
        if not self._stop.is_set():
            log.warning("MQTT disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        self._queue.put(_Item(message.topic, message.payload, message.mid, message.qos,
                              self._generation, self.clock()))

    def publish(self, topic: str, payload: dict) -> None:
        self._client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (non-blocking) and start the network thread."""
        url = urlparse(self.config.mqtt_url)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        with self.sessions() as session:
            self._guard.seed(service.latest_positions(session).values())
        self._client.connect_async(url.hostname or "127.0.0.1", url.port or 1883,
                                   keepalive=self.config.keepalive_s, clean_start=False,
                                   properties=props)
        self._client.loop_start()

    def stop(self) -> None:
        """Ask :meth:`run` to flush the current batch and return (signal-safe)."""
        self._stop.set()

    def run(self) -> None:
        """Start if needed and process batches until :meth:`stop`; then disconnect."""
        if self._client._thread is None:  # noqa: SLF001 - paho has no public "started" flag
            self.start()
        last_stats = last_stale = time.monotonic()
        try:
            while not self._stop.is_set():
                batch = self._collect()
                if batch:
                    self._process(batch)
                now = time.monotonic()
                if now - last_stale >= self.config.stale_check_interval_s:
                    last_stale = now
                    self.check_stale()
                if now - last_stats >= self.config.stats_interval_s:
                    last_stats = now
                    self.log_counters()
            rest = self._drain()
            if rest:
                self._process(rest)
        finally:
            self.log_counters()
            self._client.disconnect()
            self._client.loop_stop()

    # -- batching -----------------------------------------------------------------------------
    def _collect(self) -> list[_Item]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        fixes = self._estimate(first)
        deadline = time.monotonic() + self.config.batch_max_delay_s
        while (len(batch) < self.config.batch_max_messages
               and fixes < self.config.batch_max_fixes):
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else \
                    self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            fixes += self._estimate(item)
        return batch

    @staticmethod
    def _estimate(item: _Item) -> int:
        return max(1, item.payload.count(b'"fix_time"'))

    def _drain(self) -> list[_Item]:
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def _process(self, batch: list[_Item]) -> None:
        fixes: list[Fix] = []
        rejections: list[Rejection] = []
        for item in batch:
            result = parse_message(item.topic, item.payload, received_at=item.received_at,
                                   limits=self.config.limits, prefix=self.config.topic_prefix)
            fixes.extend(result.fixes)
            rejections.extend(result.rejections)
            if result.ignored:
                self.counters[f"ignored:{result.ignored}"] += 1
        kept, flags, jumps = self._guard.screen(fixes)
        for fix, problem in jumps:
            rejections.append(Rejection(problem.code, problem.message, problem.message_en,
                                        self._topic_for(fix), json.dumps(_fix_json(fix)).encode(),
                                        fix.received_at or self.clock(), fix.device_id))
        outcome = self._write(kept, rejections, flags)
        if outcome is None:
            return  # stopping before the batch could be stored: not acknowledged, redelivered
        with self._ack_lock:
            current = self._generation
            for item in batch:
                if item.generation == current and item.qos > 0:
                    self._client.ack(item.mid, item.qos)
                elif item.qos > 0:
                    self.counters["ack_skipped_reconnected"] += 1
        self.counters["messages"] += len(batch)
        self.counters["stored"] += outcome.stored
        self.counters["duplicates"] += outcome.duplicates
        self.counters["batches"] += 1
        for rejection in rejections:
            self.counters[f"rejected:{rejection.reason}"] += 1
        if outcome.latest:
            self.publish(self.config.event_topic("position"), position_event(outcome.latest))
        clean = [f for i, f in enumerate(kept) if i not in flags]
        if clean:
            self._run_hooks(clean)

    def _topic_for(self, fix: Fix) -> str:
        if fix.source == "owntracks" and fix.device_id.startswith("owntracks:"):
            return self.config.topic_prefix + "owntracks/" + "/".join(fix.device_id.split(":")[1:])
        return f"{self.config.topic_prefix}siaga/v1/pos/{fix.device_id}"

    def _write(self, fixes, rejections, flags):
        while True:
            try:
                with self.sessions.begin() as session:
                    return service.write_batch(session, fixes, rejections, flags=flags,
                                               known_partitions=self._partitions)
            except Exception:  # noqa: BLE001 - the database may be down: retry, never drop
                self._partitions.clear()
                self.counters["db_errors"] += 1
                log.exception("batch write failed; retrying in %.1f s",
                              self.config.retry_delay_s)
                if self._stop.wait(self.config.retry_delay_s):
                    return None

    def _run_hooks(self, fixes: list[Fix]) -> None:
        for hook in self.hooks:
            try:
                with self.sessions.begin() as session:
                    events = hook(session, fixes)
            except Exception:  # noqa: BLE001 - a hook never loses fixes (already committed)
                self.counters["hook_errors"] += 1
                log.exception("ingest hook %r failed", hook)
                continue
            for topic, payload in events or []:
                self.publish(topic, payload)
                self.counters["events"] += 1

    # -- stale trackers and counters ----------------------------------------------------------
    def check_stale(self) -> None:
        """Publish ``events/stale`` for on-duty devices that became (or stopped being) silent."""
        try:
            with self.sessions() as session:
                duty = self.on_duty(session)
                last = {d: f.fix_time for d, f in service.latest_positions(session, duty).items()}
        except Exception:  # noqa: BLE001
            log.exception("stale tracker check failed")
            return
        for event in self._stale.evaluate(last, duty, self.clock()):
            self.publish(self.config.event_topic("stale"), event.to_payload())
            self.counters[f"stale:{event.state}"] += 1

    def log_counters(self) -> None:
        log.info("ingest counters: %s", dict(sorted(self.counters.items())))


def _fix_json(fix: Fix) -> dict[str, Any]:
    return {"device_id": fix.device_id, "fix_time": _iso(fix.fix_time), "lon": fix.lon,
            "lat": fix.lat, "seq": fix.seq, "speed_mps": fix.speed_mps, "source": fix.source}
