"""The one text form of a timestamp in Siaga's JSON (pure, no I/O): ISO 8601 in UTC with a ``Z``
suffix (``2026-03-01T02:15:00Z``, fractions of a second only when present), as in the MQTT
contract.

It lives in the lowest layer so that every package writes the same form: ``tracking`` (fix
payloads, evidence, stale-tracker events), ``geo`` (region listings) and ``dispatch`` (which
re-exports it as ``dispatch.timestamp.iso_utc``) and the API routes above them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

__all__ = ["iso_utc"]


@overload
def iso_utc(value: datetime) -> str: ...
@overload
def iso_utc(value: None) -> None: ...
@overload
def iso_utc(value: datetime | None) -> str | None: ...


def iso_utc(value: datetime | None) -> str | None:
    """``value`` in UTC as ISO 8601 ending in ``Z``; ``None`` stays ``None``. A naive datetime
    is taken to be UTC already (the database stores ``timestamptz``)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")
