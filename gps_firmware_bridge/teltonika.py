"""Teltonika over TCP: framer, session and packet decoder (Codec 7, 8, 8E, 16; 12/13 text).

Session over one TCP connection:

1. IMEI handshake: ``len(2) | IMEI ASCII``; the server answers ``0x01`` (accept) or ``0x00``.
2. AVL packets: ``00000000 | data length(4) | codec(1) | N1(1) | records | N2(1) | CRC(4)``;
   the CRC-16/IBM covers codec..N2 (data-length bytes); the server answers a location packet
   with N as a 4-byte int. Codec 12/13 packets (answers to server commands such as ``getinfo``)
   are not acknowledged.

The record layouts are in :mod:`gps_firmware_bridge.teltonika_records`. A record with zero
satellites has no fix: it becomes a :class:`~gps_firmware_bridge.tracker_status.NoFix` (with the
serving cell from IO 205/206 when present) in ``DecodeResult.extra``, never a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gps_firmware_bridge.crc import crc16_ibm
from gps_firmware_bridge.fix import DecodeResult, Fix, Rejection
from gps_firmware_bridge.integrity import CRC_MISMATCH, LENGTH_MISMATCH, with_notes
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits, check_fix
from gps_firmware_bridge.teltonika_records import (
    CODEC_12,
    LOCATION_CODECS,
    TEXT_CODECS,
    Short,
    decode_records,
    records_end,
)
from gps_firmware_bridge.tracker_status import NO_FIX_KEY, RESPONSE_KEY, CommandResponse, NoFix

SOURCE = "teltonika"
MAX_PACKET_BYTES = 1 << 16
ACCEPT = b"\x01"
REFUSE = b"\x00"


@dataclass
class TeltonikaSession:
    """Per-connection state: the IMEI once the handshake is done.

    ``strict_crc`` refuses (no ACK) packets failing their CRC or length field instead of
    decoding them with a ``crc_mismatch`` / ``length_mismatch`` note as Traccar does;
    ``counters`` counts those notes.
    """

    device_id: str | None = None
    strict_crc: bool = False
    counters: dict[str, int] = field(default_factory=dict)


def ack_frame(count: int) -> bytes:
    """The server ACK: the number of accepted records as a 4-byte big-endian integer."""
    return count.to_bytes(4, "big")


def build_packet(codec: int, records: bytes, count: int) -> bytes:
    """Wrap encoded records in an AVL packet (preamble, length, N1/N2, CRC); used by tests."""
    data = bytes([codec, count]) + records + bytes([count])
    crc = crc16_ibm(data)
    return b"\x00\x00\x00\x00" + len(data).to_bytes(4, "big") + data + crc.to_bytes(4, "big")


def command_packet(text: str) -> bytes:
    """A Codec 12 command packet (type 0x05) carrying ``text`` (e.g. ``getinfo``, ``getver``)."""
    payload = text.encode("ascii")
    data = bytes([CODEC_12, 1, 0x05]) + len(payload).to_bytes(4, "big") + payload + b"\x01"
    crc = crc16_ibm(data)
    return b"\x00\x00\x00\x00" + len(data).to_bytes(4, "big") + data + crc.to_bytes(4, "big")


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
    strict_crc: bool = False,
) -> DecodeResult:
    """Decode one complete AVL packet (preamble to CRC) of a device.

    An unknown codec, a record count mismatch or records that do not fill the packet reject the
    whole packet with no reply (the device resends it); otherwise the reply acknowledges all
    records, including those dropped as no-fix or implausible (resending them would not make
    them better). A wrong CRC, or a length field that disagrees with the records (framed by
    :func:`next_frame`), is noted (``crc_mismatch`` / ``length_mismatch`` in
    ``DecodeResult.notes``) and the packet decoded, as Traccar does; with ``strict_crc`` such a
    packet is rejected (``bad_checksum`` / ``truncated``) without ACK.
    """
    if len(packet) < 12 or packet[:4] != b"\x00\x00\x00\x00":
        return DecodeResult(rejections=(Rejection("bad_preamble", "", device_id),))
    length = int.from_bytes(packet[4:8])
    data = packet[8:-4]
    problems: list[tuple[str, str]] = []
    if len(packet) != 12 + length or len(data) < 3:
        if strict_crc or len(data) < 3:
            return DecodeResult(rejections=(Rejection("truncated", "AVL packet", device_id),))
        detail = f"length field says {length} bytes, records take {len(data)}"
        problems.append((LENGTH_MISMATCH, detail))
    crc = int.from_bytes(packet[-4:])
    expected = crc16_ibm(data)
    if expected != crc:
        problems.append((CRC_MISMATCH, f"crc {crc:08x}, computed {expected:04x}"))
        if strict_crc:
            detail = f"crc {crc:08x}"
            return DecodeResult(rejections=(Rejection("bad_checksum", detail, device_id),))
    result = _decode_data(device_id, data, now, limits)
    notes = tuple(Rejection(reason, detail, device_id) for reason, detail in problems)
    return with_notes(result, notes)


def _decode_data(
    device_id: str, data: bytes, now: datetime, limits: PlausibilityLimits
) -> DecodeResult:
    codec, count = data[0], data[1]
    if codec not in LOCATION_CODECS + TEXT_CODECS:
        return DecodeResult(
            rejections=(Rejection("unsupported", f"codec {codec:#04x}", device_id),)
        )
    if data[-1] != count:
        return DecodeResult(rejections=(Rejection("bad_count", "N1 != N2", device_id),))
    try:
        records = decode_records(data[2:-1], codec, count, device_id)
    except Short:
        return DecodeResult(rejections=(Rejection("truncated", "AVL record", device_id),))
    fixes: list[Fix] = []
    rejections: list[Rejection] = []
    no_fix: list[NoFix] = []
    answers: list[CommandResponse] = []
    for record in records:
        if isinstance(record, CommandResponse):
            answers.append(record)
        elif isinstance(record, NoFix):
            no_fix.append(record)
            rejections.append(Rejection("no_fix", record.reason, device_id))
        else:
            rejection = check_fix(record, now, limits)
            if rejection is None:
                fixes.append(record)
            else:
                rejections.append(rejection)
    extra: dict[str, Any] = {}
    if no_fix:
        extra[NO_FIX_KEY] = tuple(no_fix)
    if answers:
        extra[RESPONSE_KEY] = tuple(answers)
    return DecodeResult(
        fixes=tuple(fixes),
        rejections=tuple(rejections),
        reply=b"" if codec in TEXT_CODECS else ack_frame(count),
        device_id=device_id,
        extra=extra,
    )


def next_frame(session: TeltonikaSession, buffer: bytes) -> tuple[bytes | None, bytes, str]:
    """Cut the next complete frame from the stream.

    Returns ``(frame, rest, kind)`` with kind ``imei`` or ``avl``; ``frame`` is ``None`` while
    incomplete. ``kind == "garbage"`` means the stream cannot be resynchronised (the caller
    closes this connection only).

    An AVL packet is cut where its length field says, as Traccar's frame decoder does, except
    when its records say otherwise unambiguously (not in strict mode): the records, the
    repeated record count and the 4 CRC bytes end before the declared end, or the declared
    packet is complete but its records do not fill it. See :func:`_structural_size`.
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
    declared = 12 + int.from_bytes(buffer[4:8])
    if declared > 12 + MAX_PACKET_BYTES:
        return buffer, b"", "garbage"
    if not session.strict_crc:
        size = _structural_size(buffer, declared)
        if size is not None:
            return buffer[:size], buffer[size:], "avl"
    if len(buffer) < declared:
        return None, buffer, "avl"
    return buffer[:declared], buffer[declared:], "avl"


def _structural_size(buffer: bytes, declared: int) -> int | None:
    """The size of the packet at the head of ``buffer`` by its records, when it differs from
    the ``declared`` size and the cut is unambiguous; ``None`` otherwise.

    The records are read (plain layout), then N2 == N1 and 4 CRC bytes. When they end where the
    length field says, or the declared packet is buffered and its records fill it with either
    IO layout, the length field is right: ``None``. Otherwise the records' end is taken when
    their CRC matches, when the buffer ends there (a device waits for the ACK before it sends
    more), or when the declared packet is buffered, cannot be read, and a preamble follows the
    records. A packet with a right length field split across reads is thus never cut short.
    """
    if len(buffer) < 15:
        return None
    codec, count = buffer[8], buffer[9]
    if codec not in LOCATION_CODECS + TEXT_CODECS:
        return None
    try:
        end: int | None = records_end(buffer, 10, codec, count)
    except Short:
        end = None
    if end is not None and end + 5 == declared:
        return None
    complete = len(buffer) >= declared
    if complete and _consistent(buffer[8 : declared - 4], codec, count):
        return None
    if end is None or end + 5 > len(buffer) or buffer[end] != count:
        return None
    size = end + 5
    if size == len(buffer) or crc16_ibm(buffer[8 : end + 1]) == int.from_bytes(
        buffer[end + 1 : size]
    ):
        return size
    after = buffer[size : size + 4]
    return size if complete and after == bytes(len(after)) else None


def _consistent(data: bytes, codec: int, count: int) -> bool:
    if len(data) < 3 or data[-1] != count:
        return False
    try:
        decode_records(data[2:-1], codec, count, "")
    except Short:
        return False
    return True


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
            result = decode_packet(session.device_id, frame, now, limits, session.strict_crc)
            for note in result.notes:
                session.counters[note.reason] = session.counters.get(note.reason, 0) + 1
            results.append(result)
