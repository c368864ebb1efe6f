"""Network servers: GT06 and Teltonika over TCP (asyncio); OsmAnd over HTTP is
:class:`gps_firmware_bridge.httpserver.OsmAndServer` (re-exported here).

Each TCP connection has its own framer state (login IMEI / handshake) and buffer; decoded fixes go
to a ``sink`` (normally :meth:`Outbox.put_many` followed by :meth:`Publisher.notify`) *before* the
ACK is written, so an acknowledged fix is always durably stored. A garbage or wrong-checksum frame
is logged and dropped; an unframeable Teltonika stream closes only that connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from gps_firmware_bridge import gt06, teltonika
from gps_firmware_bridge.fix import DecodeResult, Fix
from gps_firmware_bridge.httpserver import OsmAndServer, utc_now
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits
from gps_firmware_bridge.tracker_status import responses

log = logging.getLogger(__name__)
__all__ = ["OsmAndServer", "TrackerServer", "utc_now"]

Sink = Callable[[list[Fix]], None]
Clock = Callable[[], datetime]
READ_BYTES = 4096
IDLE_TIMEOUT_S = 600.0


def _deliver(results: list[DecodeResult], sink: Sink, peer: str) -> bytes:
    replies = b""
    for result in results:
        for rejection in result.rejections:
            log.info("%s rejected: %s %s", peer, rejection.reason, rejection.detail)
        for answer in responses(result.extra):
            log.info("%s %s answered: %s", peer, answer.device_id, answer.text)
        if result.fixes:
            sink(list(result.fixes))
        replies += result.reply
    return replies


class TrackerServer:
    """asyncio TCP server for one binary protocol (``gt06`` or ``teltonika``).

    Parameters
    ----------
    protocol : {"gt06", "teltonika"}
        Which framer/decoder each connection uses.
    sink : callable
        Receives the decoded fixes of each frame (stores them durably).
    clock : callable
        Receiving clock for the plausibility check.
    """

    def __init__(
        self,
        protocol: str,
        sink: Sink,
        clock: Clock = utc_now,
        limits: PlausibilityLimits = DEFAULT_LIMITS,
    ) -> None:
        if protocol not in ("gt06", "teltonika"):
            raise ValueError(f"unknown TCP protocol {protocol!r}")
        self.protocol = protocol
        self.sink = sink
        self.clock = clock
        self.limits = limits
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._handle, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and wait for the server to close."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        self.connections += 1
        buffer = b""
        gsession = gt06.Gt06Session()
        tsession = teltonika.TeltonikaSession()
        try:
            while True:
                data = await asyncio.wait_for(reader.read(READ_BYTES), IDLE_TIMEOUT_S)
                if not data:
                    break
                buffer += data
                close = False
                if self.protocol == "gt06":
                    results, buffer = gt06.decode_stream(
                        gsession, buffer, self.clock(), self.limits
                    )
                else:
                    results, buffer, close = teltonika.decode_stream(
                        tsession, buffer, self.clock(), self.limits
                    )
                reply = await asyncio.to_thread(_deliver, results, self.sink, peer)
                if reply:
                    writer.write(reply)
                    await writer.drain()
                if close:
                    break
        except (TimeoutError, ConnectionError):
            pass
        except Exception:  # noqa: BLE001 - one connection's failure must not affect others
            log.exception("connection %s failed", peer)
        finally:
            self.connections -= 1
            writer.close()
