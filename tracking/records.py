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


@dataclass(frozen=True)
class PruneResult:
    dropped_partitions: list[str]
    deleted_default_rows: int
    deleted_rejects: int
