"""Shared fixtures: a real PostGIS test database and a real MQTT broker.

The services come from ``scripts/services.sh`` (private instances) or from ``SIAGA_DATABASE_URL`` /
``SIAGA_MQTT_URL``. A missing service skips the tests that need it locally, and fails them in CI
(``CI=true``). The test database is ``$SIAGA_TEST_DB`` (default ``siaga_test``), recreated and
migrated once per session; each ``db_session`` test runs inside an outer transaction with a
SAVEPOINT session, rolled back afterwards.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

pytest_plugins = [
    "tests.fixtures.api",
    "tests.fixtures.geo",
    "tests.fixtures.routing",
    "tests.fixtures.tracking",
    "tests.fixtures.dispatch",
    "tests.fixtures.console",
]

IN_CI = os.environ.get("CI", "").lower() == "true"


def service_missing(reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never pass silently there."""
    if IN_CI:
        pytest.fail(f"required service unavailable in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def settings():
    from api.settings import load_settings

    return load_settings()


def create_database(settings, name: str) -> str:
    """Drop and recreate database ``name`` beside the configured one, migrate it, return its URL
    (the owner role's: ``SIAGA_MIGRATE_DATABASE_URL`` when set, as the application's role may
    not create databases)."""
    from api import migrate
    from api.db import make_engine

    base = make_url(settings.owner_database_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection problem means "no database"
        service_missing(f"PostGIS not reachable at {base.render_as_string()}: {exc}")
    finally:
        admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def database_url(settings) -> str:
    """URL of a freshly created and migrated test database, shared by the session."""
    return create_database(settings, os.environ.get("SIAGA_TEST_DB", "siaga_test"))


@pytest.fixture
def fresh_database_url(settings) -> str:
    """A database of its own for one test that runs whole processes (the demo) which would
    otherwise leave units, positions and incidents in the shared test database."""
    return create_database(settings, os.environ.get("SIAGA_TEST_DB", "siaga_test") + "_iso")


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    from api.db import make_engine

    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine) -> Iterator[Session]:
    """A session whose every commit is a SAVEPOINT inside a transaction rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def mqtt_url(settings) -> str:
    """URL of a reachable MQTT broker (mqtt://host:port)."""
    parsed = urlparse(settings.mqtt_url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 1883
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        service_missing(f"MQTT broker not reachable at {host}:{port}: {exc}")
    return settings.mqtt_url
