"""The ingest worker: MQTT (QoS 1, persistent session) -> batches -> PostGIS, with zero loss.

* paho-mqtt 2.x, MQTT v5, fixed client id, clean start off and a session expiry interval, so the
  broker queues what is published while the worker is down; optional shared subscription
  (``$share/<group>/...``) so several workers split the load (see ``IngestConfig.shared_group``
  for its limit with Mosquitto 2.0 broker restarts).
* Messages are acknowledged manually (``manual_ack=True`` + ``client.ack(mid, qos)``) only after
  the batch containing them committed. A crash before commit means the broker redelivers them;
  the unique key (device_id, fix_time, seq) absorbs the duplicates.
* A pipeline of two threads: the receiving thread (:meth:`IngestWorker.run`) parses messages as
  they arrive and hands a batch to the writer thread as soon as the writer is idle (so a lone fix
  is stored within one commit), or when the batch is full or old while the writer is busy (so the
  next batch is parsed while the previous one commits). One writer: batches commit in order.
* The writer COPYs fixes (binary) into a per-connection staging table then
  ``INSERT ... ON CONFLICT DO NOTHING``; rejects go to ``position_reject`` in the same
  transaction; latest positions are upserted. Only a lost database connection is retried; a
  batch the database refuses is split to isolate the refused rows, which become rejects
  (:mod:`tracking.writer`). After the commit: the acks, one ``events/position`` message per
  batch (newest fix per device), then each hook in its own transaction (a failing hook is logged
  and counted, the fixes are already safe).
* No message content stops the worker: the parser turns any input into fixes, rejections or an
  ignored count, and a parser defect becomes a ``parse_error`` rejection (:mod:`tracking.batch`).
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
from datetime import UTC, datetime
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.orm import Session, sessionmaker

from tracking import service
from tracking.batch import Batch, Message
from tracking.contract import Rejection
from tracking.fix import Fix
from tracking.ingest_config import IngestConfig, IngestHook, OnDuty, position_event
from tracking.plausibility import JumpGuard
from tracking.stale import StaleMonitor
from tracking.writer import BatchWriter, fix_json

log = logging.getLogger("siaga.tracking.ingest")

__all__ = ["IngestConfig", "IngestHook", "IngestWorker", "OnDuty", "position_event"]

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
        self._counter_lock = threading.Lock()
        self.ready = threading.Event()
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._generation = 0
        # Acks never cross a connection: the generation changes (under this lock) on connect and
        # disconnect, and a message is acked only on the connection that delivered it.
        self._ack_lock = threading.Lock()
        self._guard = JumpGuard(config.limits)
        self._stale = StaleMonitor(config.stale_after_s)
        self._db = BatchWriter(sessions, topic_for=self._topic_for,
                               retry_delay_s=config.retry_delay_s, stop=self._stop,
                               counters=self.counters)
        # receiving thread -> writer thread: at most one closed batch waits while one is written
        self._handoff: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._in_flight = 0  # batches handed over and not yet fully processed by the writer
        self._flight_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._client = self._make_client()

    # -- MQTT ---------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        url = urlparse(self.config.mqtt_url)
        if url.username:  # percent-encoded in the URL (a password may hold '@' or ':')
            client.username_pw_set(unquote(url.username),
                                   None if url.password is None else unquote(url.password))
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(1000)  # our event publishes (QoS 1)
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
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers validate UTF-8; keep the message rejectable anyway
            topic = message._topic.decode("utf-8", "backslashreplace")  # noqa: SLF001
        self._queue.put(Message(topic, message.payload, message.mid, message.qos,
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
        self._writer = threading.Thread(target=self._write_loop, name="siaga-ingest-writer",
                                        daemon=True)
        self._writer.start()
        last_stats = last_stale = time.monotonic()
        batch = Batch()
        try:
            while not self._stop.is_set():
                batch = self._receive(batch)
                now = time.monotonic()
                if now - last_stale >= self.config.stale_check_interval_s:
                    last_stale = now
                    self.check_stale()
                if now - last_stats >= self.config.stats_interval_s:
                    last_stats = now
                    self.log_counters()
            while True:  # stopping: what was received is still written (and acked)
                try:
                    batch.add(self._queue.get_nowait(), limits=self.config.limits,
                              prefix=self.config.topic_prefix)
                except queue.Empty:
                    break
            if batch:
                self._hand_over(batch)
        finally:
            self._hand_over(None)
            self._writer.join()
            self.log_counters()
            self._client.disconnect()
            self._client.loop_stop()

    # -- receiving thread: parse as messages arrive, hand batches to the writer -----------------
    def _writer_idle(self) -> bool:
        return self._in_flight == 0

    def _receive(self, batch: Batch) -> Batch:
        """Add what arrives to ``batch``; return a new empty batch once it was handed over."""
        cfg = self.config
        if batch:
            # the writer is busy: wait briefly for more messages or for the writer to be done
            timeout = 0.002
        else:
            timeout = 0.2
        try:
            message = self._queue.get(timeout=timeout)
        except queue.Empty:
            message = None
        if message is not None:
            add, get = batch.add, self._queue.get_nowait
            limits, prefix = cfg.limits, cfg.topic_prefix
            while True:
                add(message, limits=limits, prefix=prefix)
                if batch.full(cfg.batch_max_fixes, cfg.batch_max_messages):
                    break
                try:
                    message = get()
                except queue.Empty:
                    break
        if not batch:
            return batch
        if (self._writer_idle() or batch.full(cfg.batch_max_fixes, cfg.batch_max_messages)
                or (self._in_flight < 2
                    and time.monotonic() - batch.started >= cfg.batch_max_delay_s)):
            self._close(batch)
            self._hand_over(batch)
            return Batch()
        return batch

    def _close(self, batch: Batch) -> None:
        """Screen the batch for impossible jumps (in time order, against earlier batches)."""
        kept, flags, jumps = self._guard.screen(batch.fixes)
        for fix, problem in jumps:
            batch.rejections.append(Rejection(
                problem.code, problem.message, problem.message_en, self._topic_for(fix),
                json.dumps(fix_json(fix)).encode(), fix.received_at or self.clock(),
                fix.device_id))
        batch.fixes, batch.flags = kept, flags

    def _hand_over(self, batch: Batch | None) -> None:
        if batch is not None:
            with self._flight_lock:
                self._in_flight += 1
        while True:
            try:
                self._handoff.put(batch, timeout=1.0)
                return
            except queue.Full:
                if self._writer is None or not self._writer.is_alive():
                    raise RuntimeError("the ingest writer thread died") from None

    # -- writer thread: commit, then ack, then events and hooks ---------------------------------
    def _write_loop(self) -> None:
        while True:
            batch = self._handoff.get()
            if batch is None:
                return
            try:
                self._process(batch)
            except Exception:  # noqa: BLE001 - keep writing; unacked messages come back
                self.counters["writer_errors"] += 1
                log.exception("ingest writer failed on a batch")
            finally:
                with self._flight_lock:
                    self._in_flight -= 1

    def _process(self, batch: Batch) -> None:
        fixes, rejections, flags = batch.fixes, batch.rejections, batch.flags
        written = self._db.write(fixes, rejections, flags, batch.statuses)
        if written is None:
            return  # stopping before the batch could be stored: not acknowledged, redelivered
        outcome = written.outcome
        with self._ack_lock:
            current = self._generation
            ack = self._client.ack
            for message in batch.messages:
                if message.qos > 0:
                    if message.generation == current:
                        ack(message.mid, message.qos)
                    else:
                        self.counters["ack_skipped_reconnected"] += 1
        with self._counter_lock:
            counters = self.counters
            counters["messages"] += len(batch.messages)
            counters["stored"] += outcome.stored
            counters["duplicates"] += outcome.duplicates
            counters["statuses"] += outcome.statuses
            counters["batches"] += 1
            for reason, count in batch.ignored.items():
                counters[f"ignored:{reason}"] += count
            for rejection in rejections:
                counters[f"rejected:{rejection.reason}"] += 1
            for rejection in written.refusals:
                counters[f"rejected:{rejection.reason}"] += 1
        if outcome.latest:
            self.publish(self.config.event_topic("position"), position_event(outcome.latest))
        clean = [f for i, f in enumerate(fixes) if i not in flags] if flags else fixes
        if written.refused:
            refused = {id(f) for f in written.refused}
            clean = [f for f in clean if id(f) not in refused]
        if clean:
            self._run_hooks(clean)

    def _topic_for(self, fix: Fix) -> str:
        if fix.source == "owntracks" and fix.device_id.startswith("owntracks:"):
            return self.config.topic_prefix + "owntracks/" + "/".join(fix.device_id.split(":")[1:])
        return f"{self.config.topic_prefix}siaga/v1/pos/{fix.device_id}"

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
            with self._counter_lock:
                self.counters[f"stale:{event.state}"] += 1

    def log_counters(self) -> None:
        with self._counter_lock:
            counters = dict(self.counters)
        log.info("ingest counters: %s", dict(sorted(counters.items())))

