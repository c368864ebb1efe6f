"""Login throttle counters in PostGIS, shared by every API instance (functions never commit).

The rules are in :mod:`api.auth.throttle`; this module only loads and stores counters. A failure
is recorded under a row lock (``SELECT ... FOR UPDATE`` after an ``INSERT ... ON CONFLICT DO
NOTHING``), so concurrent failures on several instances are all counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.auth.models import LoginThrottle
from api.auth.throttle import Backoff, Counter, after_failure, retry_after_s


def _counter(row: LoginThrottle | None) -> Counter:
    if row is None:
        return Counter()
    return Counter(row.failures, row.last_failure_at, row.blocked_until)


def counters(*, session: Session, keys: list[str]) -> dict[str, Counter]:
    """The stored counters of ``keys`` (absent keys are fresh counters)."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys))).all()
    found = {r.key: _counter(r) for r in rows}
    return {k: found.get(k, Counter()) for k in keys}


def wait_s(*, session: Session, keys: list[str], now: datetime) -> float:
    """Seconds until every key in ``keys`` may try again (0 when a login may be checked now)."""
    return max((retry_after_s(c, now) for c in counters(session=session, keys=keys).values()),
               default=0.0)


def lock(*, session: Session, keys: list[str]) -> dict[str, Counter]:
    """Lock the rows of ``keys`` (created when missing) until the transaction ends and return
    their counters: concurrent attempts on the same keys, on any instance, take turns."""
    out: dict[str, Counter] = {}
    for key in sorted(keys):  # one lock order for every instance: no deadlock
        session.execute(insert(LoginThrottle).values(key=key, failures=0)
                        .on_conflict_do_nothing(index_elements=["key"]))
        row = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key)
                              .with_for_update().execution_options(populate_existing=True)).one()
        out[key] = _counter(row)
    return out


def record_failure(*, session: Session, policies: Mapping[str, Backoff],
                   now: datetime) -> dict[str, Counter]:
    """Count one failed login on each key (key → its policy); returns the new counters."""
    current = lock(session=session, keys=list(policies))
    out: dict[str, Counter] = {}
    for key, policy in policies.items():
        new = after_failure(policy, current[key], now)
        session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(
            failures=new.failures, last_failure_at=new.last_failure_at,
            blocked_until=new.blocked_until))
        out[key] = new
    return out


def reset(*, session: Session, key: str) -> None:
    """Forget the failures of ``key`` (after a successful login)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
