"""Login throttling policy: slow password guessing down without locking the owner out (pure).

Rules
-----
* Two counters are kept per failed login, both in the database (table ``login_throttle``, see
  :mod:`api.auth.throttle_service`) so every API instance sees the same counts:

  - the **(account, address)** key ``acct:<username>|<address>``: the first
    :data:`ACCOUNT_POLICY` ``.free_failures`` (3) failures are free; each further failure blocks
    that pair for 1 s, 2 s, 4 s, ... capped at 10 min;
  - the **address** key ``addr:<address>``: a 112 centre may sit behind one NAT, so the first 20
    failures are free; each further failure blocks the address for 1 s, 2 s, ... capped at 60 s.

* There is no key per account alone: an attacker's failures from one address never block the
  owner logging in from another address. Guessing against one account from many addresses is
  bounded by the per-address delays and the Argon2 cost of each attempt.
* While a key is blocked, a login attempt is answered 429 with ``Retry-After`` **without checking
  the password** (so blocked guesses learn nothing) and is not counted.
* A successful login resets its (account, address) key only; the address key is not reset (an
  attacker could otherwise clear it with an account of their own).
* A counter whose last failure is older than ``forget_after_s`` (1 h) starts again from zero.

All functions are pure; the clock is passed in as an aware UTC ``datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff after a number of free failures.

    Attributes
    ----------
    free_failures
        Failures allowed without any delay.
    base_delay_s, max_delay_s
        Delay after the first counted failure (seconds), doubled per further failure up to
        ``max_delay_s``.
    forget_after_s
        Seconds without a failure after which the counter starts again.
    """

    free_failures: int
    base_delay_s: float
    max_delay_s: float
    forget_after_s: float = 3600.0

    def delay_s(self, failures: int) -> float:
        """Seconds a key is blocked after its ``failures``-th failure (0 while free)."""
        over = failures - self.free_failures
        if over <= 0:
            return 0.0
        return min(self.base_delay_s * 2.0 ** min(over - 1, 62), self.max_delay_s)


@dataclass(frozen=True)
class Counter:
    """The stored state of one key."""

    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None


ACCOUNT_POLICY = Backoff(free_failures=3, base_delay_s=1.0, max_delay_s=600.0)
ADDRESS_POLICY = Backoff(free_failures=20, base_delay_s=1.0, max_delay_s=60.0)


def account_key(username: str, address: str) -> str:
    """Key of an (account, address) pair; usernames compare case-insensitively."""
    return f"acct:{username.strip().lower()}|{address}"


def address_key(address: str) -> str:
    return f"addr:{address}"


def after_failure(policy: Backoff, counter: Counter, now: datetime) -> Counter:
    """The counter after one more failure at ``now``."""
    failures = counter.failures
    if counter.last_failure_at is None or \
            (now - counter.last_failure_at).total_seconds() >= policy.forget_after_s:
        failures = 0
    failures += 1
    delay = policy.delay_s(failures)
    blocked = now + timedelta(seconds=delay) if delay > 0 else None
    return Counter(failures=failures, last_failure_at=now, blocked_until=blocked)


def retry_after_s(counter: Counter, now: datetime) -> float:
    """Seconds until the key may try again (0 when it may try now)."""
    if counter.blocked_until is None:
        return 0.0
    return max((counter.blocked_until - now).total_seconds(), 0.0)
