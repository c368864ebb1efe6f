"""The principal cache: hits, invalidation, the generation guard against stale write-back,
expiry, and being off until the listener listens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from api.principal_cache import PrincipalCache
from api.security import Principal, Role

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def principal(n: int = 1, expires_at: datetime | None = None) -> Principal:
    return Principal(user_id=n, username=f"u{n}", role=Role.DISPATCHER, token_id=n,
                     kode_kabs=frozenset({"34.71"}), expires_at=expires_at)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def enabled_cache(**kw) -> PrincipalCache:
    cache = PrincipalCache(**kw)
    cache.enable()
    return cache


def test_off_until_enabled_then_hits():
    cache = PrincipalCache()
    assert not cache.put("d", principal(), expires_at=None, generation=cache.generation)
    assert cache.get("d", NOW) is None
    cache.enable()
    assert cache.put("d", principal(), expires_at=None, generation=cache.generation)
    assert cache.get("d", NOW) == principal()
    assert (cache.hits, len(cache)) == (1, 1)


def test_clear_forgets_and_refuses_a_lookup_that_started_before_it():
    cache = enabled_cache()
    seen = cache.generation          # a request starts its database lookup
    cache.clear()                    # meanwhile the token is revoked (NOTIFY)
    assert not cache.put("d", principal(), expires_at=None, generation=seen)
    assert cache.get("d", NOW) is None
    assert cache.put("d", principal(), expires_at=None, generation=cache.generation)


def test_disable_forgets_everything_and_stops_caching():
    cache = enabled_cache()
    cache.put("d", principal(), expires_at=None, generation=cache.generation)
    cache.disable()
    assert cache.get("d", NOW) is None
    assert not cache.put("d", principal(), expires_at=None, generation=cache.generation)
    cache.enable()
    assert cache.get("d", NOW) is None  # re-enabled empty: notifications may have been missed


def test_entries_expire_after_ttl_and_never_outlive_their_token():
    clock = Clock()
    cache = enabled_cache(ttl_s=30.0, clock=clock)
    cache.put("a", principal(1), expires_at=None, generation=cache.generation)
    cache.put("b", principal(2, NOW + timedelta(seconds=5)),
              expires_at=NOW + timedelta(seconds=5), generation=cache.generation)
    clock.t += 10
    assert cache.get("a", NOW + timedelta(seconds=10)) == principal(1)
    assert cache.get("b", NOW + timedelta(seconds=5)) is None  # its token has expired
    clock.t += 21
    assert cache.get("a", NOW) is None


def test_bounded_size():
    cache = enabled_cache(max_entries=3)
    for n in range(10):
        cache.put(f"d{n}", principal(n), expires_at=None, generation=cache.generation)
        assert len(cache) <= 3
    assert cache.get("d9", NOW) == principal(9)


OPS = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(0, 3)),     # a lookup starts (reads the row)
    st.tuples(st.just("store"), st.integers(0, 3)),    # the oldest pending lookup stores
    st.tuples(st.just("change"), st.integers(0, 3)),   # the row changes, then NOTIFY clears
    st.tuples(st.just("get"), st.integers(0, 3)),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_never_serves_a_principal_older_than_the_last_change(ops):
    """Model: each token has a version bumped by every change; whatever interleaving of
    lookups, stores and changes, a hit is always the current version."""
    cache = enabled_cache()
    version = dict.fromkeys(range(4), 0)
    pending: list[tuple[int, int, int]] = []  # (token, version read, generation seen)
    for op, k in ops:
        if op == "read":
            pending.append((k, version[k], cache.generation))
        elif op == "store" and pending:
            token, v, gen = pending.pop(0)
            cache.put(str(token), principal(v), expires_at=None, generation=gen)
        elif op == "change":
            version[k] += 1
            cache.clear()
        elif op == "get":
            hit = cache.get(str(k), NOW)
            assert hit is None or hit.user_id == version[k]
