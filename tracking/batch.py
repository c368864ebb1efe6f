"""Batches of the ingest pipeline: received messages, parsed as they arrive (no I/O).

A :class:`Batch` is filled by the receiving thread of :class:`tracking.ingest.IngestWorker` and
handed, closed, to its writer thread; nothing in it is shared between threads afterwards.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from tracking.contract import Rejection, parse_message
from tracking.fix import Fix
from tracking.plausibility import PlausibilityLimits, Problem


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message as delivered: acked (``mid``/``qos``) only on the connection
    (``generation``) that delivered it."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received_at: datetime


@dataclass
class Batch:
    """Messages and what they parsed into, in arrival order."""

    messages: list[Message] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    #: index into ``fixes`` -> problem, for fixes stored flagged (set when the batch is closed)
    flags: dict[int, Problem] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)
    #: ``time.monotonic()`` of the first message
    started: float = 0.0

    def add(self, message: Message, *, limits: PlausibilityLimits, prefix: str) -> None:
        """Parse ``message`` (never raises on bad input) and append its fixes and rejections."""
        if not self.messages:
            self.started = time.monotonic()
        self.messages.append(message)
        result = parse_message(message.topic, message.payload, received_at=message.received_at,
                               limits=limits, prefix=prefix)
        if result.fixes:
            self.fixes.extend(result.fixes)
        if result.rejections:
            self.rejections.extend(result.rejections)
        if result.ignored:
            self.ignored[result.ignored] += 1

    def full(self, max_fixes: int, max_messages: int) -> bool:
        return len(self.fixes) >= max_fixes or len(self.messages) >= max_messages

    def __bool__(self) -> bool:
        return bool(self.messages)
