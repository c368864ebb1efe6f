"""Listens for ``NOTIFY siaga_auth`` and keeps the principal cache honest (``api.principal_cache``).

One thread and one autocommit psycopg connection per API process. The cache is on only while
this connection is listening: it is enabled (empty) right after ``LISTEN`` and disabled as soon
as the connection fails; the thread then reconnects with a growing pause (0.5 s up to 5 s).
The session hook :func:`watch_sessions` clears the cache when a session of this process commits
a change to a token or a user, before the request that made it answers.
"""

from __future__ import annotations

import logging
import select
import threading

import psycopg
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from api.auth.models import AppUser, AuthToken
from api.principal_cache import PrincipalCache

log = logging.getLogger(__name__)

#: The channel of the trigger of migration ``0016_auth_notify``.
CHANNEL = "siaga_auth"
#: Seconds the thread waits for a notification before checking whether it should stop (the
#: wait of a server shutdown; waking up ten times a second costs nothing measurable).
POLL_S = 0.1
_AUTH_ROWS = (AuthToken, AppUser)
_FLAG = "siaga_auth_changed"


class AuthListener:
    """Background thread: ``LISTEN siaga_auth`` and clear ``cache`` on every notification."""

    def __init__(self, conninfo: str, cache: PrincipalCache) -> None:
        self.conninfo, self.cache = conninfo, cache
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self.listening = threading.Event()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="siaga-auth-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)
        self.cache.disable()

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL process of the listening connection (tests terminate it)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    def has_pending(self) -> bool:
        """Whether a notification (or anything) has reached the listening socket and may not
        have been processed yet. A request checks this before trusting the cache, so a change
        is seen even when this thread has not yet had its turn to clear the cache; without a
        connection the answer is yes (the cache is off then anyway)."""
        conn = self._conn
        if conn is None or conn.closed:
            return True
        try:
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _run(self) -> None:
        pause = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    self._conn = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.cache.enable()
                    self.listening.set()
                    pause = 0.5
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=POLL_S):
                            self.cache.clear()
            except psycopg.Error as exc:
                if not self._stop.is_set():
                    log.warning("auth listener: %s; principal cache off until reconnected", exc)
            finally:
                self.listening.clear()
                self.cache.disable()
                self._conn = None
            self._stop.wait(pause)
            pause = min(pause * 2, 5.0)


def watch_sessions(factory: sessionmaker[Session], cache: PrincipalCache) -> None:
    """Clear ``cache`` when a session of ``factory`` commits a change to a token or a user.

    ORM changes are seen at flush; a bulk ``UPDATE``/``DELETE`` of those tables through the
    session is seen when it is executed.
    """

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _ctx: object) -> None:
        if any(isinstance(o, _AUTH_ROWS) for o in (*session.dirty, *session.deleted)):
            session.info[_FLAG] = True

    @event.listens_for(factory, "do_orm_execute")
    def _executed(state: object) -> None:
        if (getattr(state, "is_update", False) or getattr(state, "is_delete", False)) and any(
                m.class_ in _AUTH_ROWS for m in getattr(state, "all_mappers", ())):
            state.session.info[_FLAG] = True  # type: ignore[attr-defined]

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(_FLAG, False):
            cache.clear()
