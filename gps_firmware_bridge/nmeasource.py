"""Line sources of ``siaga-bridge nmea``: a file, a serial port or a TCP stream (gpsd's raw port).

Serial and TCP sources yield ``None`` whenever no byte arrived for ``idle_s`` seconds or the stream
ended: receivers print one burst of sentences per epoch, so silence means the open epoch is
complete and :meth:`NmeaAssembler.flush` publishes it now rather than when the next burst comes
(which may be minutes later, or never, when the receiver pauses or the link drops).
"""

from __future__ import annotations

import argparse
import logging
import socket
import time
from collections.abc import Iterator

from gps_firmware_bridge.exceptions import ConfigError

log = logging.getLogger("siaga-bridge")


MAX_LINE_BYTES = 4096


def split_lines(buffer: bytes) -> tuple[list[str], bytes]:
    """Complete lines of ``buffer`` and the unterminated rest (dropped beyond 4 KiB)."""
    *lines, rest = buffer.split(b"\n")
    if len(rest) > MAX_LINE_BYTES:  # no line end in sight: not NMEA, drop it
        rest = b""
    return [line.decode("ascii", errors="replace") for line in lines], rest


def tcp_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (host defaults to 127.0.0.1) as a socket address."""
    host, _, port_s = text.rpartition(":")
    if not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise ConfigError(f"--tcp {text!r}: expected HOST:PORT")
    return host or "127.0.0.1", int(port_s)


def tcp_lines(
    address: tuple[str, int], idle_s: float, retry_s: float = 5.0
) -> Iterator[str | None]:
    """Lines of a TCP stream, reconnecting forever; ``None`` after ``idle_s`` of silence."""
    while True:
        try:
            with socket.create_connection(address, 10) as sock:
                sock.settimeout(idle_s)
                buffer = b""
                while True:
                    try:
                        data = sock.recv(4096)
                    except TimeoutError:
                        yield None
                        continue
                    if not data:
                        break
                    lines, buffer = split_lines(buffer + data)
                    yield from lines
                if buffer:
                    yield buffer.decode("ascii", errors="replace")
                log.warning("NMEA TCP source %s:%d closed; reconnecting", *address)
        except OSError as exc:
            log.warning("NMEA TCP source %s:%d: %s; retrying", *address, exc)
        yield None
        time.sleep(retry_s)


def nmea_lines(args: argparse.Namespace) -> Iterator[str | None]:
    """NMEA lines of the source; ``None`` when the source was idle for ``--idle-flush`` seconds
    or the stream ended (the open epoch is then complete)."""
    if args.file:
        with open(args.file, encoding="ascii", errors="replace") as fh:
            yield from fh
    elif args.serial:
        import serial  # pyserial, only needed for this source

        with serial.Serial(args.serial, args.baud, timeout=args.idle_flush) as port:
            while True:
                raw = port.readline()
                yield raw.decode("ascii", errors="replace") if raw else None
    else:
        yield from tcp_lines(tcp_address(args.tcp), args.idle_flush)
