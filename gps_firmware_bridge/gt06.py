"""GT06 / Concox binary protocol: framer and decoder (login, location, heartbeat, alarm).

Frame layout (all integers big-endian)::

    78 78 | len(1) | protocol(1) | information | serial(2) | crc(2) | 0D 0A
    79 79 | len(2) | ...same...

``len`` counts protocol, information, serial and CRC. The CRC is CRC-ITU (CRC-16/X-25) over
``len`` to ``serial``. Supported protocol numbers:

* ``0x01`` login: 8-byte BCD IMEI (first nibble 0). Reply required.
* ``0x12`` / ``0x22`` GPS location (+LBS; 0x22 adds ACC). No reply (devices do not wait for one).
* ``0x13`` / ``0x23`` heartbeat / status (ACC, battery voltage level). Reply required.
* ``0x16`` / ``0x26`` alarm with GPS. Reply required.

The reply is ``78 78 05 <protocol> <serial> <crc> 0D 0A``; without it a unit keeps resending its
login/heartbeat and finally reconnects. Coordinates are unsigned ``degrees * 1_800_000`` with the
hemisphere in the course/status word: bit 12 GPS positioned, bit 10 set = north, bit 11 set = west,
bits 0-9 course in degrees. Times are UTC (GMT, the factory default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gps_firmware_bridge.crc import crc16_x25
from gps_firmware_bridge.fix import KMH_MPS, DecodeResult, Fix, Rejection
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits, check_fix

SOURCE = "gt06"
MAX_FRAME_BYTES = 1024
LOGIN = 0x01
LOCATIONS = {0x12, 0x22}
HEARTBEATS = {0x13, 0x23}
ALARMS = {0x16, 0x26}
_REPLY_TO = {LOGIN} | HEARTBEATS | ALARMS


@dataclass
class Gt06Session:
    """Per-connection state: the logged-in IMEI and the last status seen from a heartbeat."""

    device_id: str | None = None
    ignition: bool | None = None
    battery_pct: float | None = None


def reply_frame(protocol: int, serial: int) -> bytes:
    """The server ACK for ``protocol`` echoing the device's ``serial`` number."""
    body = bytes([0x05, protocol]) + serial.to_bytes(2, "big")
    return b"\x78\x78" + body + crc16_x25(body).to_bytes(2, "big") + b"\x0d\x0a"


def build_frame(protocol: int, info: bytes, serial: int) -> bytes:
    """Build a short (``78 78``) frame; used by tests and the device simulator."""
    body = bytes([len(info) + 5, protocol]) + info + serial.to_bytes(2, "big")
    return b"\x78\x78" + body + crc16_x25(body).to_bytes(2, "big") + b"\x0d\x0a"


def split_frames(buffer: bytes) -> tuple[list[bytes], list[Rejection], bytes]:
    """Cut a TCP byte stream into frames.

    Returns
    -------
    frames : list of bytes
        Complete frames (start to ``0D 0A``), CRC not yet checked.
    rejections : list of Rejection
        Garbage skipped while resynchronising on the next ``78 78`` / ``79 79``.
    rest : bytes
        An incomplete frame to keep for the next read.
    """
    frames: list[bytes] = []
    rejections: list[Rejection] = []
    pos = 0
    n = len(buffer)
    while pos < n:
        start = _next_start(buffer, pos)
        if start < 0:
            tail = buffer[pos:]
            keep = b"" if not tail.endswith((b"\x78", b"\x79")) else tail[-1:]
            if len(tail) > len(keep):
                rejections.append(Rejection("garbage", f"{len(tail) - len(keep)} bytes skipped"))
            return frames, rejections, keep
        if start > pos:
            rejections.append(Rejection("garbage", f"{start - pos} bytes skipped"))
        head = 3 if buffer[start] == 0x78 else 4
        if n - start < head:
            return frames, rejections, buffer[start:]
        length = buffer[2 + start] if head == 3 else int.from_bytes(buffer[start + 2 : start + 4])
        total = head + length + 2
        if length < 5 or total > MAX_FRAME_BYTES:
            rejections.append(Rejection("bad_length", f"length field {length}"))
            pos = start + 2
            continue
        if n - start < total:
            return frames, rejections, buffer[start:]
        frame = buffer[start : start + total]
        if frame[-2:] != b"\x0d\x0a":
            rejections.append(Rejection("bad_stop", "frame does not end with 0D 0A"))
            pos = start + 2
            continue
        frames.append(frame)
        pos = start + total
    return frames, rejections, b""


def _next_start(buffer: bytes, pos: int) -> int:
    a = buffer.find(b"\x78\x78", pos)
    b = buffer.find(b"\x79\x79", pos)
    found = [i for i in (a, b) if i >= 0]
    return min(found) if found else -1


def _datetime(info: bytes) -> datetime | None:
    try:
        return datetime(2000 + info[0], info[1], info[2], info[3], info[4], info[5], tzinfo=UTC)
    except ValueError:
        return None


def _gps(session: Gt06Session, info: bytes) -> tuple[Fix | None, Rejection | None]:
    """Decode date-time (6) + GPS block (12) at the start of ``info``."""
    assert session.device_id is not None
    when = _datetime(info[0:6])
    if when is None:
        return None, Rejection("bad_time", "invalid date-time bytes", session.device_id)
    satellites = info[6] & 0x0F
    lat = int.from_bytes(info[7:11]) / 1_800_000.0
    lon = int.from_bytes(info[11:15]) / 1_800_000.0
    speed_kmh = info[15]
    flags = int.from_bytes(info[16:18])
    if not flags & 0x1000:
        return None, Rejection("no_fix", "GPS not positioned", session.device_id)
    if not flags & 0x0400:
        lat = -lat
    if flags & 0x0800:
        lon = -lon
    fix = Fix(
        device_id=session.device_id,
        fix_time=when,
        lat=lat,
        lon=lon,
        speed_mps=speed_kmh * KMH_MPS,
        heading_deg=float(flags & 0x03FF),
        satellites=satellites,
        battery_pct=session.battery_pct,
        ignition=session.ignition,
        source=SOURCE,
    )
    return fix, None


def _voltage_pct(level: int) -> float | None:
    """GT06 voltage level 0..6 as a percentage (Traccar's convention, level * 100 / 6)."""
    return round(level * 100.0 / 6.0, 1) if 0 <= level <= 6 else None


def decode_frame(
    session: Gt06Session,
    frame: bytes,
    now: datetime,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> DecodeResult:
    """Decode one frame for a connection; updates ``session`` on login and heartbeat.

    Never raises for bad input: a wrong CRC, a truncated body or an unknown packet is returned as
    a rejection, and no reply is sent for it (the device will resend).
    """
    head = 3 if frame[:2] == b"\x78\x78" else 4
    if len(frame) < head + 7 or frame[:2] not in (b"\x78\x78", b"\x79\x79"):
        return DecodeResult(rejections=(Rejection("truncated", "frame too short"),))
    body = frame[2:-4]
    crc = int.from_bytes(frame[-4:-2])
    if crc16_x25(body) != crc:
        return DecodeResult(rejections=(Rejection("bad_checksum", f"crc {crc:04x}"),))
    protocol = frame[head]
    info = frame[head + 1 : -6]
    serial = int.from_bytes(frame[-6:-4])
    reply = reply_frame(protocol, serial) if protocol in _REPLY_TO else b""
    if protocol == LOGIN:
        if len(info) < 8:
            return DecodeResult(rejections=(Rejection("truncated", "login without IMEI"),))
        imei = info[:8].hex()[1:]
        if not imei.isdigit():
            return DecodeResult(rejections=(Rejection("bad_imei", f"IMEI {imei!r}"),))
        session.device_id = imei
        return DecodeResult(reply=reply, device_id=imei)
    if session.device_id is None:
        return DecodeResult(rejections=(Rejection("not_logged_in", f"packet {protocol:#04x}"),))
    if protocol in HEARTBEATS:
        if len(info) < 1:
            return DecodeResult(rejections=(Rejection("truncated", "heartbeat"),), reply=b"")
        session.ignition = bool(info[0] & 0x02)
        if protocol == 0x13 and len(info) >= 2:
            session.battery_pct = _voltage_pct(info[1])
        return DecodeResult(reply=reply, device_id=session.device_id)
    if protocol in LOCATIONS or protocol in ALARMS:
        if len(info) < 18:
            return DecodeResult(rejections=(Rejection("truncated", "GPS block"),))
        if protocol == 0x22 and len(info) >= 27:
            session.ignition = bool(info[26])
        if protocol in ALARMS and len(info) >= 29:
            lbs_len = info[18]
            status_at = 18 + lbs_len
            if status_at + 1 < len(info):
                session.ignition = bool(info[status_at] & 0x02)
                pct = _voltage_pct(info[status_at + 1])
                session.battery_pct = pct if pct is not None else session.battery_pct
        fix, rejection = _gps(session, info)
        if fix is not None:
            rejection = check_fix(fix, now, limits)
        if rejection is not None:
            return DecodeResult(rejections=(rejection,), reply=reply, device_id=session.device_id)
        assert fix is not None
        return DecodeResult(fixes=(fix,), reply=reply, device_id=session.device_id)
    return DecodeResult(
        rejections=(Rejection("unsupported", f"packet {protocol:#04x}", session.device_id),),
        device_id=session.device_id,
    )


def decode_stream(
    session: Gt06Session,
    buffer: bytes,
    now: datetime,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> tuple[list[DecodeResult], bytes]:
    """Frame and decode everything complete in ``buffer``; returns results and the remainder."""
    frames, garbage, rest = split_frames(buffer)
    results = [DecodeResult(rejections=(g,)) for g in garbage]
    results.extend(decode_frame(session, f, now, limits) for f in frames)
    return results, rest
