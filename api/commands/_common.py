"""Helpers shared by CLI commands: settings, sessions, JSON output, clean error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.orm import Session

from api.db import make_engine, make_sessionmaker, unit_of_work
from api.readiness import require_database
from api.settings import Settings, load_settings

if TYPE_CHECKING:
    from api.services import Services


def settings() -> Settings:
    return load_settings()


def services(cfg: Settings | None = None) -> Services:
    """The composition root's typed services (:func:`api.services.build_services`, as the HTTP
    service builds them): dispatch configuration, road networks with their vehicle profiles, the
    geocoder holder. An invalid configuration file exits with its reason."""
    # Imported here: the services pull in the routing kernels, which most commands never use.
    from api.services import build_services
    from dispatch.exceptions import DispatchError
    from geo.exceptions import GeoError

    try:
        return build_services(cfg or settings())
    except (DispatchError, GeoError) as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


#: Database URLs already found reachable and migrated by this process.
_READY: set[str] = set()


@contextmanager
def session_scope(cfg: Settings | None = None) -> Iterator[Session]:
    """A committed-on-success session against the configured database.

    The first use per database checks it is reachable and migrated, and otherwise exits with a
    sentence saying what to run (``api.readiness``) instead of an SQL error."""
    cfg = cfg or settings()
    engine = make_engine(cfg.database_url)
    try:
        if cfg.database_url not in _READY:
            require_database(engine)
            _READY.add(cfg.database_url)
        with unit_of_work(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error to stderr and exit non-zero (no traceback for expected errors)."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)
