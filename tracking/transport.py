"""The ingest worker's transport: where position messages come from, where acks and events go.

:class:`tracking.ingest.IngestWorker` talks to a :class:`Transport` only; two implement it:

* :class:`tracking.transport_mqtt.MqttTransport` (the default, the embedded setup): one MQTT
  broker (Mosquitto), a persistent MQTT 5 session, optional shared subscription.
* :class:`tracking.transport_jetstream.JetStreamTransport` (high availability,
  docs/ha-messaging.md): a NATS JetStream cluster whose MQTT listeners the devices publish to; the
  positions are captured in a replicated stream and the workers pull from one durable consumer
  (competing consumers).

The contract, the same for both: :meth:`Transport.start` connects without blocking and calls
``deliver(topic, payload, mid, qos, generation)`` (from any thread) for every message, with its
MQTT topic; :meth:`Transport.ack` is called only after the batch holding the messages committed,
and a message not acknowledged is delivered again (to this worker or another): the unique key
``(device_id, fix_time, seq)`` absorbs the repeats. ``generation`` names the connection that
delivered a message; a transport whose acks do not survive a reconnect (MQTT) skips them.

This module is pure (no network): the protocol, and the mapping between MQTT topics and NATS
subjects that the NATS server applies to what MQTT clients publish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from tracking.batch import Message

#: ``deliver(topic, payload, mid, qos, generation)``
Deliver = Callable[[str, bytes, int, int, int], None]


class Transport(Protocol):
    """A source of position messages with acknowledgement after commit; see the module doc."""

    #: set while connected and subscribed (messages can flow)
    ready: threading.Event

    def start(self, deliver: Deliver) -> None:
        """Connect (non-blocking) and start delivering messages."""

    def ack(self, messages: Sequence[Message]) -> int:
        """Acknowledge committed messages; return how many could not be (reconnected since)."""

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish an event (MQTT topic syntax) to the subscribers of the broker."""

    def close(self) -> None:
        """Disconnect; unacknowledged messages are delivered again later."""


def topic_to_subject(topic: str) -> str:
    """The NATS subject of an MQTT topic, as nats-server converts a publication.

    ``/`` becomes ``.`` and ``.`` becomes ``//`` (``siaga/v1/pos/bpbd.01`` ->
    ``siaga.v1.pos.bpbd//01``). Topics the server refuses (empty levels, spaces) are not
    expected here: they never reach a stream.
    """
    return ".".join(level.replace(".", "//") for level in topic.split("/"))


def subject_to_topic(subject: str) -> str:
    """The MQTT topic of a NATS subject (inverse of :func:`topic_to_subject`)."""
    return "/".join(token.replace("//", ".") for token in subject.split("."))


def filter_to_subject(topic_filter: str) -> str:
    """A NATS subject filter for an MQTT topic filter (``+`` -> ``*``, trailing ``#`` -> ``>``)."""
    levels = topic_filter.split("/")
    out = []
    for i, level in enumerate(levels):
        if level == "+":
            out.append("*")
        elif level == "#" and i == len(levels) - 1:
            out.append(">")
        else:
            out.append(level.replace(".", "//"))
    return ".".join(out)
