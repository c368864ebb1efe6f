"""Login throttling: too many failed logins for one username (or from one address) → wait.

Pure and in memory (per API process), clock passed in. A production deployment behind several
workers should also rate-limit at the reverse proxy.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """At most ``max_failures`` failed logins per key within ``window_s`` seconds."""

    max_failures: int = 5
    window_s: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now_s: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now_s - self.window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def retry_after_s(self, keys: list[str], now_s: float) -> float:
        """Seconds to wait before another attempt is allowed (0 when allowed)."""
        wait = 0.0
        for key in keys:
            times = self._recent(key, now_s)
            if len(times) >= self.max_failures:
                wait = max(wait, times[0] + self.window_s - now_s)
        return wait

    def failed(self, keys: list[str], now_s: float) -> None:
        for key in keys:
            self._recent(key, now_s)
            self._failures.setdefault(key, deque()).append(now_s)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
