"""GT06 framing: cutting a TCP byte stream into ``78 78`` / ``79 79`` frames, and building frames.

A frame normally ends where its length field says, with ``0D 0A``. Some devices count the length
wrongly by a byte or two; Traccar's ``Gt06FrameDecoder`` then cuts the frame at the next
``0D 0A``. The bridge does the same, but only when the cut is unambiguous (see
:func:`split_frames`): the declared frame is fully buffered and does not end with ``0D 0A``, and a
``0D 0A`` within :data:`LENGTH_SLACK` bytes of the declared end is followed by the next frame's
start or by the end of what was received. Such a frame is decoded with a ``length_mismatch``
note; in strict mode it is refused (``bad_stop``), as every frame not ending where it says is.
"""

from __future__ import annotations

from gps_firmware_bridge.crc import crc16_x25
from gps_firmware_bridge.fix import Rejection

MAX_FRAME_BYTES = 1024
LENGTH_SLACK = 2
"""How many bytes a frame may be longer or shorter than its length field says (Traccar's frame
decoder accepts a length field 2 bytes short, and any ``0D 0A`` after that)."""
WIFI_NO_CRC = (0x17, 0x69)
_STARTS = (b"\x78\x78", b"\x79\x79")


def reply_frame(protocol: int, serial: int, content: bytes = b"", extended: bool = False) -> bytes:
    """The server ACK for ``protocol`` echoing the device's ``serial`` number."""
    length = 5 + len(content)
    head = length.to_bytes(2, "big") if extended else bytes([length])
    body = head + bytes([protocol]) + content + serial.to_bytes(2, "big")
    start = b"\x79\x79" if extended else b"\x78\x78"
    return start + body + crc16_x25(body).to_bytes(2, "big") + b"\x0d\x0a"


def build_frame(protocol: int, info: bytes, serial: int, extended: bool = False) -> bytes:
    """Build a frame (``78 78``, or ``79 79`` when ``extended``); used by tests and simulators."""
    return reply_frame(protocol, serial, info, extended)


def command_frame(text: str, serial: int = 0, server_flag: int = 0) -> bytes:
    """A ``0x80`` server command carrying ASCII ``text`` (e.g. ``WHERE#``, ``Relay,1#``).

    Layout (Traccar's ``Gt06ProtocolEncoder``): ``78 78 | len | 80 | command length (4 + text) |
    server flag(4) | text | serial(2) | crc | 0D 0A``; the device answers with ``0x15`` (or
    ``79 79`` ``0x21``) echoing the server flag.
    """
    payload = text.encode("ascii")
    content = bytes([4 + len(payload)]) + server_flag.to_bytes(4, "big") + payload
    return reply_frame(0x80, serial, content)


def declared_size(frame: bytes) -> int:
    """The frame size its length field announces (start, length, body, stop bits)."""
    head = 3 if frame[:2] == b"\x78\x78" else 4
    return head + int.from_bytes(frame[2:head]) + 2


def is_wifi_no_crc(buffer: bytes, start: int) -> bool:
    """True for the ``78 78`` Wi-Fi packets 0x17/0x69 that carry neither length nor CRC."""
    if buffer[start] != 0x78 or len(buffer) - start < 4:
        return False
    protocol, length = buffer[start + 3], buffer[start + 2]
    return protocol in WIFI_NO_CRC and not (protocol == 0x17 and length == 0x28)


def _wifi_frame_size(buffer: bytes, start: int) -> int | None:
    """Size of a CRC-less Wi-Fi frame (0x17/0x69), ``None`` while incomplete."""
    count = buffer[start + 2]
    at = start + 4 + 6 + count * 7
    if at >= len(buffer):
        return None
    return at + 1 + 3 + buffer[at] * 5 + 2 - start


def _next_start(buffer: bytes, pos: int) -> int:
    found = [i for i in (buffer.find(s, pos) for s in _STARTS) if i >= 0]
    return min(found) if found else -1


def _tolerant_end(buffer: bytes, start: int, total: int) -> int | None:
    """End of a frame whose length field is off by at most :data:`LENGTH_SLACK` bytes.

    Called once the declared frame is buffered and does not end with ``0D 0A``. Returns the end
    offset, ``-1`` while the answer depends on bytes not yet received, or ``None`` when no
    unambiguous end exists. Candidates closest to the declared size come first (shorter before
    longer); one qualifies when it ends with ``0D 0A`` followed by the start of the next frame or
    by the end of the buffer (a device waits for the ACK before it sends more).
    """
    n = len(buffer)
    for delta in range(1, LENGTH_SLACK + 1):
        for size in (total - delta, total + delta):
            end = start + size
            if size < 10:
                continue
            if end > n:
                return -1
            if buffer[end - 2 : end] != b"\x0d\x0a":
                continue
            if end == n or buffer[end : end + 2] in _STARTS:
                return end
            if n - end == 1 and buffer[end] in (0x78, 0x79):
                return -1
    return None


def split_frames(buffer: bytes, strict: bool = False) -> tuple[list[bytes], list[Rejection], bytes]:
    """Cut a TCP byte stream into frames.

    Parameters
    ----------
    buffer : bytes
        What was received and not yet framed.
    strict : bool
        Refuse frames that do not end exactly where their length field says.

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
        if n - start < head + 1:
            return frames, rejections, buffer[start:]
        wifi = is_wifi_no_crc(buffer, start)
        if wifi:
            size = _wifi_frame_size(buffer, start)
            if size is None or n - start < size:
                return frames, rejections, buffer[start:]
            total, length = size, 5
        else:
            length = int.from_bytes(buffer[start + 2 : start + head])
            total = head + length + 2
        if length < 5 or total > MAX_FRAME_BYTES:
            rejections.append(Rejection("bad_length", f"length field {length}"))
            pos = start + 2
            continue
        if n - start < total:
            return frames, rejections, buffer[start:]
        end = start + total
        if buffer[end - 2 : end] != b"\x0d\x0a":
            other = None if strict or wifi else _tolerant_end(buffer, start, total)
            if other == -1:
                return frames, rejections, buffer[start:]
            if other is None:
                rejections.append(Rejection("bad_stop", "frame does not end with 0D 0A"))
                pos = start + 2
                continue
            end = other
        frames.append(buffer[start:end])
        pos = end
    return frames, rejections, b""
