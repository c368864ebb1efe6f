"""The ingest worker: MQTT (QoS 1, persistent session) -> batches -> PostGIS, with zero loss.

* The messages come through a :class:`tracking.transport.Transport`: by default
  :class:`tracking.transport_mqtt.MqttTransport` (paho-mqtt 2.x, MQTT v5, fixed client id,
  persistent session, optional shared subscription); in a high-availability deployment
  :class:`tracking.transport_jetstream.JetStreamTransport` (a replicated NATS JetStream stream fed
  by the cluster's MQTT listeners, one durable consumer shared by the workers).
* Messages are acknowledged (``Transport.ack``) only after
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

from sqlalchemy.orm import Session, sessionmaker

from tracking import service
from tracking.batch import Batch, Message
from tracking.contract import Rejection
from tracking.fix import Fix
from tracking.ingest_config import IngestConfig, IngestHook, OnDuty, position_event
from tracking.plausibility import JumpGuard
from tracking.stale import StaleMonitor
from tracking.transport import Transport
from tracking.transport_mqtt import MqttTransport
from tracking.writer import BatchWriter, fix_json, is_connection_failure

log = logging.getLogger("siaga.tracking.ingest")

__all__ = ["IngestConfig", "IngestHook", "IngestWorker", "OnDuty", "position_event"]

class IngestWorker:
    """Consumes position messages from a transport (MQTT by default) and stores them; see the
    module docstring."""

    def __init__(self, sessions: sessionmaker[Session], config: IngestConfig, *,
                 hooks: Sequence[IngestHook] = (), on_duty: OnDuty | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 transport: Transport | None = None) -> None:
        self.sessions = sessions
        self.config = config
        self.hooks = list(hooks)
        self.on_duty = on_duty or service.registered_device_ids
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self._counter_lock = threading.Lock()
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._stop = threading.Event()
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
        if transport is None:
            transport = MqttTransport(config)
        self.transport = transport
        self.ready = transport.ready
        self._started = False

    def _deliver(self, topic: str, payload: bytes, mid: int, qos: int, generation: int) -> None:
        self._queue.put(Message(topic, payload, mid, qos, generation, self.clock()))

    def publish(self, topic: str, payload: dict) -> None:
        self.transport.publish(topic, json.dumps(payload, separators=(",", ":")).encode())

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect the transport (non-blocking) and start receiving."""
        with self.sessions() as session:
            self._guard.seed(service.latest_positions(session).values())
        self._started = True
        self.transport.start(self._deliver)

    def stop(self) -> None:
        """Ask :meth:`run` to flush the current batch and return (signal-safe)."""
        self._stop.set()

    def run(self) -> None:
        """Start if needed and process batches until :meth:`stop`; then disconnect."""
        if not self._started:
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
            self.transport.close()

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
        skipped = self.transport.ack(batch.messages)
        with self._counter_lock:
            if skipped:
                self.counters["ack_skipped_reconnected"] += skipped
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
            for topic, payload in self._hook_events(hook, fixes):  # under this worker's prefix
                self.publish(self.config.topic_prefix + topic, payload)
                self.counters["events"] += 1

    def _hook_events(self, hook: IngestHook, fixes: list[Fix]) -> list[tuple[str, dict]]:
        """Run ``hook`` on the committed ``fixes`` in its own transaction. The database being
        unreachable (a failover) is retried like a batch write, so an arrival in this batch is
        still verified; any other failure is counted and logged, and never loses fixes."""
        while True:
            try:
                with self.sessions.begin() as session:
                    return list(hook(session, fixes) or [])
            except Exception as exc:  # noqa: BLE001 - the fixes are already committed
                if not is_connection_failure(exc) or self._stop.is_set():
                    self.counters["hook_errors"] += 1
                    log.exception("ingest hook %r failed", hook)
                    return []
                self.counters["hook_retries"] += 1
                log.warning("ingest hook %r: database unreachable (%s); retrying in %.1f s",
                            hook, type(exc).__name__, self.config.retry_delay_s)
                self._stop.wait(self.config.retry_delay_s)

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

