"""Live fan-out: MQTT ``siaga/v1/events/#`` → an in-process hub → browser WebSockets.

The paho-mqtt network thread hands every event to the asyncio loop; a flusher wakes every
``window_s`` (100 ms by default), coalesces what arrived (only the latest ``position`` per device
survives a window, other events are kept in order) and sends ONE message per window to each
browser. So 2,000 units at 1 Hz cost each browser ~10 messages per second, not 2,000.

Message to browsers::

    {"type": "events", "sent_at": <unix s>, "events": [{"kind": "position", "data": {...}}, ...]}
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from api.security import mask_phone

log = logging.getLogger("siaga.live")

EVENTS_TOPIC = "siaga/v1/events/#"
#: Payload keys holding a caller's phone number, masked for roles that may not see it.
CALLER_KEYS = ("caller_number", "caller_phone", "caller_msisdn")


def _device_key(data: dict[str, Any]) -> str | None:
    for key in ("device_id", "unit_id", "call_sign"):
        value = data.get(key)
        if value is not None:
            return str(value)
    return None


class Coalescer:
    """Collects events of one window: latest position per device, other events in order."""

    def __init__(self) -> None:
        self._positions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._others: list[dict[str, Any]] = []

    def add(self, kind: str, data: dict[str, Any]) -> None:
        key = _device_key(data) if kind == "position" else None
        if key is None:
            self._others.append({"kind": kind, "data": data})
            return
        self._positions.pop(key, None)
        self._positions[key] = {"kind": kind, "data": data}

    def __len__(self) -> int:
        return len(self._positions) + len(self._others)

    def drain(self) -> list[dict[str, Any]]:
        """The window's events (positions first, then the rest in arrival order); resets."""
        events = list(self._positions.values()) + self._others
        self._positions = OrderedDict()
        self._others = []
        return events


def mask_callers(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``events`` with caller phone numbers masked (for non-dispatcher roles)."""
    out = []
    for event in events:
        data = event["data"]
        if isinstance(data, dict) and any(k in data for k in CALLER_KEYS):
            data = {k: (mask_phone(v) if k in CALLER_KEYS and isinstance(v, str) else v)
                    for k, v in data.items()}
            event = {"kind": event["kind"], "data": data}
        out.append(event)
    return out


def unwrap(data: Any) -> list[Any]:
    """The events of one MQTT payload: an object, an array, or ``{"fixes": [...]}`` (the
    ingest worker's ``events/position`` batch: the newest fix of each device)."""
    if isinstance(data, dict) and isinstance(data.get("fixes"), list):
        return data["fixes"]
    return data if isinstance(data, list) else [data]


def kind_of(topic: str) -> str:
    """``siaga/v1/events/arrival`` → ``arrival`` (the last topic level)."""
    return topic.rsplit("/", 1)[-1] or "unknown"


@dataclass(eq=False)
class Subscriber:
    """One browser connection: a bounded queue of serialized messages."""

    reveal_caller: bool
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=64))
    dropped: int = 0


class LiveHub:
    """Coalesces events per window and fans them out to subscribers (one asyncio loop)."""

    def __init__(self, window_s: float = 0.1) -> None:
        self.window_s = window_s
        self._pending = Coalescer()
        self._inbox: deque[tuple[str, dict[str, Any]]] = deque()
        self._subscribers: set[Subscriber] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.received = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="siaga-live-flusher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Queue an event for the next window (call on the loop thread)."""
        self.received += 1
        self._pending.add(kind, data)

    def publish_threadsafe(self, kind: str, data: dict[str, Any]) -> None:
        """Queue an event from another thread (the MQTT network thread).

        A lock-free ``deque.append``: the flusher drains it once per window, so thousands of
        events per second cost no event-loop wake-ups.
        """
        self._inbox.append((kind, data))

    def subscribe(self, reveal_caller: bool) -> Subscriber:
        sub = Subscriber(reveal_caller=reveal_caller)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def flush(self) -> int:
        """Send the pending window to every subscriber now; returns the number of events."""
        inbox = self._inbox
        for _ in range(len(inbox)):
            self.publish(*inbox.popleft())
        if not len(self._pending):
            return 0
        events = self._pending.drain()
        if not self._subscribers:
            return len(events)
        sent_at = time.time()
        texts: dict[bool, str] = {}
        for sub in list(self._subscribers):
            if sub.reveal_caller not in texts:
                shown = events if sub.reveal_caller else mask_callers(events)
                texts[sub.reveal_caller] = json.dumps(
                    {"type": "events", "sent_at": sent_at, "events": shown},
                    separators=(",", ":"), default=str)
            if sub.queue.full():  # a slow browser: drop its oldest window, keep the newest
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(texts[sub.reveal_caller])
        return len(events)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.window_s)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - one bad event must not stop the fan-out
                log.exception("live fan-out flush failed")


class MqttEventSource:
    """paho-mqtt (callback API v2) subscriber feeding a :class:`LiveHub`."""

    def __init__(self, mqtt_url: str, hub: LiveHub, topic: str = EVENTS_TOPIC) -> None:
        parsed = urlparse(mqtt_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 1883
        self.topic = topic
        self.hub = hub
        self.rejected = 0
        self.connected = False
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=f"siaga-live-{uuid.uuid4().hex[:12]}",
                                   protocol=mqtt.MQTTv311, clean_session=True)
        if parsed.username:
            self._client.username_pw_set(parsed.username, parsed.password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connect in the background (reconnects by itself when the broker comes back)."""
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.max_queued_messages_set(10000)
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish domain events (``(topic, payload)``) at QoS 1; queued while disconnected."""
        for topic, payload in messages:
            self._client.publish(topic, json.dumps(payload, default=str, separators=(",", ":")),
                                 qos=1)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if reason_code.is_failure:
            log.warning("live MQTT connection refused: %s", reason_code)
            return
        self.connected = True
        client.subscribe(self.topic, qos=0)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.connected = False

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        try:
            data = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            self.rejected += 1
            return
        kind = kind_of(message.topic)
        items = unwrap(data)
        for item in items:
            if isinstance(item, dict):
                self.hub.publish_threadsafe(kind, item)
            else:
                self.rejected += 1
