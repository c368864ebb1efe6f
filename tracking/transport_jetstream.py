"""High-availability ingest transport: a NATS JetStream cluster (nats-py), docs/ha-messaging.md.

Devices keep publishing MQTT (3.1.1, QoS 1) to any node's MQTT listener; nats-server turns each
topic into a subject (:func:`tracking.transport.topic_to_subject`) and stores every QoS 1
publication in its own stream ``$MQTT_msgs`` (subject ``$MQTT.msgs.<subject>``, replicated on
three nodes: ``mqtt { stream_replicas: 3 }``) *before* it answers PUBACK: a publication the
device saw acknowledged is on a majority of the nodes. The stream keeps a message while a
consumer is interested in it (interest retention). Every worker binds to one durable pull consumer
on that stream (filter ``$MQTT.msgs.<prefix>>``, explicit acks), declared here: JetStream hands
each message to one of them (competing consumers) and delivers again what is not acknowledged
within ``ack_wait_s``, to whichever worker pulls next. Publications made before the consumer
first existed are not kept (nobody was interested): start a worker once before the devices.

The NATS client runs its own asyncio loop in a thread; :meth:`JetStreamTransport.ack` and
:meth:`publish` hand coroutines to it. A worker holds at most ``max_held`` unacknowledged messages
(it stops fetching), the counterpart of the MQTT Receive Maximum. On close, what was delivered and
not acknowledged is negatively acknowledged so that another worker gets it at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Sequence

import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tracking.batch import Message
from tracking.ingest_config import IngestConfig
from tracking.transport import Deliver, subject_to_topic, topic_to_subject

log = logging.getLogger("siaga.tracking.ingest")

#: nats-server stores an MQTT QoS 1 publication on subject ``$MQTT.msgs.<subject>``
MQTT_STREAM_PREFIX = "$MQTT.msgs."


class JetStreamTransport:
    """:class:`tracking.transport.Transport` over a NATS JetStream cluster; see the module doc.

    Parameters
    ----------
    config
        The worker's parameters: ``client_id`` names the durable consumer that the workers share,
        ``topic_prefix`` and the subscriptions give the stream's subjects.
    servers
        NATS URLs of the cluster's nodes (``nats://host:port``); the client fails over between them.
    stream
        The stream the MQTT listeners store QoS 1 publications in (owned by nats-server).
    ack_wait_s
        Seconds after which a delivered, unacknowledged message is delivered again.
    fetch_batch, max_held
        Messages asked for per pull request; messages held unacknowledged by this worker.
    """

    def __init__(self, config: IngestConfig, servers: Sequence[str], *,
                 stream: str = "$MQTT_msgs", ack_wait_s: float = 30.0,
                 fetch_batch: int = 1000, max_held: int | None = None,
                 max_ack_pending: int = 50000) -> None:
        self.config = config
        self.servers = list(servers)
        self.stream = stream
        self.ack_wait_s = ack_wait_s
        self.fetch_batch = fetch_batch
        self.max_held = max_held or config.receive_maximum
        self.max_ack_pending = max_ack_pending
        self.ready = threading.Event()
        self._held: dict[int, object] = {}  # mid -> nats Msg, delivered and not acknowledged
        self._held_lock = threading.Lock()
        self._mids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._nc: nats.NATS | None = None

    # -- consumer ---------------------------------------------------------------------------------
    def filter_subject(self) -> str:
        """``$MQTT.msgs.>``, or ``$MQTT.msgs.<prefix>.>`` with a topic prefix."""
        prefix = topic_to_subject(self.config.topic_prefix.rstrip("/"))
        return MQTT_STREAM_PREFIX + (f"{prefix}.>" if prefix else ">")

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.config.client_id, ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL, ack_wait=self.ack_wait_s,
            filter_subject=self.filter_subject(), max_ack_pending=self.max_ack_pending,
            max_waiting=512)

    async def _declare(self, js) -> None:
        """Create the shared consumer (idempotent across workers); the stream is the server's."""
        await js.add_consumer(self.stream, self.consumer_config())

    # -- the client's thread ------------------------------------------------------------------
    def start(self, deliver: Deliver) -> None:
        """Start the client thread; it connects, declares, then pulls until :meth:`close`."""
        self._thread = threading.Thread(target=self._run, args=(deliver,),
                                        name="siaga-ingest-jetstream", daemon=True)
        self._thread.start()

    def _run(self, deliver: Deliver) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main(deliver))
        finally:
            self._loop.close()

    async def _connected(self) -> None:
        log.info("NATS connected to %s", self._nc.connected_url if self._nc else None)

    async def _error(self, exc: Exception) -> None:
        log.warning("NATS: %r", exc)  # the client reconnects by itself

    async def _disconnected(self) -> None:
        self.ready.clear()
        if not self._stopping.is_set():
            log.warning("NATS disconnected; reconnecting")

    async def _main(self, deliver: Deliver) -> None:
        self._nc = await nats.connect(
            self.servers, name=self.config.client_id, max_reconnect_attempts=-1,
            reconnect_time_wait=0.5, connect_timeout=2, allow_reconnect=True,
            reconnected_cb=self._connected, disconnected_cb=self._disconnected,
            error_cb=self._error)
        js = self._nc.jetstream(timeout=5)
        sub = None
        while not self._stopping.is_set():
            try:
                if sub is None:
                    await self._declare(js)
                    sub = await js.pull_subscribe_bind(durable=self.config.client_id,
                                                       stream=self.stream)
                    log.info("JetStream consumer %s bound on stream %s", self.config.client_id,
                             self.stream)
                self.ready.set()
                with self._held_lock:
                    room = self.max_held - len(self._held)
                if room <= 0:
                    await asyncio.sleep(0.01)
                    continue
                msgs = await sub.fetch(min(room, self.fetch_batch), timeout=1.0)
            except (NatsTimeoutError, TimeoutError):  # nothing to pull within the second
                continue
            except Exception as exc:  # noqa: BLE001 - a node or leader is gone: retry, never stop
                self.ready.clear()
                log.warning("JetStream pull failed (%r); declaring and binding again", exc)
                if sub is not None:
                    try:
                        await sub.unsubscribe()
                    except Exception:  # noqa: BLE001
                        pass
                sub = None
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                mid = next(self._mids)
                with self._held_lock:
                    self._held[mid] = msg
                deliver(subject_to_topic(msg.subject.removeprefix(MQTT_STREAM_PREFIX)),
                        msg.data, mid, 1, 0)
        await self._release()
        try:  # send the last acks and naks, then close (no reconnecting after this)
            await self._nc.flush(timeout=2)
        except Exception:  # noqa: BLE001 - unacknowledged messages are delivered again
            log.warning("NATS flush on close failed")
        await self._nc.close()

    async def _release(self) -> None:
        """Negatively acknowledge what was delivered and not acknowledged (redelivered at once)."""
        with self._held_lock:
            held, self._held = list(self._held.values()), {}
        for msg in held:
            try:
                await msg.nak()
            except Exception:  # noqa: BLE001 - it comes back after ack_wait anyway
                break

    # -- Transport ----------------------------------------------------------------------------
    def ack(self, messages: Sequence[Message]) -> int:
        with self._held_lock:
            msgs = [m for m in (self._held.pop(message.mid, None) for message in messages) if m]
        if msgs:
            asyncio.run_coroutine_threadsafe(self._ack(msgs), self._loop)
        return 0

    @staticmethod
    async def _ack(msgs: list) -> None:
        for msg in msgs:
            try:
                await msg.ack()
            except Exception:  # noqa: BLE001 - unacknowledged: redelivered, duplicates absorbed
                log.warning("JetStream ack failed; %d messages will be delivered again", len(msgs))
                return

    def publish(self, topic: str, payload: bytes) -> None:
        nc = self._nc
        if nc is None or self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(nc.publish(topic_to_subject(topic), payload), self._loop)

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.ready.clear()
