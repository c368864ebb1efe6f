"""A per-process cache of authenticated principals, invalidated by the database.

Every authenticated request used to read its token and user from the database: a pool checkout,
a query and a rollback, about a fifth of a request's time under load. The cache keeps the
:class:`~api.security.Principal` of a token digest for a short time instead, and stays correct:

* **Invalidation by PostgreSQL.** A trigger (migration ``0016_auth_notify``) sends
  ``NOTIFY siaga_auth`` whenever a row of ``auth_token`` or ``app_user`` is updated or deleted
  (a revocation, a logout, a disabled user, a changed role or regency list), whoever made the
  change: this API process, another instance, the CLI or plain SQL. Each process listens on its
  own connection (:mod:`api.auth_listener`) and clears its cache on every notification.
* **Immediately in the process that made the change.** A session of this process that changed
  such a row clears the cache when it commits (:func:`watch_sessions`), before the response, so
  a client that saw its revocation succeed can never use the token again on this instance. On
  another instance the change applies as soon as PostgreSQL delivers the notification
  (milliseconds).
* **Only while listening.** Until the listener has issued ``LISTEN``, and from the moment its
  connection fails until it is listening again, the cache is off: every request reads the
  database, as before. Re-enabling clears it (notifications may have been missed meanwhile).
* **No stale write-back.** A request that read the database before an invalidation must not
  store what it read after it: :meth:`PrincipalCache.put` takes the generation seen before the
  read and stores nothing if the cache was cleared since.
* **Bounded.** An entry lives at most ``ttl_s`` seconds and never past its token's expiry.

Pure: no I/O, thread-safe (a lock around a dict), the clock injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from api.security import Principal

#: Seconds a cached principal is trusted at most, notifications or not.
DEFAULT_TTL_S = 30.0
#: Entries kept at most (one per live token; cleared wholesale when full).
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    stored_at: float
    expires_at: datetime | None


class PrincipalCache:
    """Token digest → principal, cleared on every change of tokens or users (module doc)."""

    def __init__(self, *, ttl_s: float = DEFAULT_TTL_S, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.max_entries, self._clock = ttl_s, max_entries, clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._generation = 0
        self._enabled = False
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def generation(self) -> int:
        """Changes on every :meth:`clear`; read it before a database lookup (see :meth:`put`)."""
        return self._generation

    def enable(self) -> None:
        """The listener is listening: start caching from an empty cache."""
        with self._lock:
            self._entries.clear()
            self._generation += 1
            self._enabled = True

    def disable(self) -> None:
        """The listener lost its connection: forget everything and stop caching."""
        with self._lock:
            self._enabled = False
            self._entries.clear()
            self._generation += 1

    def clear(self) -> None:
        """Tokens or users changed: forget every principal."""
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str, now: datetime) -> Principal | None:
        """The cached principal of a token digest, or ``None`` (not cached, too old, expired
        token, or the cache is off). ``now``: the wall clock (UTC) for the token's expiry."""
        if not self._enabled:
            return None
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                self.misses += 1
                return None
            if (self._clock() - entry.stored_at > self.ttl_s
                    or (entry.expires_at is not None and entry.expires_at <= now)):
                del self._entries[digest]
                self.misses += 1
                return None
            self.hits += 1
            return entry.principal

    def put(self, digest: str, principal: Principal, *, expires_at: datetime | None,
            generation: int) -> bool:
        """Store what a lookup that started at ``generation`` read; nothing when the cache is
        off or was cleared since (the lookup may have read a row that has changed). Returns
        whether it was stored."""
        with self._lock:
            if not self._enabled or generation != self._generation:
                return False
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = _Entry(principal, self._clock(), expires_at)
            return True
