"""Stale trackers: on-duty devices silent for too long (pure; the clock is passed in).

A device is *stale* when it is on duty and its newest fix is older than ``stale_after_s`` (or it
has never reported). :class:`StaleMonitor` reports each device once when it becomes stale and
once when fixes return (``recovered``), so the worker publishes one event per transition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from geo.timestamp import iso_utc


@dataclass(frozen=True)
class StaleEvent:
    """A transition of one device: ``stale`` or ``recovered`` at time ``at`` (aware UTC)."""

    device_id: str
    state: Literal["stale", "recovered"]
    last_fix_at: datetime | None
    silent_s: float | None
    at: datetime

    def to_payload(self) -> dict:
        return {
            "device_id": self.device_id,
            "state": self.state,
            "last_fix_at": iso_utc(self.last_fix_at),
            "silent_s": self.silent_s,
            "at": iso_utc(self.at),
        }


class StaleMonitor:
    """Remembers which devices are stale and reports transitions."""

    def __init__(self, stale_after_s: float) -> None:
        if stale_after_s <= 0:
            raise ValueError("stale_after_s must be positive")
        self.stale_after_s = stale_after_s
        self.stale: set[str] = set()

    def evaluate(self, last_fix_at: Mapping[str, datetime], on_duty: Iterable[str],
                 now: datetime) -> list[StaleEvent]:
        """Transitions since the previous call; devices off duty are forgotten silently."""
        duty = set(on_duty)
        events: list[StaleEvent] = []
        for device_id in sorted(duty):
            last = last_fix_at.get(device_id)
            silent_s = None if last is None else (now - last).total_seconds()
            is_stale = silent_s is None or silent_s > self.stale_after_s
            if is_stale and device_id not in self.stale:
                self.stale.add(device_id)
                events.append(StaleEvent(device_id, "stale", last, silent_s, now))
            elif not is_stale and device_id in self.stale:
                self.stale.discard(device_id)
                events.append(StaleEvent(device_id, "recovered", last, silent_s, now))
        self.stale &= duty
        return events
