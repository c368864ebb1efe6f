"""Committing one ingest batch: retry what the database could not do, isolate what it refused.

* A **connection-level failure** (the database down, the connection lost, a deadlock or
  serialization failure, a disk full: psycopg ``OperationalError``/``InterfaceError`` and their
  SQLAlchemy wrappers) is retried with the same batch after ``retry_delay_s``, forever: nothing
  is dropped and nothing is acknowledged meanwhile.
* **Any other failure** (``DataError``, ``IntegrityError``, a value the driver cannot encode...)
  is a property of some row: the fixes are written apart from the rejections, then split in
  halves, each written in its own transaction, down to the single rows that fail. Good rows are
  stored; a failing row becomes a rejection (``storage_rejected``, with the database's message)
  stored in ``position_reject``. Rejections that themselves fail are stored once more reduced to
  ASCII text and the raw payload. Status messages (a tracker alive without a GPS fix) are split
  off the same way; a status the database refuses becomes a ``storage_rejected`` rejection.

The caller acknowledges the batch's messages only after :meth:`BatchWriter.write` returned: then
every fix is committed as a position or as a rejection.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy.exc
from psycopg import InterfaceError as PgInterfaceError
from psycopg import OperationalError as PgOperationalError
from sqlalchemy.orm import Session, sessionmaker

from geo.timestamp import iso_utc
from tracking import service
from tracking.contract import Rejection
from tracking.fix import Fix
from tracking.plausibility import Problem
from tracking.records import BatchOutcome
from tracking.status import StatusReport

log = logging.getLogger("siaga.tracking.ingest")

#: ``topic_for(fix)``: the MQTT topic a fix came on (for its rejection row)
TopicFor = Callable[[Fix], str]


def is_connection_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the database being unreachable rather than a row it refused."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError))
    return isinstance(exc, (PgOperationalError, PgInterfaceError,
                            sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError,
                            ConnectionError))


def fix_json(fix: Fix) -> dict[str, Any]:
    """A fix as a JSON object (the payload of its rejection row)."""
    return {"device_id": fix.device_id, "fix_time": iso_utc(fix.fix_time), "lon": fix.lon,
            "lat": fix.lat, "seq": fix.seq, "speed_mps": fix.speed_mps,
            "heading_deg": fix.heading_deg, "altitude_m": fix.altitude_m, "hdop": fix.hdop,
            "accuracy_m": fix.accuracy_m, "satellites": fix.satellites,
            "battery_pct": fix.battery_pct, "ignition": fix.ignition, "source": fix.source}


def _ascii(text: str | None, limit: int = 2000) -> str | None:
    if text is None:
        return None
    return text.encode("ascii", "backslashreplace").decode("ascii")[:limit]


def _reduced(r: Rejection) -> Rejection:
    """A rejection whose every text field is plain ASCII (its payload bytes kept as they are)."""
    return Rejection(_ascii(r.reason, 64) or "unknown", _ascii(r.message) or "",
                     _ascii(r.message_en) or "", _ascii(r.topic) or "", r.payload,
                     r.received_at, _ascii(r.device_id, 200), r.item_index)


@dataclass
class WriteResult:
    """What a batch became: the merged outcome, and the fixes stored as rejections instead."""

    outcome: BatchOutcome
    refused: list[Fix] = field(default_factory=list)
    #: the rejections written for ``refused`` (counted by the caller with the parser's)
    refusals: list[Rejection] = field(default_factory=list)


@dataclass
class _Part:
    fixes: list[Fix]
    flags: dict[int, Problem]
    rejections: list[Rejection]
    reduced: bool = False
    statuses: list[StatusReport] = field(default_factory=list)


class _Stopping(Exception):
    """The worker is stopping while the database is unreachable."""


class BatchWriter:
    """Writes batches through ``sessions`` (see the module docstring); one writer thread."""

    def __init__(self, sessions: sessionmaker[Session], *, topic_for: TopicFor,
                 retry_delay_s: float, stop: threading.Event, counters: Counter[str]) -> None:
        self.sessions = sessions
        self.topic_for = topic_for
        self.retry_delay_s = retry_delay_s
        self.stop = stop
        self.counters = counters
        self.partitions: set[date] = set()

    def write(self, fixes: Sequence[Fix], rejections: Sequence[Rejection],
              flags: Mapping[int, Problem] | None = None,
              statuses: Sequence[StatusReport] = ()) -> WriteResult | None:
        """Commit ``fixes``, ``rejections`` and ``statuses``; ``None`` if stopped while the
        database is down.

        Parts already committed stay committed when ``None`` is returned; the messages are then
        not acknowledged, and their redelivery is absorbed by the unique key of ``position``.
        """
        result = WriteResult(BatchOutcome(0, 0, 0))
        pending = [_Part(list(fixes), dict(flags or {}), list(rejections),
                         statuses=list(statuses))]
        try:
            while pending:
                part = pending.pop()
                error = self._attempt(part, result)
                if error is not None:
                    pending.extend(reversed(self._split(part, error, result)))
        except _Stopping:
            return None
        return result

    def _attempt(self, part: _Part, result: WriteResult) -> BaseException | None:
        """Write one part, retrying connection failures; the refusal error, or ``None``."""
        while True:
            try:
                with self.sessions.begin() as session:
                    outcome = service.write_batch(session, part.fixes, part.rejections,
                                                  flags=part.flags,
                                                  known_partitions=self.partitions,
                                                  statuses=part.statuses)
            except Exception as exc:  # noqa: BLE001 - classified below, never dropped
                self.partitions.clear()  # partitions created in the failed transaction are gone
                if not is_connection_failure(exc):
                    self.counters["db_refusals"] += 1
                    log.warning("the database refused a part of %d fixes and %d rejections "
                                "(%s: %s); isolating the rows", len(part.fixes),
                                len(part.rejections), type(exc).__name__, _ascii(str(exc), 300))
                    return exc
                self.counters["db_errors"] += 1
                log.exception("batch write failed (database unreachable); retrying in %.1f s",
                              self.retry_delay_s)
                if self.stop.wait(self.retry_delay_s):
                    raise _Stopping from exc
                continue
            result.outcome = _merge(result.outcome, outcome)
            return None

    def _split(self, part: _Part, error: BaseException, result: WriteResult) -> list[_Part]:
        """The parts to write instead of a refused ``part``, in order."""
        if part.statuses and (part.fixes or part.rejections):
            return [_Part(part.fixes, part.flags, part.rejections, part.reduced),
                    _Part([], {}, [], statuses=part.statuses)]
        if len(part.statuses) > 1:
            mid = len(part.statuses) // 2
            return [_Part([], {}, [], statuses=part.statuses[:mid]),
                    _Part([], {}, [], statuses=part.statuses[mid:])]
        if part.statuses:
            (status,) = part.statuses
            refusal = self._status_refusal(status, error)
            result.refusals.append(refusal)
            return [_Part([], {}, [refusal])]
        if part.fixes and part.rejections:  # first tell the fixes from the rejections apart
            return [_Part(part.fixes, part.flags, []), _Part([], {}, part.rejections)]
        if len(part.fixes) > 1:
            mid = len(part.fixes) // 2
            return [_Part(part.fixes[:mid], {i: p for i, p in part.flags.items() if i < mid}, []),
                    _Part(part.fixes[mid:], {i - mid: p for i, p in part.flags.items()
                                             if i >= mid}, [])]
        if part.fixes:
            (fix,) = part.fixes
            refusal = self._refusal(fix, error)
            result.refused.append(fix)
            result.refusals.append(refusal)
            return [_Part([], {}, [refusal])]
        if not part.reduced:
            return [_Part([], {}, [_reduced(r) for r in part.rejections], reduced=True)]
        # even ASCII rejections with their raw payload are refused: not a row problem after all
        self.counters["db_errors"] += 1
        log.error("rejections cannot be stored (%s); retrying in %.1f s", _ascii(str(error), 300),
                  self.retry_delay_s)
        if self.stop.wait(self.retry_delay_s):
            raise _Stopping from error
        return [part]

    def _refusal(self, fix: Fix, error: BaseException) -> Rejection:
        detail = _ascii(f"{type(error).__name__}: {str(error).strip()}", 300)
        return Rejection(
            "storage_rejected",
            f"Basis data menolak fix ini ({detail}).",
            f"The database refused this fix ({detail}).",
            self.topic_for(fix),
            json.dumps(fix_json(fix), ensure_ascii=True, allow_nan=True).encode(),
            fix.received_at or datetime.now(UTC), _ascii(fix.device_id, 200))


    def _status_refusal(self, status: StatusReport, error: BaseException) -> Rejection:
        detail = _ascii(f"{type(error).__name__}: {str(error).strip()}", 300)
        payload = {"device_id": status.device_id, "reason": status.reason,
                   "cells": len(status.cells), "wifi": status.wifi, "source": status.source}
        return Rejection(
            "storage_rejected",
            f"Basis data menolak status ini ({detail}).",
            f"The database refused this status ({detail}).",
            f"siaga/v1/status/{status.device_id}",
            json.dumps(payload, ensure_ascii=True).encode(),
            status.received_at, _ascii(status.device_id, 200))


def _merge(total: BatchOutcome, part: BatchOutcome) -> BatchOutcome:
    latest = dict(total.latest)
    for device_id, fix in part.latest.items():
        current = latest.get(device_id)
        if current is None or fix.fix_time > current.fix_time:
            latest[device_id] = fix
    return BatchOutcome(total.stored + part.stored, total.duplicates + part.duplicates,
                        total.rejected + part.rejected, latest,
                        total.statuses + part.statuses)
