"""Teltonika AVL records: Codec 8, 8 Extended, 16 and 7 (GH3000) locations; Codec 12/13 text.

Location record (Codec 8 / 8E / 16)::

    timestamp ms(8) | priority(1) | lon(4, signed, 1e-7 deg) | lat(4) | altitude m(2) |
    angle deg(2) | satellites(1) | speed km/h(2) | event IO id | [generation type(1), Codec 16] |
    total IO count | N1 x (id, 1 byte) | N2 x (id, 2 bytes) | N4 x (id, 4 bytes) |
    N8 x (id, 8 bytes) | [N16 x (id, 16 bytes), optional] | [NX x (id, length(2), bytes), Codec 8E]

IO ids and counts are 1 byte in Codec 8; 2 bytes in Codec 8E; in Codec 16 ids are 2 bytes and
counts 1 byte. Some firmware adds a group of 16-byte values after the 8-byte group (Traccar's
"extended" option); :func:`decode_records` detects it by trying both layouts.

Codec 7 (GH3000 personal trackers): time (4, seconds since 2007-01-01, top 2 bits flags), global
mask, location mask, then only the masked fields (lat/lon IEEE floats, altitude, course/256*360,
speed km/h, satellites, cell LAC/CID, signal, operator) and 1/2/4-byte IO groups.

Codec 12 (commands/answers): ``type(1) | size(4) | text``, type 0x05 command, 0x06 answer.
Codec 13: ``type(1) | size(4) | timestamp s(4) | text`` (size counts the timestamp).

IO used: 239 ignition, 113 battery %, 182 HDOP (x0.1), 205 cell id, 206 LAC, 241 operator code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gps_firmware_bridge.binreader import Reader, Short
from gps_firmware_bridge.fix import KMH_MPS, Fix
from gps_firmware_bridge.tracker_status import CellTower, CommandResponse, NoFix

SOURCE = "teltonika"
CODEC_7 = 0x07
CODEC_8 = 0x08
CODEC_8E = 0x8E
CODEC_12 = 0x0C
CODEC_13 = 0x0D
CODEC_16 = 0x10
LOCATION_CODECS = (CODEC_7, CODEC_8, CODEC_8E, CODEC_16)
TEXT_CODECS = (CODEC_12, CODEC_13)
UERE_M = 5.0
"""User equivalent range error turning HDOP into an accuracy estimate, metres."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GH3000_EPOCH = 1167609600
"""2007-01-01T00:00:00Z, the origin of Codec 7 times, as Unix seconds."""

_MAX_MS = int((datetime(9999, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)

Record = Fix | NoFix | CommandResponse

__all__ = ["Reader", "Short", "decode_records", "records_end"]


@dataclass
class _Raw:
    time: datetime
    lat: float | None = None
    lon: float | None = None
    altitude_m: float | None = None
    heading_deg: float | None = None
    speed_kmh: float | None = None
    satellites: int | None = None
    cell: tuple[int, int] | None = None
    operator: int | None = None


def _io(r: Reader, codec: int, with_16: bool) -> dict[int, int | bytes]:
    idw = 2 if codec in (CODEC_8E, CODEC_16) else 1
    cw = 2 if codec == CODEC_8E else 1
    values: dict[int, int | bytes] = {}
    for size in (1, 2, 4, 8):
        for _ in range(r.uint(cw)):
            key = r.uint(idw)
            values[key] = r.uint(size)
    if with_16:
        for _ in range(r.uint(cw)):
            key = r.uint(idw)
            values[key] = r.take(16)
    if codec == CODEC_8E:
        for _ in range(r.u16()):
            key = r.u16()
            values[key] = r.take(r.u16())
    return values


def _ms_time(stamp_ms: int) -> datetime:
    """Unix milliseconds as aware UTC; a value past year 9999 is a malformed record."""
    if stamp_ms > _MAX_MS:
        raise Short
    return _EPOCH + timedelta(milliseconds=stamp_ms)


def _location(r: Reader, codec: int, with_16: bool) -> tuple[_Raw, dict[int, int | bytes]]:
    stamp_ms = r.uint(8)
    r.u8()  # priority
    lon = r.sint(4) / 1e7
    lat = r.sint(4) / 1e7
    raw = _Raw(
        time=_ms_time(stamp_ms),
        lon=lon,
        lat=lat,
        altitude_m=float(r.sint(2)),
    )
    angle = r.u16()
    raw.heading_deg = float(angle) if angle <= 360 else None
    raw.satellites = r.u8()
    raw.speed_kmh = float(r.u16())
    r.uint(2 if codec in (CODEC_8E, CODEC_16) else 1)  # event IO id
    if codec == CODEC_16:
        r.u8()  # generation type
    r.uint(2 if codec == CODEC_8E else 1)  # total IO count
    return raw, _io(r, codec, with_16)


def _gh3000(r: Reader) -> tuple[_Raw, dict[int, int | bytes]]:
    seconds = (r.uint(4) & 0x3FFFFFFF) + _GH3000_EPOCH
    raw = _Raw(time=_EPOCH + timedelta(seconds=seconds))
    global_mask = r.u8()
    if global_mask & 0x01:
        mask = r.u8()
        if mask & 0x01:
            raw.lat, raw.lon = r.float32(), r.float32()
        if mask & 0x02:
            raw.altitude_m = float(r.u16())
        if mask & 0x04:
            raw.heading_deg = r.u8() * 360.0 / 256.0
        if mask & 0x08:
            raw.speed_kmh = float(r.u8())
        if mask & 0x10:
            raw.satellites = r.u8()
        if mask & 0x20:
            raw.cell = (r.u16(), r.u16())
        if mask & 0x40:
            r.u8()  # signal
        if mask & 0x80:
            raw.operator = r.uint(4)
    values: dict[int, int | bytes] = {}
    for bit, size in ((0x02, 1), (0x04, 2), (0x08, 4)):
        if global_mask & bit:
            for _ in range(r.u8()):
                key = r.u8()
                values[key] = r.uint(size)
    return raw, values


def _text(r: Reader, device_id: str, codec: int) -> CommandResponse:
    r.u8()  # type: 0x05 command, 0x06 answer
    size = r.uint(4)
    when = None
    if codec == CODEC_13:
        when = _EPOCH + timedelta(seconds=r.uint(4))
        size -= 4
    data = r.take(size)
    printable = all(32 <= b < 127 or b in (9, 10, 13) for b in data)
    text = data.decode("ascii").strip() if printable else data.hex()
    return CommandResponse(device_id=device_id, text=text, time=when, source=SOURCE)


def _to_record(raw: _Raw, io: dict[int, int | bytes], device_id: str) -> Fix | NoFix:
    cell = raw.cell
    cid, lac, operator = io.get(205), io.get(206), io.get(241, raw.operator)
    if isinstance(cid, int) and isinstance(lac, int) and cid and lac:
        cell = (lac, cid)
    if raw.lat is None or raw.lon is None or raw.satellites == 0:
        cells: tuple[CellTower, ...] = ()
        if cell is not None:
            code = operator if isinstance(operator, int) and operator >= 1000 else 0
            mcc, mnc = divmod(code, 100) if code < 100000 else divmod(code, 1000)
            cells = (CellTower(mcc, mnc, cell[0], cell[1]),)
        reason = "no_satellites" if raw.satellites == 0 else "no_gps"
        return NoFix(device_id, raw.time, reason, cells, (), SOURCE)
    hdop, battery, ignition = io.get(182), io.get(113), io.get(239)
    return Fix(
        device_id=device_id,
        fix_time=raw.time,
        lat=raw.lat,
        lon=raw.lon,
        speed_mps=raw.speed_kmh * KMH_MPS if raw.speed_kmh is not None else None,
        heading_deg=raw.heading_deg,
        altitude_m=raw.altitude_m,
        hdop=hdop / 10.0 if isinstance(hdop, int) else None,
        accuracy_m=hdop / 10.0 * UERE_M if isinstance(hdop, int) else None,
        satellites=raw.satellites,
        battery_pct=float(battery) if isinstance(battery, int) and battery <= 100 else None,
        ignition=bool(ignition) if isinstance(ignition, int) else None,
        source=SOURCE,
    )


def _decode_all(data: bytes, codec: int, count: int, device_id: str, with_16: bool) -> list[Record]:
    r = Reader(data)
    out: list[Record] = []
    for _ in range(count):
        if codec in TEXT_CODECS:
            out.append(_text(r, device_id, codec))
        elif codec == CODEC_7:
            out.append(_to_record(*_gh3000(r), device_id))
        else:
            out.append(_to_record(*_location(r, codec, with_16), device_id))
    if r.remaining:
        raise Short
    return out


def records_end(data: bytes, start: int, codec: int, count: int) -> int:
    """Offset in ``data`` just past ``count`` records of ``codec`` read from ``start``.

    Records are self-delimiting, so this finds where a packet's records end whatever its length
    field says. Only the plain layout (no 16-byte IO group) is tried: a packet using that group
    must carry a correct length field.

    Raises
    ------
    Short
        When ``data`` ends inside a record, or a record is malformed.
    """
    r = Reader(data, start)
    for _ in range(count):
        if codec in TEXT_CODECS:
            _text(r, "", codec)
        elif codec == CODEC_7:
            _gh3000(r)
        else:
            _location(r, codec, False)
    return r.pos


def decode_records(data: bytes, codec: int, count: int, device_id: str) -> list[Record]:
    """Decode ``count`` records of ``codec`` filling ``data`` exactly.

    Raises
    ------
    Short
        When the records do not fill ``data`` exactly with either IO layout (with or without
        the 16-byte group).
    """
    try:
        return _decode_all(data, codec, count, device_id, False)
    except Short:
        if codec not in (CODEC_8, CODEC_8E, CODEC_16):
            raise
        return _decode_all(data, codec, count, device_id, True)
