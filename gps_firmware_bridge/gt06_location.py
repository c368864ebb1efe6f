"""GT06 family: the location, LBS/Wi-Fi and alarm packets of the GT06 / Concox / Jimi variants.

The GT06 protocol number alone does not say how a packet is laid out: vendors reuse numbers with
different bodies, and the frame length tells them apart (the approach of Traccar's
``Gt06ProtocolDecoder``). :func:`variant_of` picks the layout; :func:`decode_basic` (``78 78``
frames) and :func:`decode_extended` (``79 79`` frames) read one packet body into a
:class:`Location` — GPS block, cell towers, status byte (ignition, battery level) — and say which
ACK the device expects.

GPS block: date-time (6, UTC), [length], satellites (low nibble), latitude and longitude (unsigned
``degrees * 1_800_000``), speed (km/h), course/status word: bits 0-9 course, bit 10 north, bit 11
west, bit 12 GPS positioned, bit 14 "ACC known", bit 15 ACC on.

Supported packets carrying a position: 0x10, 0x11, 0x12, 0x16, 0x17 (RFID), 0x1A, 0x1E, 0x22,
0x24 (SR411 mini), 0x26, 0x27, 0x2D, 0x31, 0x32, 0x34 (X1), 0x37, 0x61, 0x95, 0xA0, 0xA2 (LW 4G),
0xA3, 0xA4; extended 0x21 (text position), 0x32/0x33 (AZ735), 0x38, 0x70 (modular 4G).
Cell/Wi-Fi only: 0x17, 0x18, 0x19, 0x24, 0x28, 0x2C, 0x2E, 0x33, 0x34 (SL4X), 0x69, 0xA1, 0xA2,
0xA5, 0xA7, 0xF3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from gps_firmware_bridge.binreader import Reader, Short
from gps_firmware_bridge.tracker_status import CellTower, WifiAccessPoint

__all__ = ["Reader", "Short"]

# Layout variants (named after the devices that introduced them).
STANDARD = "standard"
VXT01 = "vxt01"
WANWAY_S20 = "wanway_s20"
SR411_MINI = "sr411_mini"
GT06E_CARD = "gt06e_card"
BENWAY = "benway"
S5 = "s5"
SPACE10X = "space10x"
OBD6 = "obd6"
WETRUST = "wetrust"
JC400 = "jc400"
SL4X = "sl4x"
SEEWORLD = "seeworld"
RFID = "rfid"
LW4G = "lw4g"

_VARIANTS: dict[tuple[int, int], str] = {
    (0x12, 0x24): VXT01,
    (0x16, 0x24): VXT01,
    (0x24, 0x31): WANWAY_S20,
    (0x24, 0x2E): SR411_MINI,
    (0x12, 0x21): BENWAY,
    (0x12, 0x2B): S5,
    (0x13, 0x13): OBD6,
    (0x12, 0x29): WETRUST,
    (0x34, 0x37): SL4X,
    (0x31, 0x2A): SL4X,
    (0x32, 0x27): SL4X,
    (0x32, 0x29): SL4X,
    (0x22, 0x2F): SEEWORLD,
    (0x16, 0x26): SEEWORLD,
    (0xA3, 0x0C): SEEWORLD,
    (0x17, 0x28): RFID,
    (0xA2, 0x40): LW4G,
}

_GPS_TYPES = set(bytes.fromhex("10 11 12 22 37 2D 31 16 26 27 32 A2 1A 1E A0 17 A4"))
_LBS_TYPES = set(bytes.fromhex("19 11 12 22 37 2D 31 16 26 27 32 A2 A0 17 A4 A5 A7"))
_STATUS_TYPES = {0x13, 0x36, 0x19, 0x16, 0x26, 0x27, 0x32, 0xA2, 0xA4, 0xA5}
LBS_MULTIPLE = {0x28, 0x2E, 0x24, 0x18, 0x2C, 0xA1, 0x34, 0xA2, 0x33}
WIFI_TYPES = {0x17, 0x69, 0xF3}
COMMANDS = {0x80, 0x81, 0x82}
TRAIL = 6
"""Bytes after the body in a frame: serial (2), CRC (2), stop bits (2)."""


@dataclass
class Location:
    """What one packet says about position and state; ``has_gps`` when it carried a GPS block."""

    time: datetime | None = None
    has_gps: bool = False
    valid: bool = False
    lat: float = 0.0
    lon: float = 0.0
    speed_kmh: float | None = None
    course_deg: float | None = None
    satellites: int | None = None
    altitude_m: float | None = None
    ignition: bool | None = None
    battery_pct: float | None = None
    cells: list[CellTower] = field(default_factory=list)
    wifi: list[WifiAccessPoint] = field(default_factory=list)
    text: str | None = None
    local_time: bool = True
    """False when ``time`` is already UTC (epoch seconds), not the device's clock."""
    is_record: bool = True
    """False for packets that are neither a position nor a no-fix report (status, strings)."""


@dataclass(frozen=True)
class Ack:
    """The reply a packet needs: ``kind`` is ``basic`` / ``extended`` (header) or ``none``."""

    kind: str = "basic"
    protocol: int | None = None
    serial: int | None = None
    content: bytes = b""


NO_ACK = Ack("none")


def variant_of(protocol: int, length: int, extended: bool, body: bytes) -> str:
    """The layout variant of a packet from its protocol number and length field."""
    if extended:
        return STANDARD
    if protocol == 0x12 and length >= 0x71:
        return GT06E_CARD
    if protocol == 0x19 and length >= 0x17:
        return SPACE10X
    if protocol == 0x95 and body[:2] == b"\xff\xff":
        return JC400
    return _VARIANTS.get((protocol, length), STANDARD)


def make_datetime(y: int, mo: int, d: int, h: int, mi: int, s: int) -> datetime | None:
    try:
        return datetime(2000 + y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None


def read_date(r: Reader) -> datetime | None:
    b = r.take(6)
    return make_datetime(b[0], b[1], b[2], b[3], b[4], b[5])


def read_bcd_date(r: Reader) -> datetime | None:
    digits = r.take(6).hex()
    if not digits.isdigit():
        return None
    v = [int(digits[i : i + 2]) for i in range(0, 12, 2)]
    return make_datetime(*v)


def decode_gps(
    r: Reader,
    loc: Location,
    has_length: bool = False,
    has_satellites: bool = True,
    has_speed: bool = True,
    long_speed: bool = False,
    swap_flags: bool = False,
) -> bool:
    """Read a GPS block; False when a length-prefixed block is empty (no GPS data)."""
    loc.time = read_date(r)
    if has_length and r.u8() == 0:
        return False
    if has_satellites:
        loc.satellites = r.u8() & 0x0F
    lat = r.uint(4) / 1_800_000.0
    lon = r.uint(4) / 1_800_000.0
    flags = r.u16() if swap_flags else 0
    if has_speed:
        loc.speed_kmh = float(r.u16() if long_speed else r.u8())
    if not swap_flags:
        flags = r.u16()
    apply_flags(loc, lat, lon, flags)
    return True


def apply_flags(loc: Location, lat: float, lon: float, flags: int) -> None:
    loc.has_gps = True
    loc.course_deg = float(flags & 0x03FF)
    loc.valid = bool(flags & 0x1000)
    loc.lat = lat if flags & 0x0400 else -lat
    loc.lon = -lon if flags & 0x0800 else lon
    if flags & 0x4000:
        loc.ignition = bool(flags & 0x8000)


def decode_lbs(r: Reader, loc: Location, protocol: int, variant: str, has_length: bool) -> bool:
    """Read one serving cell (MCC, MNC, LAC, cell id); False when the block is empty."""
    length = 0
    if has_length:
        length = r.u8()
        if length == 0:
            window = r.data[r.pos + 9 : min(r.pos + 45, len(r.data))]
            if not any(window):
                r.skip(min(r.remaining, 45))
            return False
    cell_type = r.u8() if protocol == 0x38 else 0
    mcc = r.u16()
    wide_mnc = mcc & 0x8000 or protocol == 0x11 or variant == SL4X
    mnc = r.u16() if wide_mnc else r.u8()
    long_ids = cell_type >= 3 or protocol in (0xA5, 0xA0, 0xA2)
    lac = r.uint(4) if long_ids else r.u16()
    if long_ids or variant == SL4X:
        cid = r.uint(8)
    elif protocol in (0x11, 0x61) or variant == SEEWORLD:
        cid = r.uint(4)
    else:
        cid = r.uint(3)
    if cell_type >= 3:
        r.u16()  # rssi
    elif protocol == 0x38:
        r.u8()  # rssi
    loc.cells.append(CellTower(mcc & 0x7FFF, mnc, lac, cid))
    if length > 9:
        r.skip(length - 9)
    return True


def _status(r: Reader, loc: Location) -> None:
    loc.ignition = bool(r.u8() & 0x02)


def battery_level(level: int) -> float | None:
    """A GT06 battery byte as a percentage: 0-6 is a voltage level (level * 100 / 6, integer
    like Traccar), 7-100 a percentage, anything else unknown."""
    if level <= 6:
        return float(level * 100 // 6)
    return float(level) if level <= 100 else None


def _has_gps(protocol: int, variant: str) -> bool:
    return protocol in _GPS_TYPES or (protocol == 0xA3 and variant != SEEWORLD)


def _has_lbs(protocol: int, variant: str) -> bool:
    return protocol in _LBS_TYPES or (protocol == 0xA3 and variant != SEEWORLD)


def _has_status(protocol: int, variant: str, model: str) -> bool:
    if protocol in _STATUS_TYPES:
        return True
    if protocol == 0x22:
        return model == "NT20"
    return protocol == 0xA3 and variant == SEEWORLD


def is_location_packet(protocol: int, variant: str, model: str) -> bool:
    """True for the packets read by :func:`decode_location` (GPS, LBS or status bodies)."""
    return (
        _has_gps(protocol, variant)
        or _has_lbs(protocol, variant)
        or _has_status(protocol, variant, model)
    )


def decode_location(r: Reader, protocol: int, variant: str, model: str) -> Location:
    """Read a GPS/LBS/status packet body (``78 78`` frame) into a :class:`Location`."""
    loc = Location()
    nt20 = model == "NT20"
    lw = model.startswith("LW")
    if protocol == 0x12 and model == "QH302R":
        r.skip(8)  # IMEI
    if protocol == 0x22 and nt20:
        r.skip(1 + 8 + 6)  # location source, IMEI, device time
    has_status = _has_status(protocol, variant, model)
    if _has_gps(protocol, variant):
        decode_gps(r, loc)
    else:
        loc.is_record = protocol in _LBS_TYPES
    if _has_lbs(protocol, variant) and r.remaining > TRAIL:
        has_length = (
            has_status
            and protocol not in (0x19, 0xA5, 0xA2)
            and not (protocol == 0x16 and variant == VXT01)
        )
        decode_lbs(r, loc, protocol, variant, has_length)
    if has_status:
        _status_block(r, loc, protocol, variant, model, nt20, lw)
    _tails(r, loc, protocol, variant, model, nt20)
    return loc


def _status_block(
    r: Reader, loc: Location, protocol: int, variant: str, model: str, nt20: bool, lw: bool
) -> None:
    if protocol == 0xA2:
        r.u8()  # network indicator
    _status(r, loc)
    if variant == OBD6:
        r.skip(2 + 1 + 1)  # signal, alarm, language
        level = r.u8()
        loc.battery_pct = float(level) if level <= 100 else None
        return
    if protocol == 0xA2 or (nt20 and protocol == 0x22):
        r.u16()  # power, 0.01 V
    if protocol == 0x13 and model == "R11":
        r.u16()  # power
    else:
        level = r.u8()
        if nt20 and protocol == 0x22:
            level //= 10
        pct = battery_level(level)
        if pct is not None:
            loc.battery_pct = pct
    r.u8()  # GSM signal
    if protocol == 0x13 and lw:
        r.u16()  # power
    else:
        r.u8()  # alarm / extension


def _tails(r: Reader, loc: Location, protocol: int, variant: str, model: str, nt20: bool) -> None:
    if protocol in (0x36, 0xA2, 0x27, 0xA4) or (nt20 and protocol == 0x22):
        r.u8()  # language
    if protocol == 0x36:
        while r.remaining > TRAIL:
            module, size = r.u16(), r.u8()
            if size > r.remaining - TRAIL:
                raise Short
            if module == 0x18:
                r.u16()  # battery voltage
            elif module == 0x32:
                r.u8()  # startup status
            elif module == 0x6A:
                level = r.u8()
                loc.battery_pct = float(level) if level <= 100 else None
            else:
                r.skip(size)
    if protocol == 0xA2:
        r.skip(4 + 4 + 8 + 2)  # odometer, hours, terminal id, inputs
    if protocol == 0x12:
        _gps_lbs_1_tail(r, loc, variant)
    if protocol == 0x22 and variant == SEEWORLD:
        loc.ignition = r.u8() > 0
        r.skip(2 + 4 + 4 + 2 + 2)
    if protocol == 0x32 and variant == SL4X:
        loc.altitude_m = float(r.sint(2))
    if protocol in (0x22, 0x37, 0x2D, 0x31) and r.remaining >= 3 + TRAIL and not nt20:
        loc.ignition = r.u8() > 0
        r.skip(2)  # reason, archive flag
        if variant == SL4X:
            if r.remaining > 2 + TRAIL:
                r.skip(4)  # odometer
            loc.altitude_m = float(r.sint(2))
    if protocol == 0x37:
        module, size = r.u16(), r.u8()
        r.skip({0x0027: 2, 0x002E: 4, 0x003B: 2}.get(module, size))
    if protocol == 0x17:
        r.skip(8 + 1)  # driver id, validity
    if nt20 and protocol == 0x22:
        r.skip(3 + 3)  # odometer, hours
    if r.remaining in (3 + TRAIL, 3 + 4 + TRAIL):
        loc.ignition = r.u8() > 0
        r.skip(2)


def _gps_lbs_1_tail(r: Reader, loc: Location, variant: str) -> None:
    if variant == GT06E_CARD:
        r.skip(4)
        r.skip(r.u8())
        r.skip(2)
    elif variant == BENWAY:
        loc.ignition = bool(r.u16() & 0x8000)
    elif variant in (VXT01, S5):
        _status(r, loc)
    elif variant == WETRUST:
        r.skip(4)
        r.skip(r.u8())
