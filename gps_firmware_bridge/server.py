"""Network servers: GT06 and Teltonika over TCP (asyncio); OsmAnd over HTTP is
:class:`gps_firmware_bridge.httpserver.OsmAndServer` (re-exported here).

Each TCP connection has its own framer state (login IMEI / handshake) and buffer; decoded fixes go
to a ``sink`` (normally :meth:`Outbox.put_many` followed by :meth:`Publisher.notify`) *before* the
ACK is written, so an acknowledged fix is always durably stored. A garbage or wrong-checksum frame
is logged and dropped; an unframeable Teltonika stream closes only that connection.

A frame without a valid GPS fix but with cell towers / Wi-Fi becomes a
:class:`~gps_firmware_bridge.tracker_status.NoFix` record, never a position: it goes to
``status_sink`` (normally :meth:`Publisher.put_status` on ``siaga/v1/status/{device_id}``, see
:mod:`gps_firmware_bridge.status`). Frames decoded despite a wrong CRC or length field are logged
once per device (:class:`~gps_firmware_bridge.integrity.IntegrityWatch`); ``strict_crc`` refuses
them instead (no ACK).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from gps_firmware_bridge import gt06, teltonika
from gps_firmware_bridge.commandlink import CommandLink
from gps_firmware_bridge.fix import DecodeResult, Fix
from gps_firmware_bridge.httpserver import OsmAndServer, utc_now
from gps_firmware_bridge.integrity import IntegrityWatch
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits
from gps_firmware_bridge.tracker_status import NoFix, no_fix_records, responses

log = logging.getLogger(__name__)
__all__ = ["OsmAndServer", "TrackerServer", "utc_now"]

Sink = Callable[[list[Fix]], None]
#: ``status_sink(records, received_at)``: publishes the no-fix records of one read
StatusSink = Callable[[list[NoFix], datetime], None]
Clock = Callable[[], datetime]
READ_BYTES = 4096
IDLE_TIMEOUT_S = 600.0


def _deliver(
    results: list[DecodeResult],
    sink: Sink,
    peer: str,
    status_sink: StatusSink | None = None,
    received_at: datetime | None = None,
) -> bytes:
    replies = b""
    statuses: list[NoFix] = []
    for result in results:
        for rejection in result.rejections:
            log.info("%s rejected: %s %s", peer, rejection.reason, rejection.detail)
        for answer in responses(result.extra):
            log.info("%s %s answered: %s", peer, answer.device_id, answer.text)
        if result.fixes:
            sink(list(result.fixes))
        statuses.extend(no_fix_records(result.extra))
        replies += result.reply
    if statuses and status_sink is not None and received_at is not None:
        status_sink(statuses, received_at)
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
    limits : PlausibilityLimits
        Plausibility limits of decoded fixes.
    strict_crc : bool
        Refuse (no ACK) frames failing their CRC or length field instead of decoding them with a
        note, as Traccar does (logged once per device through :attr:`integrity`).
    model : str or None
        GT06 device model for the layouts that cannot be told from the frame (``NT20``,
        ``QH302R``, ``LW4G-4B``, ``R11``); ``None`` for the others.
    status_sink : callable or None
        Receives the no-fix (cell/Wi-Fi only) records and their receive time.
    commands : CommandLink or None
        Server commands: sent once a connection is identified, answers matched and logged.
    """

    def __init__(
        self,
        protocol: str,
        sink: Sink,
        clock: Clock = utc_now,
        limits: PlausibilityLimits = DEFAULT_LIMITS,
        *,
        strict_crc: bool = False,
        model: str | None = None,
        status_sink: StatusSink | None = None,
        commands: CommandLink | None = None,
    ) -> None:
        if protocol not in ("gt06", "teltonika"):
            raise ValueError(f"unknown TCP protocol {protocol!r}")
        self.protocol = protocol
        self.sink = sink
        self.clock = clock
        self.limits = limits
        self.strict_crc = strict_crc
        self.model = model
        self.status_sink = status_sink
        self.commands = commands
        self.integrity = IntegrityWatch()
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
        gsession = gt06.Gt06Session(model=self.model, strict_crc=self.strict_crc)
        tsession = teltonika.TeltonikaSession(strict_crc=self.strict_crc)
        pump: asyncio.Task[None] | None = None  # writes server commands once identified
        identified = False
        try:
            while True:
                data = await asyncio.wait_for(reader.read(READ_BYTES), IDLE_TIMEOUT_S)
                if not data:
                    break
                buffer += data
                close = False
                now = self.clock()
                if self.protocol == "gt06":
                    results, buffer = gt06.decode_stream(gsession, buffer, now, self.limits)
                else:
                    results, buffer, close = teltonika.decode_stream(
                        tsession, buffer, now, self.limits
                    )
                for line in self.integrity.observe(results, peer):
                    log.warning("%s", line)
                reply = await asyncio.to_thread(
                    _deliver, results, self.sink, peer, self.status_sink, now
                )
                if reply:
                    writer.write(reply)
                    await writer.drain()
                if self.commands is not None:
                    self.commands.observe(results)
                    device_id = gsession.device_id or tsession.device_id
                    if pump is None and identified and reply and device_id is not None:
                        # after the first ACK that follows the login / IMEI handshake
                        pump = asyncio.create_task(self.commands.pump(device_id, writer))
                    identified = device_id is not None
                if close:
                    break
        except (TimeoutError, ConnectionError):
            pass
        except Exception:  # noqa: BLE001 - one connection's failure must not affect others
            log.exception("connection %s failed", peer)
        finally:
            self.connections -= 1
            if pump is not None:
                pump.cancel()
            writer.close()
