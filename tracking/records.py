"""Plain values returned by :mod:`tracking.service` (frozen dataclasses, no ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tracking.fix import Fix


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    kode_kab: str | None
    label: str | None
    registered: bool
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    #: newest fix time (``latest_position``), ``None`` if the device never had a fix
    last_fix_at: datetime | None = None
    #: last status without a GPS fix: when it was received, its reason, cells and Wi-Fi count
    last_status_at: datetime | None = None
    last_status_reason: str | None = None
    last_cells: list[dict] | None = None
    last_wifi_count: int | None = None


@dataclass(frozen=True)
class RejectRecord:
    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    item_index: int | None
    reason: str
    message: str
    message_en: str
    payload_text: str | None


@dataclass(frozen=True)
class BatchOutcome:
    """What one committed batch did: rows stored, duplicates absorbed, rejects kept."""

    stored: int
    duplicates: int
    rejected: int
    #: newest fix per device whose latest position moved forward in this batch
    latest: dict[str, Fix] = field(default_factory=dict)
    #: status messages applied to their device's last-seen state
    statuses: int = 0


@dataclass(frozen=True)
class PruneResult:
    dropped_partitions: list[str]
    deleted_default_rows: int
    deleted_rejects: int
