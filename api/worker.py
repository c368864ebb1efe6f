"""The scheduler process (``siaga worker``): periodic jobs, run by one instance at a time.

Any number of workers may run (one per host, or beside each API process); a PostgreSQL
session-level advisory lock elects the leader. Each tick a worker checks that it still holds the
lock on its own dedicated connection, or tries to take it; only the holder runs the jobs that are
due. When the leader dies its connection closes, PostgreSQL releases the lock and another worker
takes it at its next tick. Each job runs in its own transaction and its domain events are
published after the commit. The timing itself is :mod:`dispatch.schedule` (pure).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dispatch.schedule import Job, Schedule

log = logging.getLogger("siaga.worker")

#: Advisory lock key of the scheduler (any bigint agreed by all workers: "SIAGA" + 112).
SCHEDULER_LOCK_KEY = 0x5349414741_0112
#: A job: runs one pass (its own transaction) and returns ``[(topic, payload)]`` to publish.
JobFn = Callable[[], list[tuple[str, dict[str, Any]]]]


class LeaderLock:
    """A session-level advisory lock held on a dedicated connection of ``engine``."""

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None

    def _held(self) -> bool:
        assert self._conn is not None
        return bool(self._conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :k)"),
            {"k": self.key}).scalar())

    def ensure(self) -> bool:
        """True when this instance leads: it still holds the lock, or it has just taken it."""
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT")
            if self._held():
                return True
            return bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                           {"k": self.key}).scalar())
        except DBAPIError as exc:  # connection lost (database restart, backend killed)
            log.warning("leader lock connection lost: %s", exc.orig or exc)
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.invalidate()  # the session is gone, and the lock with it
            return False

    @property
    def backend_pid(self) -> int | None:
        """PostgreSQL backend pid of the lock connection (tests, diagnostics)."""
        if self._conn is None:
            return None
        return int(self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                conn.close()
            except SQLAlchemyError:  # the connection is gone, and the lock with it
                conn.invalidate()


class Worker:
    """Runs ``jobs`` on their :class:`~dispatch.schedule.Schedule` while it leads."""

    def __init__(self, lock: LeaderLock, jobs: dict[str, tuple[float, JobFn]], *,
                 publish: Callable[[list[tuple[str, dict[str, Any]]]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, name: str = "worker") -> None:
        self.lock, self.jobs, self.publish, self.clock, self.name = lock, jobs, publish, clock, name
        self.schedule = Schedule([Job(n, iv) for n, (iv, _fn) in jobs.items()], clock())
        self.leading = False

    def tick(self) -> list[str]:
        """One tick: lead or follow; run the due jobs when leading. Returns the jobs run."""
        now = self.clock()
        due = self.schedule.due(now)
        if not due:
            return []
        leading = self.lock.ensure()
        if leading != self.leading:
            log.info("%s %s", self.name, "now leads the scheduler" if leading else "follows")
            self.leading = leading
        ran = []
        for name in due:
            self.schedule.done(name, now)
            if not leading:
                continue
            try:
                messages = self.jobs[name][1]()
            except Exception:  # noqa: BLE001 - one failed pass must not stop the scheduler
                log.exception("job %s failed", name)
                continue
            ran.append(name)
            if messages and self.publish is not None:
                self.publish(messages)  # after the job's commit
        return ran

    def run(self, stop: threading.Event, *, max_sleep_s: float = 5.0) -> None:
        """Tick until ``stop`` is set; releases the lock on the way out."""
        try:
            while not stop.is_set():
                self.tick()
                stop.wait(self.schedule.sleep_s(self.clock(), at_most=max_sleep_s))
        finally:
            self.lock.release()
