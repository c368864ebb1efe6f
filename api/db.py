"""Engine and session factory, built from settings at the composition root.

Pool sizing (see ``docs/api-workers.md``): one API process serves at most ``api_concurrency``
requests at once (``api/admission.py``); each holds at most one pooled connection at a time
(the token lookup's, then its unit of work's, committed and returned before the response). The
pool has that many connections plus two, and there are that many worker threads plus four, so a
request being served never waits for a connection or a thread held by another. When a
connection still cannot be had within ``pool_timeout`` seconds (the database is down or slower
than the load), the checkout fails with :class:`sqlalchemy.exc.TimeoutError`, which the API
answers with 503 and ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

#: Seconds to wait for a TCP connection to PostgreSQL (psycopg ``connect_timeout``).
CONNECT_TIMEOUT_S = 5


def make_engine(database_url: str, **kwargs: object) -> Engine:
    """Create a SQLAlchemy engine for PostGIS through psycopg 3."""
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", None) or {})  # type: ignore[call-overload]
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return create_engine(database_url, connect_args=connect_args, **kwargs)  # type: ignore[arg-type]


def api_pool_size(concurrency: int, pool_size: int = 0) -> int:
    """Pooled connections of one API process: ``pool_size``, or by default one per request
    served at once plus two (escalation pass, live WebSocket token checks)."""
    return pool_size if pool_size > 0 else concurrency + 2


def api_thread_count(concurrency: int, threads: int = 0) -> int:
    """Worker threads of one API process: ``threads``, or by default one per request served at
    once plus four for background work (escalation pass, MQTT fan-out start and stop)."""
    return threads if threads > 0 else concurrency + 4


def make_api_engine(database_url: str, *, concurrency: int, pool_size: int, max_overflow: int,
                    pool_timeout_s: float) -> Engine:
    """The API's engine: a pool sized against the requests served at once, failing fast."""
    return make_engine(database_url, pool_size=api_pool_size(concurrency, pool_size),
                       max_overflow=max_overflow, pool_timeout=pool_timeout_s,
                       pool_use_lifo=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
