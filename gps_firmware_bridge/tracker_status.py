"""Typed records a tracker sends besides positions: "no GPS fix" with cell towers, command answers.

A tracker indoors, in a garage or under heavy canopy still reports, with the cell towers (LBS) and
Wi-Fi access points it sees but without a valid GNSS fix. Such a frame is not a position: it is kept
as a :class:`NoFix` record (the device is alive; the console can show "last fix N min ago, tracker
alive") and never published on the position topic. Decoders put these records in
``DecodeResult.extra`` under :data:`NO_FIX_KEY`; answers to server commands (Teltonika Codec 12/13,
GT06 string packets) go under :data:`RESPONSE_KEY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

NO_FIX_KEY = "no_fix"
RESPONSE_KEY = "responses"


@dataclass(frozen=True, slots=True)
class CellTower:
    """One GSM/UMTS/LTE cell as reported by a tracker (3GPP ids)."""

    mcc: int
    mnc: int
    lac: int
    cid: int
    rssi: int | None = None


@dataclass(frozen=True, slots=True)
class WifiAccessPoint:
    """One Wi-Fi access point seen by a tracker (MAC ``aa:bb:cc:dd:ee:ff``, signal in dBm)."""

    mac: str
    rssi: int | None = None


@dataclass(frozen=True, slots=True)
class NoFix:
    """A report of a live device without a valid GNSS fix.

    Attributes
    ----------
    device_id : str
        Tracker id (IMEI).
    time : datetime or None
        Device time of the report, aware UTC, when the frame carries one.
    reason : str
        ``gps_invalid`` (a GPS block whose validity flag is clear), ``no_gps`` (a cell/Wi-Fi-only
        packet) or ``no_satellites`` (Teltonika record with 0 satellites).
    cells, wifi : tuple
        Cell towers and Wi-Fi access points seen, possibly empty.
    source : str
        Originating protocol (``gt06``, ``teltonika``).
    """

    device_id: str
    time: datetime | None
    reason: str
    cells: tuple[CellTower, ...] = ()
    wifi: tuple[WifiAccessPoint, ...] = ()
    source: str = "native"


@dataclass(frozen=True, slots=True)
class CommandResponse:
    """A device's answer to a server command (or an unsolicited text message).

    ``text`` is the decoded ASCII text, or the hex dump of a binary answer.
    """

    device_id: str
    text: str
    time: datetime | None = None
    source: str = "native"


def no_fix_records(extra: dict[str, Any]) -> tuple[NoFix, ...]:
    """The :class:`NoFix` records carried by a decode result's ``extra``."""
    return tuple(extra.get(NO_FIX_KEY, ()))


def responses(extra: dict[str, Any]) -> tuple[CommandResponse, ...]:
    """The :class:`CommandResponse` records carried by a decode result's ``extra``."""
    return tuple(extra.get(RESPONSE_KEY, ()))
