"""The MQTT status contract (``status.v1``): a live tracker that has no GPS fix.

A :class:`~gps_firmware_bridge.tracker_status.NoFix` record (cell towers / Wi-Fi, no valid GNSS
fix) is never a position. The bridge publishes it on ``siaga/v1/status/{device_id}`` as the exact
JSON object of ``schemas/mqtt/status.v1.json`` so Siaga can show "last fix N min ago, tracker
alive". At most :data:`MAX_CELLS` cells are sent (the first ones, in the device's order); Wi-Fi
access points are sent as a count only (their MAC addresses are not needed to show liveness).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gps_firmware_bridge.fix import format_time
from gps_firmware_bridge.tracker_status import NoFix

STATUS_TOPIC_PREFIX = "siaga/v1/status/"
MAX_CELLS = 32
#: the reasons of the contract (``NoFix.reason`` values)
REASONS = frozenset({"gps_invalid", "no_gps", "no_satellites"})


def status_topic(device_id: str) -> str:
    """MQTT topic of a device's status: ``siaga/v1/status/{device_id}``."""
    return STATUS_TOPIC_PREFIX + device_id


def _bounded(value: int | None, low: int, high: int) -> int | None:
    return value if value is not None and low <= value <= high else None


def status_payload(record: NoFix, received_at: datetime) -> dict[str, Any]:
    """The ``status.v1`` JSON object of a no-fix record received at ``received_at`` (aware UTC).

    Keys in contract order: v, device_id, time (device clock or null), received_at, reason,
    cells (mcc, mnc, lac, cid, rssi in dBm or null), wifi (number of access points), source.
    A cell whose ids fall outside the contract's ranges is left out; an out-of-range rssi is null.
    """
    cells: list[dict[str, int | None]] = []
    for cell in record.cells:
        if len(cells) == MAX_CELLS:
            break
        if not (
            0 <= cell.mcc <= 999
            and 0 <= cell.mnc <= 999
            and 0 <= cell.lac <= 0xFFFFFFFF
            and 0 <= cell.cid <= 0xFFFFFFFFF
        ):
            continue
        cells.append(
            {
                "mcc": cell.mcc,
                "mnc": cell.mnc,
                "lac": cell.lac,
                "cid": cell.cid,
                "rssi": _bounded(cell.rssi, -200, 0),
            }
        )
    return {
        "v": 1,
        "device_id": record.device_id,
        "time": format_time(record.time) if record.time is not None else None,
        "received_at": format_time(received_at),
        "reason": record.reason if record.reason in REASONS else "no_gps",
        "cells": cells,
        "wifi": min(len(record.wifi), 255),
        "source": record.source,
    }
