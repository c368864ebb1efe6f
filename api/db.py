"""Engine and session factory, built from settings at the composition root.

Pool sizing (see ``docs/api-workers.md``): every sync route handler and every sync dependency runs
on one worker thread of the server's thread pool and holds at most one pooled connection at a
time, released before the response is sent. With ``pool_size + max_overflow`` at least the
number of worker threads, a thread never waits for a connection held by a request that itself
waits for a thread. When a connection still cannot be had within ``pool_timeout`` seconds (the
database is down or slower than the load), the checkout fails with
:class:`sqlalchemy.exc.TimeoutError`, which the API answers with 503 and ``Retry-After``.
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


def make_api_engine(database_url: str, *, threads: int, pool_size: int, max_overflow: int,
                    pool_timeout_s: float) -> Engine:
    """The API's engine: a pool sized against the worker threads (``threads``), failing fast.

    ``pool_size`` 0 means "as many as the worker threads" (plus ``max_overflow`` for the
    background tasks: escalation pass, live WebSocket token checks).
    """
    size = pool_size if pool_size > 0 else threads
    return make_engine(database_url, pool_size=size, max_overflow=max_overflow,
                       pool_timeout=pool_timeout_s, pool_use_lifo=True)


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
