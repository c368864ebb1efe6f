"""The one text form of a timestamp in Siaga's JSON: ISO 8601 in UTC with a ``Z`` suffix
(``2026-03-01T02:15:00Z``, fractions of a second only when present), as in the MQTT contract.

Defined in :mod:`geo.timestamp` (the lowest layer, so tracking and geo write the same form);
re-exported here for the dispatch services and the API.
"""

from __future__ import annotations

from geo.timestamp import iso_utc

__all__ = ["iso_utc"]
