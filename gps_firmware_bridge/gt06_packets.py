"""GT06 family: packets with their own layouts — X1 (0x34), SR411 mini (0x24), iButton (0x61),
JC100/JC400 alarms (0x95), cell/Wi-Fi lists (0x17, 0x18, 0x24, 0x28, 0x2C, 0x2E, 0x33, 0x34,
0x69, 0xA1, 0xA2, 0xF3) and the ``79 79`` packets 0x21 (text position), 0x32/0x33 (AZ735),
0x38 and 0x70 (modular 4G)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gps_firmware_bridge.binreader import Reader, Short
from gps_firmware_bridge.gt06_location import (
    JC400,
    NO_ACK,
    SL4X,
    SR411_MINI,
    STANDARD,
    TRAIL,
    WANWAY_S20,
    Ack,
    Location,
    apply_flags,
    decode_gps,
    decode_lbs,
    make_datetime,
    read_bcd_date,
    read_date,
)
from gps_firmware_bridge.tracker_status import CellTower, WifiAccessPoint

_TEXT_POSITION = re.compile(
    r"Current position!Lat:([NS])(\d+\.\d+),Lon:([EW])(\d+\.\d+),Course:(\d+\.\d+),"
    r"Speed:(\d+\.\d+),DateTime:(\d{4})-(\d\d)-(\d\d) +(\d\d):(\d\d):(\d\d)"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decode_x1(r: Reader) -> Location:
    """Protocol 0x34 of the X1 family: alarm word, GPS block, terminal info, odometer, one cell."""
    loc = Location()
    r.skip(4)
    decode_gps(r, loc)
    r.skip(2 + 4)
    mcc, mnc, lac, cid = r.u16(), r.u8(), r.u16(), r.uint(4)
    loc.cells.append(CellTower(mcc, mnc, lac, cid))
    return loc


def decode_sr411(r: Reader) -> Location:
    """Protocol 0x24 of the SR411 mini: GPS block, one cell, ACC byte, power, battery."""
    loc = Location()
    decode_gps(r, loc)
    decode_lbs(r, loc, 0x24, SR411_MINI, False)
    loc.ignition = r.u8() > 0
    return loc


def decode_ibutton(r: Reader) -> Location:
    """Protocol 0x61: IMEI, GPS block, one cell, driver iButton id."""
    loc = Location()
    r.skip(8)
    decode_gps(r, loc)
    decode_lbs(r, loc, 0x61, STANDARD, False)
    return loc


def decode_alarm(r: Reader, data_length: int, variant: str) -> Location:
    """Protocol 0x95 (JC100/JC400 alarm): a GPS block when the body is long, else only a time."""
    loc = Location()
    if data_length > 7:
        jc400 = variant == JC400
        if jc400:
            r.skip(3)  # marker, version
        decode_gps(r, loc, False, jc400, jc400, jc400, jc400)
    else:
        loc.time = read_date(r)
    return loc


def decode_lbs_multiple(r: Reader, protocol: int, variant: str) -> Location:
    """Cell-only (and Wi-Fi) packets 0x18, 0x24, 0x28, 0x2C, 0x2E, 0x33, 0x34, 0xA1, 0xA2."""
    loc = Location()
    loc.time = read_date(r)
    if variant in (WANWAY_S20, SL4X):
        r.u8()  # timing advance
    mcc = r.u16()
    mnc = r.u16() if mcc & 0x8000 or variant == SL4X else r.u8()
    count = r.u8() if variant == WANWAY_S20 else 6 if protocol == 0x33 else 7
    for _ in range(count):
        if protocol in (0xA1, 0xA2):
            lac, cid = r.uint(4), r.uint(8)
        elif protocol in (0x33, 0x34):
            lac, cid = r.u16(), r.uint(4)
        else:
            lac, cid = r.u16(), r.uint(3)
        rssi = -r.u8()
        if lac > 0:
            loc.cells.append(CellTower(mcc & 0x7FFF, mnc, lac, cid, rssi))
    if variant not in (WANWAY_S20, SL4X):
        r.u8()  # timing advance
    if protocol not in (0x28, 0x2E, 0x24, 0xA1, 0x34):
        for _ in range(r.u8()):
            mac = ":".join(f"{b:02x}" for b in r.take(6))
            loc.wifi.append(WifiAccessPoint(mac, -r.u8()))
    return loc


def decode_wifi(r: Reader, protocol: int, length_field: int) -> tuple[Location, bytes]:
    """Wi-Fi packets 0x17, 0x69, 0xF3: BCD time, access points, cells; returns the BCD time.

    In 0x17/0x69 the frame's length byte is the access point count (the frame has no length).
    """
    loc = Location()
    stamp = r.data[r.pos : r.pos + 6]
    loc.time = read_bcd_date(r)
    count = r.u8() if protocol == 0xF3 else length_field
    for _ in range(count):
        if protocol == 0xF3:
            r.skip(2)
        mac = ":".join(f"{b:02x}" for b in r.take(6))
        loc.wifi.append(WifiAccessPoint(mac, None if protocol == 0xF3 else -r.u8()))
    if protocol != 0xF3:
        cells = r.u8()
        mcc, mnc = r.u16(), r.u8()
        for _ in range(cells):
            lac, cid, rssi = r.u16(), r.u16(), r.u8()
            loc.cells.append(CellTower(mcc, mnc, lac, cid, -rssi))
    return loc, stamp


def decode_extended(r: Reader, protocol: int, length: int) -> tuple[Location | None, Ack]:
    """``79 79`` packets carrying a position or cells; ``None`` for others (status, photos)."""
    if protocol == 0x21:
        return _string_info(r), NO_ACK
    if protocol in (0x32, 0x33):
        loc = Location()
        if not decode_gps(r, loc, has_length=True):
            loc.has_gps = False
        if decode_lbs(r, loc, protocol, STANDARD, True):
            r.u8()  # rssi
        r.skip(r.u8())  # additional cells
        r.skip(r.u8())  # Wi-Fi access points
        r.skip(1)  # status
        r.skip(r.u8())  # reserved extension
        return loc, Ack("extended")
    if protocol == 0x70:
        return _modular(r)
    if protocol == 0x38:
        loc = Location()
        decode_gps(r, loc)
        r.skip(2)  # upload mode, re-upload
        decode_lbs(r, loc, 0x38, STANDARD, False)
        return loc, NO_ACK
    if protocol in (0x41, 0xF2):
        return None, Ack("extended" if protocol == 0x41 else "basic")
    return None, NO_ACK


def _string_info(r: Reader) -> Location:
    r.skip(4)  # server flag
    encoding = r.u8()
    raw = r.take(max(r.remaining - TRAIL, 0))
    text = raw.decode("ascii", "replace") if encoding == 1 else raw.decode("utf-16-be", "replace")
    loc = Location(text=text.strip("\x00 "), is_record=False)
    match = _TEXT_POSITION.search(text)
    if match:
        g = match.groups()
        y, mo, d, h, mi, sec = (int(v) for v in g[6:12])
        when = make_datetime(y - 2000, mo, d, h, mi, sec)
        lat = float(g[1]) * (-1 if g[0] == "S" else 1)
        lon = float(g[3]) * (-1 if g[2] == "W" else 1)
        loc = Location(
            time=when,
            has_gps=True,
            valid=True,
            lat=lat,
            lon=lon,
            course_deg=float(g[4]),
            speed_kmh=float(g[5]) * 1.852,
        )
    return loc


def _modular(r: Reader) -> tuple[Location, Ack]:
    """Modules ``type(2) | length(2) | value``; a module running into the frame trailer (serial,
    CRC) is a truncated packet."""
    loc = Location(is_record=False)
    while r.remaining > TRAIL:
        module, size = r.u16(), r.u16()
        if size > r.remaining - TRAIL:
            raise Short
        if module == 0x11:
            mcc, mnc, lac, cid = r.u16(), r.u16(), r.u16(), r.uint(3)
            rssi = r.u8()
            if cid > 0:
                loc.cells.append(CellTower(mcc, mnc, lac, cid, -rssi))
                loc.is_record = True
        elif module == 0x33:
            loc.time = _EPOCH + timedelta(seconds=r.uint(4))
            loc.local_time = False
            loc.satellites = r.u8()
            loc.altitude_m = float(r.sint(2))
            lat = r.uint(4) / 1_800_000.0
            lon = r.uint(4) / 1_800_000.0
            loc.speed_kmh = float(r.u8())
            apply_flags(loc, lat, lon, r.u16())
            loc.is_record = True
        else:
            r.skip(size)
    return loc, Ack("basic", protocol=0x70, serial=r.u16())
