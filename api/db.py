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

import os
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

#: Seconds to wait for a TCP connection to PostgreSQL (psycopg ``connect_timeout``; with several
#: hosts, libpq applies it to each host in turn).
CONNECT_TIMEOUT_S = 5


def sqlalchemy_url(database_url: str) -> str:
    """``database_url`` in the form SQLAlchemy parses, for the psycopg 3 driver.

    ``postgresql://`` becomes ``postgresql+psycopg://``. A libpq multi-host URL, as written for a
    primary + standby pair (``postgresql://user@h1:5432,h2:5432/db?target_session_attrs=read-write``,
    docs/deployment-ha.md), has its hosts moved to ``host=h:port`` query parameters, SQLAlchemy's
    multi-host form: psycopg receives them as one libpq host/port list and connects to the first
    host that accepts writes. Any other URL is returned unchanged.
    """
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        return database_url
    if scheme == "postgresql":
        scheme = "postgresql+psycopg"
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    userinfo, at, hostlist = netloc.rpartition("@")
    hosts = hostlist.split(",")
    if len(hosts) < 2:
        return f"{scheme}://{rest}"
    path, _, query = tail.partition("?")
    params = "&".join([f"host={h}" for h in hosts] + ([query] if query else []))
    return f"{scheme}://{userinfo}{at}{path or '/'}?{params}"


def libpq_conninfo(engine: Engine) -> str:
    """The libpq connection string of ``engine``'s URL, several hosts included (for a plain
    psycopg connection beside the pool, such as the health probe's)."""
    _, params = engine.dialect.create_connect_args(engine.url)
    return make_conninfo(**{k: v for k, v in params.items()
                            if isinstance(v, (str, int, float)) and not isinstance(v, bool)})


def make_engine(database_url: str, **kwargs: object) -> Engine:
    """Create a SQLAlchemy engine for PostGIS through psycopg 3 (one host or several: see
    :func:`sqlalchemy_url`)."""
    database_url = sqlalchemy_url(database_url)
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", None) or {})  # type: ignore[call-overload]
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return create_engine(database_url, connect_args=connect_args, **kwargs)  # type: ignore[arg-type]


def api_pool_size(concurrency: int, pool_size: int = 0) -> int:
    """Pooled connections of one API process: ``pool_size``, or by default one per request
    served at once plus two (escalation pass, live WebSocket token checks)."""
    return pool_size if pool_size > 0 else concurrency + 2


#: Most API processes ``siaga serve`` starts by itself (one per core up to this).
AUTO_WORKERS_MAX = 4


def api_worker_count(workers: int = 0, cpus: int | None = None) -> int:
    """API processes to run: ``workers``, or by default one per CPU core (``cpus``, else the
    cores this process may use) and at most :data:`AUTO_WORKERS_MAX`. Route code is Python and
    one process uses one core at a time, so on a 2-core machine two processes serve about twice
    the requests of one (``BENCHMARKS.md``, API load)."""
    if workers > 0:
        return workers
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return max(1, min(cpus, AUTO_WORKERS_MAX))


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
