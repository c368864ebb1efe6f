"""The login throttle policy (pure, clock passed in): free failures, backoff, cap, forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.auth.throttle import (
    ACCOUNT_POLICY,
    ADDRESS_POLICY,
    Backoff,
    Counter,
    account_key,
    address_key,
    after_failure,
    retry_after_s,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _fail(policy: Backoff, times: int, start: datetime = T0, step_s: float = 0.0) -> Counter:
    c = Counter()
    for i in range(times):
        c = after_failure(policy, c, start + timedelta(seconds=i * step_s))
    return c


def test_free_failures_cost_nothing_then_the_delay_doubles_up_to_the_cap():
    p = Backoff(free_failures=3, base_delay_s=1.0, max_delay_s=20.0)
    assert [p.delay_s(n) for n in range(1, 10)] == [0, 0, 0, 1, 2, 4, 8, 16, 20]
    assert p.delay_s(10_000) == 20.0  # no overflow for huge counts


def test_a_blocked_counter_tells_how_long_to_wait():
    c = _fail(ACCOUNT_POLICY, ACCOUNT_POLICY.free_failures + 3)
    assert c.failures == 6
    assert retry_after_s(c, T0) == pytest.approx(4.0)
    assert retry_after_s(c, T0 + timedelta(seconds=3)) == pytest.approx(1.0)
    assert retry_after_s(c, T0 + timedelta(seconds=5)) == 0.0
    assert retry_after_s(Counter(), T0) == 0.0


def test_the_counter_is_forgotten_after_a_quiet_hour():
    c = _fail(ACCOUNT_POLICY, 10)
    later = T0 + timedelta(seconds=ACCOUNT_POLICY.forget_after_s + 1)
    again = after_failure(ACCOUNT_POLICY, c, later)
    assert again.failures == 1 and again.blocked_until is None


def test_the_owner_is_never_locked_out_for_long_and_a_nat_address_only_briefly():
    # Hundreds of failures never block a pair for more than the cap, an address for more than 60 s.
    assert retry_after_s(_fail(ACCOUNT_POLICY, 500), T0) <= ACCOUNT_POLICY.max_delay_s == 600
    assert retry_after_s(_fail(ADDRESS_POLICY, 500), T0) <= ADDRESS_POLICY.max_delay_s == 60
    # a whole 112 centre behind one NAT may mistype 20 times without any delay
    assert retry_after_s(_fail(ADDRESS_POLICY, 20), T0) == 0.0


def test_keys_separate_accounts_and_addresses():
    assert account_key(" Demo ", "10.0.0.1") == account_key("demo", "10.0.0.1")
    assert account_key("demo", "10.0.0.1") != account_key("demo", "10.0.0.2")
    assert address_key("10.0.0.1") != account_key("demo", "10.0.0.1")
