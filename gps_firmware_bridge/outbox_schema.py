"""The outbox's SQLite schema and the values it returns (rows, counts); see ``outbox.py``."""

from __future__ import annotations

from dataclasses import dataclass

#: Tables of the outbox database: pending fixes, per-device sequence numbers, counters, fixes
#: the broker refused and the recently acknowledged ones kept for a replay.
SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_outbox_device_id ON outbox (device_id, id);
CREATE TABLE IF NOT EXISTS device_seq (device_id TEXT PRIMARY KEY, next_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    payload TEXT NOT NULL,
    refused_at REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS recent (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    payload TEXT NOT NULL,
    msg_no INTEGER NOT NULL,
    acked_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_recent_msg_no ON recent (msg_no, id);
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One stored fix: outbox row id, device, sequence number and exact JSON payload text."""

    id: int
    device_id: str
    seq: int
    payload: str


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Counts for ``siaga-bridge outbox``: pending rows, devices, drops, oldest age (s), fixes
    the broker refused (ever, and still held in the ``refused`` table)."""

    pending: int
    devices: int
    stored_total: int
    published_total: int
    dropped_rows: int
    dropped_age: int
    oldest_age_s: float | None
    refused_total: int = 0
    refused_held: int = 0
    recent: int = 0
    replayed_total: int = 0
