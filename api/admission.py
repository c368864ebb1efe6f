"""Admission control: at most ``limit`` HTTP requests are served at once by one API process.

Why: a sync route holds its pooled database connection from its first query until its session
is committed after the handler, and between the two FastAPI still needs a worker thread (to
validate the response). Without a bound, a burst fills every worker thread with handlers waiting
for a connection while the requests holding the connections wait for a thread: nothing moves
until the pool timeout. With at most ``limit`` requests in flight, ``limit`` worker threads and
``limit`` pooled connections (``api/db.py``), a request past the gate never waits for either; the
others wait here, in arrival order, holding neither a thread nor a connection.

A request that waits longer than ``queue_timeout_s`` is answered 503 with ``Retry-After``.
WebSockets and the paths in ``exempt`` (``/api/v1/health``) bypass the gate, so the health
check answers while the API is saturated.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import anyio

from api.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Seconds a client refused by the gate is asked to wait before retrying.
RETRY_AFTER_S = 2


class AdmissionGate:
    """Pure ASGI middleware bounding the HTTP requests served at once (FIFO queue)."""

    def __init__(self, app: ASGIApp, *, limit: int, queue_timeout_s: float,
                 exempt: Iterable[str] = ("/api/v1/health",)) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.app, self.limit, self.queue_timeout_s = app, limit, queue_timeout_s
        self.exempt = frozenset(exempt)
        self._slots: anyio.Semaphore | None = None  # built in the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit, fast_acquire=True)
        slots = self._slots
        try:
            with anyio.fail_after(self.queue_timeout_s):
                await slots.acquire()
        except TimeoutError:
            await _busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


async def _busy(send: Send) -> None:
    body = json.dumps(error_body(
        "server_busy", "Server sedang penuh; coba lagi sebentar lagi.",
        message_en="The server is busy; nothing was changed, try again shortly.")).encode()
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(RETRY_AFTER_S).encode())]})
    await send({"type": "http.response.body", "body": body})
