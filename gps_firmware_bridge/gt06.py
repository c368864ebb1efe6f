"""GT06 / Concox / Jimi binary protocol: framer, session and decoder.

Frame layout (all integers big-endian)::

    78 78 | len(1) | protocol(1) | information | serial(2) | crc(2) | 0D 0A
    79 79 | len(2) | ...same...

``len`` counts protocol, information, serial and CRC. The CRC is CRC-ITU (CRC-16/X-25) over
``len`` to ``serial``. Two Wi-Fi packets (0x17 and 0x69 of the GT300/JM01 family) break the
pattern: their length byte is the access point count and they carry neither serial nor CRC.

Packets (see :mod:`gps_firmware_bridge.gt06_location` for the location layouts):

* ``0x01`` login: 8-byte BCD IMEI (first nibble 0).
* ``0x13`` / ``0x23`` status / heartbeat: ACC, battery level; kept in the session and attached
  to the following fixes.
* location, alarm and LBS/Wi-Fi packets: a :class:`~gps_firmware_bridge.fix.Fix` when the GPS
  block is valid, else a :class:`~gps_firmware_bridge.tracker_status.NoFix` with the cell towers
  and access points (in ``DecodeResult.extra``), never a position.
* ``0x15`` / ``0x21`` / ``0x9B`` text answers to server commands (``CommandResponse``).
* ``0x2A`` address request and ``0x8A`` time request: answered as the device expects.

ACKs follow what the devices expect (Traccar's ``Gt06ProtocolDecoder``): every ``78 78`` packet
except command answers 0x80-0x82 gets ``78 78 05 <protocol> <serial> <crc> 0D 0A``; Wi-Fi
packets get their time echoed; of the ``79 79`` packets only 0x32/0x33, 0x41, 0x70 and 0xF2 are
acknowledged. A frame with a body shorter than its layout is rejected without ACK (the device
resends it). Like Traccar, the bridge does not refuse a frame for its CRC (cheap clones compute it
wrongly; TCP already protects the bytes): a wrong CRC, or a length field off by a byte or two
(framing in :mod:`gps_firmware_bridge.gt06_framing`), is decoded and answered with a
``crc_mismatch`` / ``length_mismatch`` note; ``Gt06Session.strict_crc`` refuses such frames
without ACK instead. Device times are UTC (GMT, the factory default) unless the login packet
announces a time zone, which is then applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gps_firmware_bridge import gt06_location as loc_
from gps_firmware_bridge import gt06_packets as pk_
from gps_firmware_bridge.crc import crc16_x25
from gps_firmware_bridge.fix import KMH_MPS, DecodeResult, Fix, Rejection
from gps_firmware_bridge.gt06_framing import (
    MAX_FRAME_BYTES,
    build_frame,
    declared_size,
    is_wifi_no_crc,
    reply_frame,
    split_frames,
)
from gps_firmware_bridge.integrity import CRC_MISMATCH, LENGTH_MISMATCH, with_notes
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits, check_fix
from gps_firmware_bridge.tracker_status import NO_FIX_KEY, RESPONSE_KEY, CommandResponse, NoFix

__all__ = [
    "MAX_FRAME_BYTES",
    "Gt06Session",
    "build_frame",
    "decode_frame",
    "decode_stream",
    "reply_frame",
    "split_frames",
]

SOURCE = "gt06"
LOGIN = 0x01
STATUS = 0x13
HEARTBEAT = 0x23
STRING = 0x15
ADDRESS_REQUEST = 0x2A
TIME_REQUEST = 0x8A


@dataclass
class Gt06Session:
    """Per-connection state: the logged-in IMEI, the last status seen, and the device model.

    ``model`` (e.g. ``NT20``, ``QH302R``, ``LW4G-4B``, ``SEEWORLD``, ``R11``) selects the few
    layouts that cannot be recognised from the frame itself; leave it ``None`` otherwise.
    """

    device_id: str | None = None
    ignition: bool | None = None
    battery_pct: float | None = None
    model: str | None = None
    utc_offset_s: int = 0
    """Offset of the device clock from UTC announced in the login packet (0 = GMT, the default)."""
    strict_crc: bool = False
    """Refuse (no ACK) frames failing their CRC or length field, instead of decoding them with a
    ``crc_mismatch`` / ``length_mismatch`` note as Traccar does."""
    counters: dict[str, int] = field(default_factory=dict)


def decode_frame(
    session: Gt06Session,
    frame: bytes,
    now: datetime,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> DecodeResult:
    """Decode one frame for a connection; updates ``session`` on login and status packets.

    Never raises for bad input: a truncated body or an unknown packet is returned as a typed
    rejection, and no reply is sent for a frame that could not be read (the device will resend
    it). A wrong CRC or length field is noted (``crc_mismatch`` / ``length_mismatch`` in
    ``DecodeResult.notes``, counted in ``session.counters``) and the frame decoded and answered
    as usual, as Traccar does; with ``session.strict_crc`` it is refused without ACK.
    """
    extended = frame[:2] == b"\x79\x79"
    head = 4 if extended else 3
    if len(frame) < head + 7 or frame[:2] not in (b"\x78\x78", b"\x79\x79"):
        return DecodeResult(rejections=(Rejection("truncated", "frame too short"),))
    protocol = frame[head]
    if not extended and is_wifi_no_crc(frame, 0):
        return _decode_wifi(session, frame, now, limits)
    problems = _integrity(frame)
    if problems and session.strict_crc:
        reason = "bad_checksum" if problems[-1][0] == CRC_MISMATCH else "bad_length"
        return DecodeResult(rejections=(Rejection(reason, problems[-1][1], session.device_id),))
    result = _decode_body(session, frame, protocol, extended, now, limits)
    device_id = result.device_id or session.device_id
    result = with_notes(result, tuple(Rejection(r, d, device_id) for r, d in problems))
    for note in result.notes:
        session.counters[note.reason] = session.counters.get(note.reason, 0) + 1
    return result


def _integrity(frame: bytes) -> list[tuple[str, str]]:
    """The length and CRC problems of a frame, as ``(reason, detail)`` pairs."""
    problems: list[tuple[str, str]] = []
    if declared_size(frame) != len(frame):
        detail = f"length field says {declared_size(frame)} bytes, frame has {len(frame)}"
        problems.append((LENGTH_MISMATCH, detail))
    crc = int.from_bytes(frame[-4:-2])
    expected = crc16_x25(frame[2:-4])
    if expected != crc:
        problems.append((CRC_MISMATCH, f"crc {crc:04x}, computed {expected:04x}"))
    return problems


def _decode_body(
    session: Gt06Session,
    frame: bytes,
    protocol: int,
    extended: bool,
    now: datetime,
    limits: PlausibilityLimits,
) -> DecodeResult:
    head = 4 if extended else 3
    serial = int.from_bytes(frame[-6:-4])
    if protocol == LOGIN and not extended:
        return _login(session, frame, serial)
    if session.device_id is None:
        return DecodeResult(rejections=(Rejection("not_logged_in", f"packet {protocol:#04x}"),))
    length = int.from_bytes(frame[2:head])
    reader = loc_.Reader(frame, head + 1)
    try:
        if extended:
            location, ack = pk_.decode_extended(reader, protocol, length)
        else:
            location, ack = _decode_basic(session, reader, protocol, length, now)
    except loc_.Short:
        return DecodeResult(
            rejections=(Rejection("truncated", f"packet {protocol:#04x} body", session.device_id),),
            device_id=session.device_id,
        )
    reply = _reply(ack, protocol, serial, extended)
    return _result(session, protocol, location, reply, now, limits)


def _login(session: Gt06Session, frame: bytes, serial: int) -> DecodeResult:
    info = frame[4:-6]
    if len(info) < 8:
        return DecodeResult(rejections=(Rejection("truncated", "login without IMEI"),))
    imei = info[:8].hex()[1:]
    if not imei.isdigit():
        return DecodeResult(rejections=(Rejection("bad_imei", f"IMEI {imei!r}"),))
    session.device_id = imei
    if len(info) >= 12:
        # Extended login: type id (2), then time zone (2): bits 4-15 hhmm, bit 3 set = west.
        zone = int.from_bytes(info[10:12])
        hours, minutes = divmod(zone >> 4, 100)
        offset = (hours * 60 + minutes) * 60
        session.utc_offset_s = -offset if zone & 0x08 else offset
    return DecodeResult(reply=reply_frame(LOGIN, serial), device_id=imei)


def _reply(ack: loc_.Ack, protocol: int, serial: int, extended: bool) -> bytes:
    if ack.kind == "none":
        return b""
    return reply_frame(
        ack.protocol if ack.protocol is not None else protocol,
        ack.serial if ack.serial is not None else serial,
        ack.content,
        extended=ack.kind == "extended",
    )


def _decode_basic(
    session: Gt06Session, r: loc_.Reader, protocol: int, length: int, now: datetime
) -> tuple[loc_.Location | None, loc_.Ack]:
    """A ``78 78`` packet body; returns what it says and the ACK it needs."""
    model = (session.model or "").upper()
    variant = loc_.variant_of(protocol, length, False, r.data[r.pos :])
    basic = loc_.Ack("basic")
    if protocol == HEARTBEAT:
        session.ignition = bool(r.u8() & 0x02)
        return None, basic
    if protocol == ADDRESS_REQUEST:
        text = b"NA&&NA&&0##"
        content = bytes([len(text)]) + bytes(4) + text
        return None, loc_.Ack("extended", protocol=0x97, serial=0, content=content)
    if protocol == TIME_REQUEST:
        t = now
        content = bytes([t.year - 2000, t.month, t.day, t.hour, t.minute, t.second])
        return None, loc_.Ack("basic", serial=0, content=content)
    if protocol == 0x34 and variant != loc_.SL4X:
        return pk_.decode_x1(r), basic
    if protocol == 0x35:
        return None, loc_.NO_ACK  # X1 photo: not supported
    if protocol == 0xF3:
        location, _ = pk_.decode_wifi(r, protocol, length)
        return location, basic
    if protocol == 0x24 and variant == loc_.SR411_MINI:
        return pk_.decode_sr411(r), basic
    if protocol in loc_.LBS_MULTIPLE and not (protocol == 0xA2 and variant == loc_.LW4G):
        return pk_.decode_lbs_multiple(r, protocol, variant), basic
    if protocol == STRING:
        return _string(r), basic
    if protocol == STATUS and r.remaining == 22:
        r.skip(5)
        level = r.u8()
        session.battery_pct = float(level) if level <= 100 else session.battery_pct
        return None, basic
    if protocol == 0x61:
        return pk_.decode_ibutton(r), basic
    if loc_.is_location_packet(protocol, variant, model):
        if protocol == 0x19 and variant == loc_.SPACE10X:
            return None, loc_.NO_ACK
        return loc_.decode_location(r, protocol, variant, model), basic
    if protocol == 0x95:
        return pk_.decode_alarm(r, length - 5, variant), basic
    return None, (loc_.NO_ACK if protocol in loc_.COMMANDS else basic)


def _string(r: loc_.Reader) -> loc_.Location:
    size = r.u8()
    text = ""
    if size > 4:
        r.skip(4)  # server flag
        text = r.take(size - 4).decode("ascii", "replace")
    return loc_.Location(text=text.strip("\x00 "), is_record=False)


def _decode_wifi(
    session: Gt06Session, frame: bytes, now: datetime, limits: PlausibilityLimits
) -> DecodeResult:
    if session.device_id is None:
        return DecodeResult(rejections=(Rejection("not_logged_in", "Wi-Fi packet"),))
    protocol = frame[3]
    try:
        location, stamp = pk_.decode_wifi(loc_.Reader(frame, 4), protocol, frame[2])
    except loc_.Short:
        return DecodeResult(
            rejections=(Rejection("truncated", "Wi-Fi packet", session.device_id),),
            device_id=session.device_id,
        )
    reply = b"\x78\x78\x00" + bytes([protocol]) + stamp + b"\x0d\x0a"
    return _result(session, protocol, location, reply, now, limits)


def _result(
    session: Gt06Session,
    protocol: int,
    location: loc_.Location | None,
    reply: bytes,
    now: datetime,
    limits: PlausibilityLimits,
) -> DecodeResult:
    device_id = session.device_id
    assert device_id is not None
    if location is not None and location.time is not None and location.local_time:
        location.time -= timedelta(seconds=session.utc_offset_s)
    if location is not None:
        if location.ignition is not None:
            session.ignition = location.ignition
        if location.battery_pct is not None:
            session.battery_pct = location.battery_pct
    if location is None or (not location.is_record and not location.has_gps):
        extra = {}
        if location is not None and location.text:
            extra[RESPONSE_KEY] = (CommandResponse(device_id, location.text, None, SOURCE),)
        return DecodeResult(reply=reply, device_id=device_id, extra=extra)
    if location.has_gps and location.valid and location.time is not None:
        fix = Fix(
            device_id=device_id,
            fix_time=location.time,
            lat=location.lat,
            lon=location.lon,
            speed_mps=location.speed_kmh * KMH_MPS if location.speed_kmh is not None else None,
            heading_deg=location.course_deg,
            altitude_m=location.altitude_m,
            satellites=location.satellites,
            battery_pct=session.battery_pct,
            ignition=session.ignition,
            source=SOURCE,
        )
        rejection = check_fix(fix, now, limits)
        if rejection is None:
            return DecodeResult(fixes=(fix,), reply=reply, device_id=device_id)
        return DecodeResult(rejections=(rejection,), reply=reply, device_id=device_id)
    reason = "gps_invalid" if location.has_gps else "no_gps"
    record = NoFix(
        device_id=device_id,
        time=location.time,
        reason=reason,
        cells=tuple(location.cells),
        wifi=tuple(location.wifi),
        source=SOURCE,
    )
    session.counters[reason] = session.counters.get(reason, 0) + 1
    detail = f"packet {protocol:#04x}: {len(record.cells)} cells, {len(record.wifi)} Wi-Fi"
    return DecodeResult(
        rejections=(Rejection("no_fix", detail, device_id),),
        reply=reply,
        device_id=device_id,
        extra={NO_FIX_KEY: (record,)},
    )


def decode_stream(
    session: Gt06Session,
    buffer: bytes,
    now: datetime,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> tuple[list[DecodeResult], bytes]:
    """Frame and decode everything complete in ``buffer``; returns results and the remainder."""
    frames, garbage, rest = split_frames(buffer, strict=session.strict_crc)
    results = [DecodeResult(rejections=(g,)) for g in garbage]
    results.extend(decode_frame(session, f, now, limits) for f in frames)
    return results, rest
