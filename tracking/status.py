"""The MQTT status contract: a tracker alive without a GPS fix (pure).

``siaga/v1/status/{device_id}`` carries one object described by ``schemas/mqtt/status.v1.json``:
the device reports (cell towers, Wi-Fi) but has no valid GNSS fix, so nothing is stored as a
position; the device's last-seen state is updated instead (:func:`tracking.service.write_statuses`)
and the console shows "last fix N min ago, tracker alive".

The same discipline as positions: the payload is decoded within bounds (64 KiB, 16 levels), every
value is checked against the schema's ranges, and anything else is a typed rejection (reason code
and a message in Bahasa Indonesia and English), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracking.fields import (
    MAX_SOURCE_LEN,
    Bad,
    envelope,
    is_integer,
    parse_fix_time,
    show,
    text,
)
from tracking.plausibility import Problem

STATUS_PREFIX = "siaga/v1/status/"
MAX_STATUS_BYTES = 64 * 1024
MAX_CELLS = 32
REASONS = ("gps_invalid", "no_gps", "no_satellites")
_REQUIRED = ("v", "device_id", "received_at", "reason")
_ALLOWED = frozenset(_REQUIRED) | {"time", "cells", "wifi", "source"}
_CELL_KEYS = frozenset({"mcc", "mnc", "lac", "cid", "rssi"})
#: field -> (minimum, maximum) of a cell, as in the schema
_CELL_RANGES = {"mcc": (0, 999), "mnc": (0, 999), "lac": (0, 2**32 - 1), "cid": (0, 2**36 - 1)}


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell tower (3GPP ids) seen by the tracker; ``rssi`` in dBm."""

    mcc: int
    mnc: int
    lac: int
    cid: int
    rssi: int | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One accepted status message.

    ``received_at`` is the ingest's receive time (server clock, the device's last-seen time);
    ``reported_at`` the bridge's receive time and ``time`` the device's clock, as sent.
    """

    device_id: str
    received_at: datetime
    reported_at: datetime
    reason: str
    time: datetime | None = None
    cells: tuple[Cell, ...] = ()
    wifi: int = 0
    source: str = "native"


def too_large(size: int) -> Problem:
    """The rejection of a status payload over :data:`MAX_STATUS_BYTES`."""
    return Problem("payload_too_large",
                   f"Payload status {size} byte melebihi batas {MAX_STATUS_BYTES} byte.",
                   f"Status payload of {size} bytes exceeds the limit of {MAX_STATUS_BYTES} bytes.")


def _int_in(value: Any, name: str, low: int, high: int) -> int:
    if not is_integer(value):
        raise Bad("invalid_type", f"{name} harus bilangan bulat, bukan {show(value)}.",
                  f"{name} must be an integer, not {show(value)}.")
    if not low <= value <= high:
        raise Bad("invalid_value", f"{name}={show(value)} di luar rentang {low}..{high}.",
                  f"{name}={show(value)} is outside the range {low}..{high}.")
    return int(value)


def _cell(item: Any, index: int) -> Cell:
    if not isinstance(item, dict):
        raise Bad("invalid_structure", f"cells[{index}] harus berupa objek.",
                  f"cells[{index}] must be an object.")
    missing = [k for k in _CELL_RANGES if k not in item]
    if missing:
        raise Bad("missing_field", f"cells[{index}] tanpa kolom {', '.join(missing)}.",
                  f"cells[{index}] lacks {', '.join(missing)}.")
    extra = item.keys() - _CELL_KEYS
    if extra:
        names = ", ".join(show(n, 40) for n in sorted(extra)[:10])
        raise Bad("unknown_field", f"Kolom tidak dikenal di cells[{index}]: {names}.",
                  f"Unknown fields in cells[{index}]: {names}.")
    ids = {k: _int_in(item[k], f"cells[{index}].{k}", lo, hi)
           for k, (lo, hi) in _CELL_RANGES.items()}
    rssi = item.get("rssi")
    return Cell(**ids, rssi=None if rssi is None else _int_in(rssi, f"cells[{index}].rssi",
                                                               -200, 0))


def _time(value: Any, name: str) -> datetime:
    try:
        return parse_fix_time(value)
    except Bad:
        raise Bad("invalid_time", f"{name} {show(value)} bukan waktu ISO 8601 UTC "
                  "(mis. 2026-11-23T02:15:30Z).",
                  f"{name} {show(value)} is not an ISO 8601 UTC time "
                  "(e.g. 2026-11-23T02:15:30Z).") from None


def status_report(doc: Any, topic_device: str, received_at: datetime) -> StatusReport:
    """A decoded status object -> :class:`StatusReport`; raises :class:`Bad` otherwise."""
    device_id = envelope(doc, _REQUIRED, _ALLOWED, "Payload status", "A status payload",
                         integral_version=True)
    reported_at = _time(doc["received_at"], "received_at")
    device_time = None if doc.get("time") is None else _time(doc["time"], "time")
    reason = doc["reason"]
    if not isinstance(reason, str) or reason not in REASONS:
        raise Bad("invalid_value", f"reason {show(reason)} tidak dikenal "
                  f"({', '.join(REASONS)}).",
                  f"reason {show(reason)} is unknown ({', '.join(REASONS)}).")
    cells_doc = doc.get("cells", [])
    if not isinstance(cells_doc, list) or len(cells_doc) > MAX_CELLS:
        raise Bad("invalid_structure", f"cells harus larik berisi paling banyak {MAX_CELLS} sel.",
                  f"cells must be an array of at most {MAX_CELLS} cells.")
    cells = tuple(_cell(item, i) for i, item in enumerate(cells_doc))
    wifi = _int_in(doc["wifi"], "wifi", 0, 255) if "wifi" in doc else 0
    source = text(doc, "source", "native", MAX_SOURCE_LEN)
    if device_id != topic_device:
        raise Bad("device_mismatch",
                  f"device_id {show(device_id)} berbeda dengan topik ({show(topic_device)}).",
                  f"device_id {show(device_id)} does not match the topic ({show(topic_device)}).")
    return StatusReport(device_id, received_at, reported_at, reason, device_time, cells, wifi,
                        source)
