"""The OsmAnd / Traccar Client HTTP server: asyncio, bounded, never one thread per connection.

One event-loop thread reads requests with :class:`~gps_firmware_bridge.httpwire.RequestReader`;
decoding and the durable store (the ``sink``) run on a fixed pool of ``workers`` threads. Bounds:

* at most ``max_connections`` open connections; beyond that a connection gets ``503`` at once;
* the head must arrive within ``header_timeout_s`` and the body within ``body_timeout_s`` of the
  head (``408`` otherwise), so half-sent requests cannot hold the server;
* a bad, negative or conflicting ``Content-Length`` is answered ``400``, one above ``max_body``
  ``413``, before any body byte is awaited.

Every request gets a response with a plain-text reason (Bahasa Indonesia, then English) and the
connection is closed. ``200``: the fix is stored (durably, before the reply) or deliberately not
stored (``valid=false``, implausible time or (0, 0)): resending would not help. ``400``: the
request is wrong (:data:`~gps_firmware_bridge.osmand.REQUEST_ERRORS`). ``503``: storage failed or
the server is full; the phone keeps the fix and retries.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from gps_firmware_bridge import osmand
from gps_firmware_bridge.exceptions import ConfigError, HttpRequestError
from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.httpwire import MAX_BODY_BYTES, MAX_HEAD_BYTES, RequestReader, response
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits

log = logging.getLogger(__name__)

Sink = Callable[[list[Fix]], None]
Clock = Callable[[], datetime]
READ_BYTES = 4096
WRITE_TIMEOUT_S = 5.0


def utc_now() -> datetime:
    """The receiving clock: aware UTC now."""
    return datetime.now(UTC)


class OsmAndServer:
    """HTTP server for OsmAnd / Traccar Client (see the module docstring for the answers).

    Parameters
    ----------
    address : tuple of (str, int)
        Listen address; port 0 picks a free port (see :attr:`server_address`).
    sink : callable
        Stores the decoded fixes durably; called on a worker thread before the reply.
    clock : callable
        Receiving clock (aware UTC).
    speed_unit : {"kn", "mps", "kmh"}
        Unit of the ``speed`` parameter.
    max_connections : int
        Open connections served at once.
    workers : int
        Threads decoding and storing.
    header_timeout_s, body_timeout_s : float
        Time allowed for the request head, and then for the body, seconds.
    max_body : int
        Largest accepted body, bytes.
    """

    def __init__(
        self,
        address: tuple[str, int],
        sink: Sink,
        clock: Clock = utc_now,
        speed_unit: str = "kn",
        limits: PlausibilityLimits = DEFAULT_LIMITS,
        *,
        max_connections: int = 1024,
        workers: int = 4,
        header_timeout_s: float = 10.0,
        body_timeout_s: float = 10.0,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self.sink = sink
        self.clock = clock
        self.speed_unit = speed_unit
        self.limits = limits
        self.max_connections = max_connections
        self.header_timeout_s = header_timeout_s
        self.body_timeout_s = body_timeout_s
        self.max_body = max_body
        self.active_connections = 0
        try:
            self._sock = socket.create_server(address, backlog=1024)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {address[0]}:{address[1]}: {exc}") from exc
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="osmand-worker")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()

    @property
    def server_address(self) -> tuple[str, int]:
        """The bound (host, port)."""
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` is called (blocks the calling thread)."""
        self._stopped.clear()
        try:
            asyncio.run(self._main())
        finally:
            self._stopped.set()

    def start_background(self) -> threading.Thread:
        """Serve in a daemon thread; returns once the server accepts connections."""
        thread = threading.Thread(target=self.serve_forever, name="osmand-http", daemon=True)
        thread.start()
        self._started.wait(10)
        return thread

    def shutdown(self) -> None:
        """Stop serving and wait for :meth:`serve_forever` to return."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
            self._stopped.wait(10)

    def server_close(self) -> None:
        """Release the listening socket and the worker threads."""
        self._sock.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, sock=self._sock, backlog=1024)
        self._started.set()
        async with server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.active_connections >= self.max_connections:
            await _reply(writer, 503, "server penuh, coba lagi / server busy, retry later")
            return
        self.active_connections += 1
        try:
            try:
                status, text = await self._serve_one(reader)
            except Exception as exc:  # noqa: BLE001 - a defect here must still get an answer
                log.error("osmand: request failed: %r", exc)
                status, text = 500, "kesalahan internal / internal error"
            await _reply(writer, status, text)
        finally:
            self.active_connections -= 1

    async def _serve_one(self, reader: asyncio.StreamReader) -> tuple[int, str]:
        parser = RequestReader(MAX_HEAD_BYTES, self.max_body)
        body_clock_started = False
        try:
            async with asyncio.timeout(self.header_timeout_s) as deadline:
                while True:
                    data = await reader.read(READ_BYTES)
                    request = parser.feed(data)
                    if request is not None:
                        break
                    if not data:
                        raise HttpRequestError(
                            400,
                            "permintaan terpotong (koneksi ditutup) / "
                            "truncated request (connection closed)",
                        )
                    if parser.head_complete and not body_clock_started:
                        body_clock_started = True
                        loop = asyncio.get_running_loop()
                        deadline.reschedule(loop.time() + self.body_timeout_s)
        except HttpRequestError as exc:
            return exc.status, exc.message
        except TimeoutError:
            return 408, "permintaan tidak lengkap dalam batas waktu / request timed out"
        except ConnectionError:
            return 400, "koneksi terputus / connection lost"
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._pool, self._process, request.method, request.target, request.body,
                request.content_type,
            )  # fmt: skip
        except RuntimeError:  # the pool is shut down: the server is closing
            return 503, "server sedang berhenti / server shutting down"

    def _process(self, method: str, target: str, body: bytes, content_type: str) -> tuple[int, str]:
        result = osmand.decode_request(
            method, target, body, content_type, self.clock(), self.speed_unit, self.limits
        )
        for note in result.notes:
            log.info("osmand %s: %s", note.reason, note.detail)
        for rejection in result.rejections:
            log.info("osmand rejected: %s %s", rejection.reason, rejection.detail)
        if result.fixes:
            try:
                self.sink(list(result.fixes))
            except Exception as exc:  # noqa: BLE001 - storage failure: the phone must retry
                log.error("osmand: cannot store fix: %s", exc)
                return 503, "posisi tidak dapat disimpan, coba lagi / cannot store position, retry"
            lines = ["tersimpan / stored"] + [f"{n.reason}: {n.detail}" for n in result.notes]
            return 200, "\n".join(lines)
        rejection = result.rejections[0]
        status = 400 if rejection.reason in osmand.REQUEST_ERRORS else 200
        return status, f"{rejection.reason}: {rejection.detail}"


async def _reply(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    try:
        writer.write(response(status, text))
        await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)
    except (ConnectionError, TimeoutError, OSError):
        pass
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), WRITE_TIMEOUT_S)
        except (ConnectionError, TimeoutError, OSError):
            pass
