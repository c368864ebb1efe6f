"""Adaptive reporting for gateway mode: how often a fix is worth storing and sending.

A GNSS receiver gives a fix every second; over a metered, patchy cellular link a gateway sends one
every ``moving_interval_s`` while the vehicle moves or is on an active assignment, and one every
``parked_interval_s`` while it is parked. A heading change larger than ``turn_deg`` while moving
is reported at once (so tracks follow the road at corners).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gps_firmware_bridge.fix import Fix


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """Intervals (seconds) and thresholds of adaptive reporting."""

    moving_interval_s: float = 5.0
    parked_interval_s: float = 60.0
    assignment_interval_s: float = 3.0
    moving_speed_mps: float = 1.5
    turn_deg: float = 30.0


@dataclass
class ReportGate:
    """Stateful decimator applying a :class:`ReportPolicy` per device."""

    policy: ReportPolicy = field(default_factory=ReportPolicy)
    on_assignment: bool = False
    _last: dict[str, Fix] = field(default_factory=dict)

    def interval_s(self, fix: Fix) -> float:
        """The reporting interval that applies to this fix's state."""
        if self.on_assignment:
            return self.policy.assignment_interval_s
        moving = fix.speed_mps is not None and fix.speed_mps >= self.policy.moving_speed_mps
        return self.policy.moving_interval_s if moving else self.policy.parked_interval_s

    def admit(self, fix: Fix) -> bool:
        """True when ``fix`` should be reported (and remembers it as the last reported)."""
        last = self._last.get(fix.device_id)
        if last is None or self._due(last, fix):
            self._last[fix.device_id] = fix
            return True
        return False

    def _due(self, last: Fix, fix: Fix) -> bool:
        elapsed_s = (fix.fix_time - last.fix_time).total_seconds()
        if elapsed_s < 0:
            return True
        if elapsed_s >= self.interval_s(fix):
            return True
        moving = fix.speed_mps is not None and fix.speed_mps >= self.policy.moving_speed_mps
        if moving and fix.heading_deg is not None and last.heading_deg is not None:
            turn = abs((fix.heading_deg - last.heading_deg + 180.0) % 360.0 - 180.0)
            return turn >= self.policy.turn_deg
        return False


def elapsed(a: datetime, b: datetime) -> float:
    """Seconds from ``a`` to ``b``."""
    return (b - a).total_seconds()
