"""Live fan-out: MQTT ``siaga/v1/events/#`` → an in-process hub → browser WebSockets.

The paho-mqtt network thread hands every event to the asyncio loop; a flusher wakes every
``window_s`` (100 ms by default), coalesces what arrived (only the latest ``position`` per device
survives a window, other events are kept in order) and sends ONE message per window to each
browser. So 2,000 units at 1 Hz cost each browser ~10 messages per second, not 2,000.

Message to browsers::

    {"type": "events", "sent_at": <unix s>, "events": [{"kind": "position", "data": {...}}, ...]}

Each connection only receives what its principal may see (:class:`LiveView`, :func:`visible`):

* dispatchers and admins: every event, caller numbers in full;
* planners: every event, caller numbers masked, caller names removed;
* viewers (the Bupati's office): every event without any caller data;
* agency desks: only events involving their agency (the event's ``agency``, or the agencies of
  its incident, unit or device, looked up by an :class:`AgencyScope`), callers masked; an event
  whose agencies cannot be told is not sent to agency desks (fail closed).

Tenancy: a user bound to some regencies (``LiveView.kode_kabs``) gets only their events (the
event's ``kode_kab`` or its references' regencies, ``regencies`` of the scope); fail closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from dispatch.privacy import mask_phone

log = logging.getLogger("siaga.live")

EVENTS_TOPIC = "siaga/v1/events/#"
#: Payload keys holding a caller's phone number, masked for roles that may not see it.
CALLER_KEYS = ("caller_number", "caller_phone", "caller_msisdn")
#: Payload keys naming or describing the caller, removed for roles that may not see callers.
CALLER_PERSONAL_KEYS = ("caller_name",)
#: Roles that see every event unfiltered.
FULL_VIEW_ROLES = frozenset({"dispatcher", "admin"})


@dataclass(frozen=True)
class LiveView:
    """What one live connection may see: its principal's role and agency."""

    role: str
    agency_code: str | None = None
    #: Regencies the user works for; ``None``: every regency of the installation.
    kode_kabs: frozenset[str] | None = None

    @property
    def full(self) -> bool:
        return self.role in FULL_VIEW_ROLES and self.kode_kabs is None

    @property
    def regency_bound(self) -> bool:
        return self.kode_kabs is not None

    @property
    def agency_bound(self) -> bool:
        return self.role == "agency"


class AgencyScope(Protocol):
    """Resolves ``("incident"|"unit"|"device", id)`` references to agency codes."""

    def agencies(self, refs: Any) -> dict[tuple[str, Any], frozenset[str]]: ...


def event_refs(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The incident, unit and device an event's payload names (for the agency lookup)."""
    refs: list[tuple[str, Any]] = []
    if isinstance(data.get("incident_id"), int):
        refs.append(("incident", data["incident_id"]))
    if isinstance(data.get("unit_id"), int):
        refs.append(("unit", data["unit_id"]))
    if data.get("device_id") is not None:
        refs.append(("device", str(data["device_id"])))
    return refs


def event_agencies(data: dict[str, Any],
                   resolved: dict[tuple[str, Any], frozenset[str]]) -> frozenset[str]:
    """Agency codes an event involves: its own ``agency`` plus those of its references."""
    codes: set[str] = set()
    if isinstance(data.get("agency"), str):
        codes.add(data["agency"])
    for ref in event_refs(data):
        codes |= resolved.get(ref, frozenset())
    return frozenset(codes)


def event_regencies(data: dict[str, Any],
                    regencies: dict[tuple[str, Any], frozenset[str]]) -> frozenset[str]:
    """Regency codes an event concerns: its own ``kode_kab`` plus those of its references."""
    codes: set[str] = set()
    if isinstance(data.get("kode_kab"), str):
        codes.add(data["kode_kab"])
    for ref in event_refs(data):
        codes |= regencies.get(ref, frozenset())
    return frozenset(codes)


def _without_callers(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in CALLER_KEYS + CALLER_PERSONAL_KEYS}


def _masked(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (mask_phone(v) if k in CALLER_KEYS and isinstance(v, str) else v)
            for k, v in data.items() if k not in CALLER_PERSONAL_KEYS}


def visible(events: list[dict[str, Any]], view: LiveView,
            resolved: dict[tuple[str, Any], frozenset[str]] | None = None,
            regencies: dict[tuple[str, Any], frozenset[str]] | None = None,
            ) -> list[dict[str, Any]]:
    """The events ``view`` may see, caller data masked or removed as its role requires.

    ``resolved`` / ``regencies`` map event references to agency / regency codes (without them,
    agency desks and regency-bound views see only events naming their agency / ``kode_kab``).
    """
    if view.full:
        return events
    out = []
    for event in events:
        data = event["data"]
        if not isinstance(data, dict):
            continue
        if view.kode_kabs is not None:
            kabs = event_regencies(data, regencies or {})
            if not kabs or not kabs <= view.kode_kabs:
                continue
        if view.role in FULL_VIEW_ROLES:
            out.append(event)
            continue
        if view.agency_bound and view.agency_code not in event_agencies(data, resolved or {}):
            continue
        data = _without_callers(data) if view.role == "viewer" else _masked(data)
        out.append({"kind": event["kind"], "data": data})
    return out


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
    """One browser connection: what it may see and a bounded queue of serialized messages."""

    view: LiveView
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=64))
    dropped: int = 0


class LiveHub:
    """Coalesces events per window and fans them out to subscribers (one asyncio loop)."""

    def __init__(self, window_s: float = 0.1, scope: AgencyScope | None = None) -> None:
        self.window_s = window_s
        #: Agency lookups for agency-desk connections (``api.live_scope.DbAgencyScope``).
        self.scope = scope
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

    def subscribe(self, view: LiveView) -> Subscriber:
        sub = Subscriber(view=view)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def _take(self) -> list[dict[str, Any]]:
        """The pending window's events (inbox included); resets the window."""
        inbox = self._inbox
        for _ in range(len(inbox)):
            self.publish(*inbox.popleft())
        return self._pending.drain() if len(self._pending) else []

    def _render(self, events: list[dict[str, Any]],
                views: set[LiveView]) -> dict[LiveView, str | None]:
        """One serialized message per distinct view (``None``: nothing for that view).
        Runs the agency lookups, so the flusher calls it in a worker thread."""
        resolved: dict[tuple[str, Any], frozenset[str]] = {}
        regencies: dict[tuple[str, Any], frozenset[str]] = {}
        if self._needs_lookup(views):
            refs = [r for e in events if isinstance(e["data"], dict)
                    for r in event_refs(e["data"])]
            if refs and any(v.agency_bound for v in views):
                resolved = self.scope.agencies(refs)
            lookup = getattr(self.scope, "regencies", None)
            if refs and lookup is not None and any(v.regency_bound for v in views):
                regencies = lookup(refs)
        sent_at = time.time()
        texts: dict[LiveView, str | None] = {}
        for view in views:
            shown = visible(events, view, resolved, regencies)
            texts[view] = json.dumps({"type": "events", "sent_at": sent_at, "events": shown},
                                     separators=(",", ":"), default=str) if shown else None
        return texts

    def _needs_lookup(self, views: set[LiveView]) -> bool:
        """Whether some view needs the agencies or regencies of the events' references."""
        return self.scope is not None and any(v.agency_bound or v.regency_bound for v in views)

    def _deliver(self, texts: dict[LiveView, str | None]) -> None:
        for sub in list(self._subscribers):
            text = texts.get(sub.view)
            if text is None:
                continue
            if sub.queue.full():  # a slow browser: drop its oldest window, keep the newest
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(text)

    def flush(self) -> int:
        """Send the pending window to every subscriber now; returns the number of events."""
        events = self._take()
        if events and self._subscribers:
            self._deliver(self._render(events, {s.view for s in self._subscribers}))
        return len(events)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.window_s)
            try:
                events = self._take()
                if not events or not self._subscribers:
                    continue
                views = {s.view for s in self._subscribers}
                if self._needs_lookup(views):
                    texts = await asyncio.to_thread(self._render, events, views)
                else:
                    texts = self._render(events, views)
                self._deliver(texts)
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
