"""Batches of the ingest pipeline: received messages, parsed as they arrive (no I/O).

A :class:`Batch` is filled by the receiving thread of :class:`tracking.ingest.IngestWorker` and
handed, closed, to its writer thread; nothing in it is shared between threads afterwards.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from tracking.contract import ParseResult, Rejection, parse_message
from tracking.fix import Fix
from tracking.plausibility import PlausibilityLimits, Problem
from tracking.status import StatusReport

log = logging.getLogger("siaga.tracking.ingest")


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
    #: accepted status messages (a tracker alive without a GPS fix)
    statuses: list[StatusReport] = field(default_factory=list)
    #: ``time.monotonic()`` of the first message
    started: float = 0.0

    def add(self, message: Message, *, limits: PlausibilityLimits, prefix: str) -> None:
        """Parse ``message`` and append its fixes and rejections; never raises for its content.

        The parser returns typed rejections for every bad input; should it ever raise (a defect),
        the message becomes a ``parse_error`` rejection, so it is stored and acknowledged rather
        than crashing the worker on every redelivery.
        """
        if not self.messages:
            self.started = time.monotonic()
        self.messages.append(message)
        try:
            result = parse_message(message.topic, message.payload,
                                   received_at=message.received_at, limits=limits, prefix=prefix)
        except Exception as exc:  # noqa: BLE001 - one message must never stop ingestion
            log.exception("the parser failed on a message of %d bytes on %r",
                          len(message.payload), message.topic)
            detail = f"{type(exc).__name__}".encode("ascii", "backslashreplace").decode()
            result = ParseResult(rejections=[Rejection(
                "parse_error", f"Pesan tidak dapat diproses ({detail}).",
                f"The message could not be processed ({detail}).", message.topic,
                message.payload, message.received_at)])
        if result.fixes:
            self.fixes.extend(result.fixes)
        if result.rejections:
            self.rejections.extend(result.rejections)
        if result.ignored:
            self.ignored[result.ignored] += 1
        if result.statuses:
            self.statuses.extend(result.statuses)

    def full(self, max_fixes: int, max_messages: int) -> bool:
        return len(self.fixes) >= max_fixes or len(self.messages) >= max_messages

    def __bool__(self) -> bool:
        return bool(self.messages)
