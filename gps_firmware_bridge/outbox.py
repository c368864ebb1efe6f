"""Durable store-and-forward outbox (SQLite in WAL mode).

Every fix is first written here (with its per-device sequence number, in one transaction) and
only deleted once the broker acknowledged the MQTT message carrying it (QoS 1 PUBACK). A crash,
a reboot or a broker outage therefore loses nothing that was stored.

Bounds and drop policy: the outbox keeps at most ``max_rows`` fixes and none stored more than
``max_age_s`` ago. Beyond that the **oldest** rows are dropped (the newest positions matter most
to a dispatcher) and the persistent counters ``dropped_rows`` / ``dropped_age`` are incremented,
so the loss is visible (``siaga-bridge outbox``).

Refused fixes: a fix the broker answered with a failure reason code (MQTT v5 PUBACK >= 0x80, e.g.
0x87 *Not authorized* when the ACL does not let this login publish the device's topic) was not
delivered. It is moved to the ``refused`` table with the reason (counter ``refused``), so it does
not block the fixes behind it and is not resent in a loop; ``requeue_refused`` (``siaga-bridge
outbox --retry-refused``) puts it back once the broker configuration is fixed. The age and row
bounds apply to the refused fixes too (separately).

Replay after a broker crash: Mosquitto sends the PUBACK of a QoS 1 message before it saves it, and
the shipped brokers save every 100 changes (``autosave_on_changes true``, ``autosave_interval
100``), so a ``kill -9`` of the broker loses what it acknowledged since its last save. An
acknowledged fix is therefore not deleted at once: its row moves to the ``recent`` table, which
keeps the rows of the last ``replay_last`` acknowledged messages (K = 200 by default; a message is
one MQTT publication, single fix or array) and none acknowledged more than ``replay_max_age_s``
before the newest acknowledgement. After a reconnect that follows a lost connection the publisher
publishes those messages again, oldest first, before newer pending ones
(:meth:`Outbox.replay_messages`); the acknowledgement of a replay counts as a new acknowledgement
of its rows (:meth:`Outbox.acknowledge`), so they stay in ``recent``, still bounded.

Why this covers every loss: a message the broker lost was received after its last save, i.e.
among the last 100 changes it counted plus the messages of the event-loop pass that reached the
100th change (each message a publisher sends that waits in a queue is at least one change, and
the changes of other clients only make this publisher's share smaller), or, handed straight to
the connected ingest worker (not a change), still in the broker's send buffer, i.e. among the very
last it received. Either way among this publisher's last 100 + one loop pass of acknowledged
publications, fewer than K = 200 (see docs/broker.md for the measured figures). The ingest
stores positions under the unique key (device_id, fix_time, seq), so a replayed fix the broker
had kept is absorbed as a duplicate. The age bound is measured against the newest
acknowledgement, not the wall clock, so a long broker outage does not expire the rows to replay.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from gps_firmware_bridge.exceptions import OutboxError
from gps_firmware_bridge.fix import Fix, fix_payload
from gps_firmware_bridge.outbox_schema import SCHEMA, OutboxRow, OutboxStats

__all__ = ["Outbox", "OutboxRow", "OutboxStats"]

class Outbox:
    """SQLite WAL outbox; thread-safe (one connection guarded by a lock).

    Parameters
    ----------
    path : str or Path
        Database file (created if missing); ``":memory:"`` for tests of pure planning.
    max_rows : int
        Maximum number of stored fixes; the oldest beyond it are dropped.
    max_age_s : float
        Maximum time a fix stays stored, seconds; older ones are dropped.
    replay_last : int
        Acknowledged messages whose rows are kept in ``recent`` for a replay after a reconnect
        (K, default 200); 0 deletes acknowledged rows at once and disables the replay.
    replay_max_age_s : float
        Rows acknowledged more than this many seconds before the newest acknowledgement leave
        ``recent`` (default 3600: a quiet broker may take long to see 100 changes).
    """

    def __init__(
        self,
        path: str | Path,
        max_rows: int = 200_000,
        max_age_s: float = 7 * 86400.0,
        replay_last: int = 200,
        replay_max_age_s: float = 3600.0,
    ) -> None:
        if replay_last < 0 or replay_max_age_s < 0:
            raise OutboxError(
                f"--replay-last ({replay_last}) dan umur replay ({replay_max_age_s} s) tidak "
                f"boleh negatif / --replay-last ({replay_last}) and the replay age "
                f"({replay_max_age_s} s) must not be negative"
            )
        self.path = str(path)
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self.replay_last = replay_last
        self.replay_max_age_s = replay_max_age_s
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, timeout=30.0, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._db.execute("BEGIN IMMEDIATE")
            self._trim_recent()
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open outbox {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bump(self, name: str, by: int) -> None:
        if by:
            self._db.execute(
                "INSERT INTO counter(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, by),
            )

    def put(self, fix: Fix, now_s: float | None = None) -> int:
        """Store one fix durably and return its sequence number."""
        return self.put_many([fix], now_s)[0]

    def put_many(self, fixes: Iterable[Fix], now_s: float | None = None) -> list[int]:
        """Store fixes in one transaction; returns their sequence numbers, in order."""
        stamp = time.time() if now_s is None else now_s
        seqs: list[int] = []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for fix in fixes:
                    row = self._db.execute(
                        "SELECT next_seq FROM device_seq WHERE device_id = ?", (fix.device_id,)
                    ).fetchone()
                    seq = row[0] if row else 0
                    self._db.execute(
                        "INSERT INTO device_seq(device_id, next_seq) VALUES (?, ?) "
                        "ON CONFLICT(device_id) DO UPDATE SET next_seq = excluded.next_seq",
                        (fix.device_id, seq + 1),
                    )
                    payload = json.dumps(fix_payload(fix, seq), separators=(",", ":"))
                    self._db.execute(
                        "INSERT INTO outbox(device_id, seq, stored_at, payload) VALUES (?,?,?,?)",
                        (fix.device_id, seq, stamp, payload),
                    )
                    seqs.append(seq)
                self._bump("stored", len(seqs))
                self._enforce_bounds(stamp)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise OutboxError(f"cannot store fix in {self.path}: {exc}") from exc
        return seqs

    def _enforce_bounds(self, now_s: float) -> None:
        cur = self._db.execute("DELETE FROM outbox WHERE stored_at < ?", (now_s - self.max_age_s,))
        self._bump("dropped_age", cur.rowcount)
        cur = self._db.execute("DELETE FROM refused WHERE stored_at < ?", (now_s - self.max_age_s,))
        self._bump("dropped_age", cur.rowcount)
        count = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        if count > self.max_rows:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
                (count - self.max_rows,),
            )
            self._bump("dropped_rows", cur.rowcount)
        refused = self._db.execute("SELECT count(*) FROM refused").fetchone()[0]
        if refused > self.max_rows:
            cur = self._db.execute(
                "DELETE FROM refused WHERE id IN (SELECT id FROM refused ORDER BY id LIMIT ?)",
                (refused - self.max_rows,),
            )
            self._bump("dropped_rows", cur.rowcount)

    def expire(self, now_s: float | None = None) -> None:
        """Apply the age bound now (the publisher calls it periodically)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._enforce_bounds(time.time() if now_s is None else now_s)
            self._db.execute("COMMIT")

    def pending(self, limit: int = 10_000) -> list[OutboxRow]:
        """Stored rows, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, device_id, seq, payload FROM outbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def backlog_newest(self) -> list[OutboxRow]:
        """The newest stored row of every device that has two or more stored rows."""
        with self._lock:
            rows = self._db.execute(
                "SELECT o.id, o.device_id, o.seq, o.payload FROM outbox o JOIN ("
                " SELECT max(id) AS id FROM outbox GROUP BY device_id HAVING count(*) >= 2"
                ") n ON n.id = o.id ORDER BY o.id"
            ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def delete(self, ids: Iterable[int]) -> int:
        """Acknowledge rows carried by one message; returns how many were still pending."""
        return self.acknowledge([list(ids)])

    def acknowledge(self, messages: Iterable[Sequence[int]], now_s: float | None = None) -> int:
        """Record the PUBACK of messages, each given as the row ids it carried.

        Pending rows leave the outbox (counter ``published``) and, unless ``replay_last`` is 0,
        enter ``recent`` numbered by message. Rows already in ``recent`` (a replayed message) get
        the new message number (counter ``replayed``). Returns how many pending rows left the
        outbox.
        """
        groups = [list(g) for g in messages if g]
        if not groups:
            return 0
        stamp = time.time() if now_s is None else now_s
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                deleted = replayed = 0
                for group in groups:
                    keys = [(i,) for i in group]
                    if self.replay_last > 0:
                        msg_no = self._next_msg_no()
                        cur = self._db.executemany(
                            "UPDATE recent SET msg_no = ?, acked_at = ? WHERE id = ?",
                            [(msg_no, stamp, i) for i in group],
                        )
                        replayed += cur.rowcount
                        self._db.executemany(
                            "INSERT OR REPLACE INTO recent(id, device_id, seq, stored_at, "
                            "payload, msg_no, acked_at) SELECT id, device_id, seq, stored_at, "
                            "payload, ?, ? FROM outbox WHERE id = ?",
                            [(msg_no, stamp, i) for i in group],
                        )
                    cur = self._db.executemany("DELETE FROM outbox WHERE id = ?", keys)
                    deleted += cur.rowcount
                self._bump("published", deleted)
                self._bump("replayed", replayed)
                self._trim_recent()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise OutboxError(f"cannot record acknowledgements in {self.path}: {exc}") from exc
        return deleted

    def _next_msg_no(self) -> int:
        self._bump("recent_msg_no", 1)
        row = self._db.execute("SELECT value FROM counter WHERE name = 'recent_msg_no'").fetchone()
        return int(row[0])

    def _trim_recent(self) -> None:
        """Keep the rows of the last ``replay_last`` messages within ``replay_max_age_s``."""
        if self.replay_last <= 0:
            self._db.execute("DELETE FROM recent")
            return
        newest = self._db.execute("SELECT max(msg_no), max(acked_at) FROM recent").fetchone()
        if newest[0] is None:
            return
        self._db.execute(
            "DELETE FROM recent WHERE msg_no <= ? OR acked_at < ?",
            (newest[0] - self.replay_last, newest[1] - self.replay_max_age_s),
        )

    def replay_messages(self) -> list[list[OutboxRow]]:
        """The rows of ``recent`` grouped as they were acknowledged, oldest message first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, device_id, seq, payload, msg_no FROM recent ORDER BY msg_no, id"
            ).fetchall()
        groups: list[list[OutboxRow]] = []
        last: int | None = None
        for row in rows:
            if row[4] != last:
                groups.append([])
                last = row[4]
            groups[-1].append(OutboxRow(*row[:4]))
        return groups

    def refuse(self, ids: Iterable[int], reason: str, now_s: float | None = None) -> int:
        """Move rows the broker refused to the ``refused`` table; returns how many moved."""
        id_list = [(i,) for i in ids]
        if not id_list:
            return 0
        stamp = time.time() if now_s is None else now_s
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            moved = 0
            for (row_id,) in id_list:
                cur = self._db.execute(
                    "INSERT OR REPLACE INTO refused(id, device_id, seq, stored_at, payload, "
                    "refused_at, reason) SELECT id, device_id, seq, stored_at, payload, ?, ? "
                    "FROM outbox WHERE id = ?",
                    (stamp, reason, row_id),
                )
                moved += cur.rowcount
            self._db.executemany("DELETE FROM outbox WHERE id = ?", id_list)
            self._bump("refused", moved)
            self._db.execute("COMMIT")
        return moved

    def refused_rows(self) -> list[tuple[OutboxRow, str]]:
        """Refused rows with the broker's reason, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, device_id, seq, payload, reason FROM refused ORDER BY id"
            ).fetchall()
        return [(OutboxRow(*r[:4]), str(r[4])) for r in rows]

    def requeue_refused(self) -> int:
        """Put every refused row back in the outbox (same ids and sequence numbers)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox(id, device_id, seq, stored_at, payload) "
                "SELECT id, device_id, seq, stored_at, payload FROM refused"
            )
            moved = cur.rowcount
            self._db.execute("DELETE FROM refused")
            self._db.execute("COMMIT")
        return moved

    def count(self) -> int:
        """Number of stored (unacknowledged) fixes."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def stats(self, now_s: float | None = None) -> OutboxStats:
        """Counts and drop counters."""
        stamp = time.time() if now_s is None else now_s
        with self._lock:
            pending, devices, oldest = self._db.execute(
                "SELECT count(*), count(DISTINCT device_id), min(stored_at) FROM outbox"
            ).fetchone()
            counters = dict(self._db.execute("SELECT name, value FROM counter").fetchall())
            refused_held = self._db.execute("SELECT count(*) FROM refused").fetchone()[0]
            recent = self._db.execute("SELECT count(*) FROM recent").fetchone()[0]
        return OutboxStats(
            pending=pending,
            devices=devices,
            stored_total=counters.get("stored", 0),
            published_total=counters.get("published", 0),
            dropped_rows=counters.get("dropped_rows", 0),
            dropped_age=counters.get("dropped_age", 0),
            oldest_age_s=None if oldest is None else round(stamp - oldest, 3),
            refused_total=counters.get("refused", 0),
            refused_held=refused_held,
            recent=recent,
            replayed_total=counters.get("replayed", 0),
        )
