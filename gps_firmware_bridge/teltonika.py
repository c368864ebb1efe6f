"""Teltonika Codec 8 and Codec 8 Extended over TCP: framer and decoder.

Session over one TCP connection:

1. IMEI handshake: ``len(2) | IMEI ASCII``; the server answers ``0x01`` (accept) or ``0x00``.
2. AVL packets: ``00000000 | data length(4) | codec(1) | N1(1) | records | N2(1) | CRC(4)``;
   the CRC-16/IBM covers codec..N2 (data-length bytes); the server answers N as a 4-byte int.

A record: ``timestamp ms(8) | priority(1) | lon(4, signed, 1e-7 deg) | lat(4) | altitude m(2) |
angle deg(2) | satellites(1) | speed km/h(2) | IO elements``. IO ids are 1 byte in Codec 8 (0x08)
and 2 bytes in Codec 8E (0x8E, which also has variable-length NX elements). IO used here:
239 ignition, 113 battery %, 182 GNSS HDOP (x0.1). A record with zero satellites has no fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gps_firmware_bridge.crc import crc16_ibm
from gps_firmware_bridge.fix import KMH_MPS, DecodeResult, Fix, Rejection
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits, check_fix

SOURCE = "teltonika"
CODEC_8 = 0x08
CODEC_8E = 0x8E
MAX_PACKET_BYTES = 1 << 16
ACCEPT = b"\x01"
REFUSE = b"\x00"
UERE_M = 5.0
"""User equivalent range error turning HDOP into an accuracy estimate, metres."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Short(Exception):
    """Internal: a record runs past the end of the packet."""


@dataclass
class TeltonikaSession:
    """Per-connection state: the IMEI once the handshake is done."""

    device_id: str | None = None


def ack_frame(count: int) -> bytes:
    """The server ACK: the number of accepted records as a 4-byte big-endian integer."""
    return count.to_bytes(4, "big")


def build_packet(codec: int, records: bytes, count: int) -> bytes:
    """Wrap encoded records in an AVL packet (preamble, length, N1/N2, CRC); used by tests."""
    data = bytes([codec, count]) + records + bytes([count])
    crc = crc16_ibm(data)
    return b"\x00\x00\x00\x00" + len(data).to_bytes(4, "big") + data + crc.to_bytes(4, "big")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Short
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def sint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big", signed=True)


def _io(reader: _Reader, extended: bool) -> dict[int, int | bytes]:
    idw = 2 if extended else 1
    reader.uint(idw)  # event IO id
    reader.uint(idw)  # total IO count
    values: dict[int, int | bytes] = {}
    for size in (1, 2, 4, 8):
        for _ in range(reader.uint(idw)):
            key = reader.uint(idw)
            values[key] = reader.uint(size)
    if extended:
        for _ in range(reader.uint(2)):
            key = reader.uint(2)
            values[key] = reader.take(reader.uint(2))
    return values


def _record(reader: _Reader, device_id: str, extended: bool) -> tuple[Fix, int]:
    stamp_ms = reader.uint(8)
    reader.uint(1)  # priority
    lon = reader.sint(4) / 1e7
    lat = reader.sint(4) / 1e7
    altitude = reader.sint(2)
    angle = reader.uint(2)
    satellites = reader.uint(1)
    speed_kmh = reader.uint(2)
    io = _io(reader, extended)
    ignition = io.get(239)
    battery = io.get(113)
    hdop = io.get(182)
    fix = Fix(
        device_id=device_id,
        fix_time=_EPOCH + timedelta(milliseconds=stamp_ms),
        lat=lat,
        lon=lon,
        speed_mps=speed_kmh * KMH_MPS,
        heading_deg=float(angle) if angle <= 360 else None,
        altitude_m=float(altitude),
        hdop=hdop / 10.0 if isinstance(hdop, int) else None,
        accuracy_m=hdop / 10.0 * UERE_M if isinstance(hdop, int) else None,
        satellites=satellites,
        battery_pct=float(battery) if isinstance(battery, int) and battery <= 100 else None,
        ignition=bool(ignition) if isinstance(ignition, int) else None,
        source=SOURCE,
    )
    return fix, satellites


def decode_imei(frame: bytes) -> DecodeResult:
    """Decode the IMEI handshake ``len(2) | ASCII``; reply ``01`` when it is a plausible IMEI."""
    if len(frame) < 2:
        return DecodeResult(rejections=(Rejection("truncated", "IMEI length"),))
    length = int.from_bytes(frame[:2])
    imei = frame[2 : 2 + length]
    if len(imei) != length or not (1 <= length <= 64):
        return DecodeResult(rejections=(Rejection("truncated", "IMEI"),), reply=REFUSE)
    text = imei.decode("ascii", "replace")
    if not text.isdigit():
        return DecodeResult(rejections=(Rejection("bad_imei", repr(text)),), reply=REFUSE)
    return DecodeResult(reply=ACCEPT, device_id=text)


def decode_packet(
    device_id: str,
    packet: bytes,
    now: datetime,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> DecodeResult:
    """Decode one complete AVL packet (preamble to CRC) of a device.

    A bad CRC, an unknown codec or a record count mismatch rejects the whole packet with no
    reply (the device resends it); otherwise the reply acknowledges all records, including
    those dropped as no-fix or implausible (resending them would not make them better).
    """
    if len(packet) < 12 or packet[:4] != b"\x00\x00\x00\x00":
        return DecodeResult(rejections=(Rejection("bad_preamble", "", device_id),))
    length = int.from_bytes(packet[4:8])
    data = packet[8 : 8 + length]
    if len(packet) != 12 + length or length < 3:
        return DecodeResult(rejections=(Rejection("truncated", "AVL packet", device_id),))
    crc = int.from_bytes(packet[8 + length : 12 + length])
    if crc16_ibm(data) != crc:
        return DecodeResult(rejections=(Rejection("bad_checksum", f"crc {crc:08x}", device_id),))
    codec, count = data[0], data[1]
    if codec not in (CODEC_8, CODEC_8E):
        return DecodeResult(
            rejections=(Rejection("unsupported", f"codec {codec:#04x}", device_id),)
        )
    if data[-1] != count:
        return DecodeResult(rejections=(Rejection("bad_count", "N1 != N2", device_id),))
    reader = _Reader(data[2:-1])
    fixes: list[Fix] = []
    rejections: list[Rejection] = []
    try:
        for _ in range(count):
            fix, satellites = _record(reader, device_id, codec == CODEC_8E)
            rejection = (
                Rejection("no_fix", "0 satellites", device_id)
                if satellites == 0
                else check_fix(fix, now, limits)
            )
            if rejection is None:
                fixes.append(fix)
            else:
                rejections.append(rejection)
    except _Short:
        return DecodeResult(rejections=(Rejection("truncated", "AVL record", device_id),))
    if reader.pos != len(reader.data):
        return DecodeResult(rejections=(Rejection("bad_length", "trailing bytes", device_id),))
    return DecodeResult(
        fixes=tuple(fixes),
        rejections=tuple(rejections),
        reply=ack_frame(count),
        device_id=device_id,
    )


def next_frame(session: TeltonikaSession, buffer: bytes) -> tuple[bytes | None, bytes, str]:
    """Cut the next complete frame from the stream.

    Returns ``(frame, rest, kind)`` with kind ``imei`` or ``avl``; ``frame`` is ``None`` while
    incomplete. ``kind == "garbage"`` means the stream cannot be resynchronised (the caller
    closes this connection only).
    """
    if session.device_id is None:
        if len(buffer) < 2:
            return None, buffer, "imei"
        length = int.from_bytes(buffer[:2])
        if not 1 <= length <= 64:
            return buffer, b"", "garbage"
        if len(buffer) < 2 + length:
            return None, buffer, "imei"
        return buffer[: 2 + length], buffer[2 + length :], "imei"
    if len(buffer) < 8:
        return None, buffer, "avl"
    if buffer[:4] != b"\x00\x00\x00\x00":
        return buffer, b"", "garbage"
    length = int.from_bytes(buffer[4:8])
    if length > MAX_PACKET_BYTES:
        return buffer, b"", "garbage"
    if len(buffer) < 12 + length:
        return None, buffer, "avl"
    return buffer[: 12 + length], buffer[12 + length :], "avl"


def decode_stream(
    session: TeltonikaSession,
    buffer: bytes,
    now: datetime,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> tuple[list[DecodeResult], bytes, bool]:
    """Decode every complete frame in ``buffer``.

    Returns
    -------
    results, rest, close
        ``close`` is True when the stream is garbage and the connection should be closed.
    """
    results: list[DecodeResult] = []
    while True:
        frame, buffer, kind = next_frame(session, buffer)
        if frame is None:
            return results, buffer, False
        if kind == "garbage":
            results.append(DecodeResult(rejections=(Rejection("garbage", "unframeable stream"),)))
            return results, b"", True
        if kind == "imei":
            result = decode_imei(frame)
            session.device_id = result.device_id
            results.append(result)
            if result.device_id is None:
                return results, b"", True
        else:
            assert session.device_id is not None
            results.append(decode_packet(session.device_id, frame, now, limits))
