"""The high-availability PostgreSQL pair, shared by the HA tests of this package.

The pg_auto_failover monitor + primary + standby are started from nothing by
``scripts/cluster.sh up db`` in a state directory of their own (ports from 55450, or
``SIAGA_HA_TEST_PG_PORT``) once for the package, and removed afterwards. ``ha_url`` is a migrated
test database on the pair, reached through the libpq multi-host URL the script writes
(``target_session_attrs=read-write``): whichever node is primary.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from api.db import make_engine
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = ROOT / "scripts" / "cluster.sh"
CLUSTER_DB = ROOT / "scripts" / "cluster-db.sh"


def env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a settings file the cluster scripts write."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if "=" in line and not line.startswith("#"))
    return {k: v for k, v in pairs}


def wait_until(predicate, timeout_s: float, step_s: float = 0.3) -> bool:
    """Whether ``predicate()`` became true within ``timeout_s`` (polled every ``step_s``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return bool(predicate())


class Pair:
    """The running pair: its settings and the script's fault verbs."""

    def __init__(self, env: dict[str, str], settings: dict[str, str]) -> None:
        self.env, self.settings = env, settings

    def db(self, *args: str) -> str:
        return subprocess.run([str(CLUSTER_DB), *args], env=self.env, check=True, timeout=240,
                              capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="package")
def pg_pair(tmp_path_factory):
    """A fresh pg_auto_failover monitor + pair, in a state directory of its own."""
    if subprocess.run(["sh", "-c", "command -v pg_autoctl"], capture_output=True).returncode:
        service_missing("pg_autoctl is not installed (scripts/system-deps.sh test)")
    state = tmp_path_factory.mktemp("ha-db-state")
    env = {**os.environ, "SIAGA_STATE_DIR": str(state),
           "SIAGA_HA_PG_PORT": os.environ.get("SIAGA_HA_TEST_PG_PORT", "55450")}
    started = time.monotonic()
    up = subprocess.run([str(CLUSTER), "up", "db"], env=env, capture_output=True, text=True,
                        timeout=300)
    if up.returncode:
        subprocess.run([str(CLUSTER), "clean", "db"], env=env, capture_output=True, timeout=120)
        pytest.fail(f"cluster.sh up db failed:\n{up.stdout}\n{up.stderr}")
    print(f"\nPostgreSQL pair up from nothing in {time.monotonic() - started:.1f} s")
    try:
        yield Pair(env, env_file(state / "cluster" / "db.env"))
    finally:
        subprocess.run([str(CLUSTER), "clean", "db"], env=env, capture_output=True, timeout=180)


@pytest.fixture(scope="package")
def ha_url(pg_pair) -> str:
    """A migrated test database on the pair (owner role, multi-host URL)."""
    from sqlalchemy import make_url

    from api import migrate
    from api.settings import load_settings

    owner = load_settings(database_url=pg_pair.settings["SIAGA_MIGRATE_DATABASE_URL"],
                          migrate_database_url="").database_url
    name = os.environ.get("SIAGA_TEST_DB", "siaga_test") + "_ha"
    admin = make_engine(owner, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(owner).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url
