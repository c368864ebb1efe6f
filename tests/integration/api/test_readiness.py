"""A newcomer running ``siaga`` commands before ``siaga db upgrade`` or before importing regions
gets a sentence saying what to run (Bahasa Indonesia / English), never an SQL error or a
traceback. Runs the installed ``siaga`` entry point on an empty database created here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from api.readiness import NO_REGIONS, NOT_MIGRATED, explain, require_database, setup_notices

SIAGA = Path(sys.executable).with_name("siaga")
DATA = Path(__file__).resolve().parents[3] / "data"
NOT_MIGRATED_TEXT = ("Basis data belum dimigrasi: jalankan `siaga db upgrade` / "
                     "Database not migrated: run `siaga db upgrade`")


def _empty_database(settings, suffix: str) -> str:
    """A database that exists but was never migrated."""
    from api.db import make_engine

    name = os.environ.get("SIAGA_TEST_DB", "siaga_test") + suffix
    base = make_url(settings.owner_database_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        from tests.conftest import service_missing

        service_missing(f"PostGIS not reachable: {exc}")
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def empty_database_url(settings) -> str:
    return _empty_database(settings, "_empty")


def _siaga(url: str, *args: str, roads_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SIAGA_DATABASE_URL": url}
    if roads_dir is not None:
        env["SIAGA_ROADS_DIR"] = str(roads_dir)
    return subprocess.run([str(SIAGA), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _plain(result: subprocess.CompletedProcess) -> str:
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "SELECT" not in out and "psycopg" not in out, out
    return out


@pytest.mark.parametrize("command", [
    ["regions", "list"], ["geocode", "reverse", "-7.8", "110.37"], ["users", "list"],
    ["dispatch", "recommend", "1"], ["serve", "--port", "9"], ["ingest"],
    ["regions", "import", str(DATA / "bangli")],
])
def test_every_command_before_migrations_says_run_db_upgrade(empty_database_url, command):
    result = _siaga(empty_database_url, *command)
    assert result.returncode == 1
    assert NOT_MIGRATED_TEXT in _plain(result)


def test_an_unreachable_database_is_named_with_what_to_check(database_url):
    url = make_url(database_url).set(port=1).render_as_string(hide_password=False)
    result = _siaga(url, "regions", "list")
    assert result.returncode == 1
    out = _plain(result)
    assert "Basis data tidak dapat dihubungi" in out and "check SIAGA_DATABASE_URL" in out


def test_after_upgrade_no_regions_then_no_road_network(empty_database_url, tmp_path):
    from api.db import make_engine

    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert setup_notices(conn, tmp_path) == [NOT_MIGRATED]
            with pytest.raises(Exception) as caught:  # what the API and CLI would have hit
                conn.execute(text("SELECT count(*) FROM region"))
        assert explain(caught.value) is NOT_MIGRATED

        upgraded = _siaga(empty_database_url, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        geocode = _siaga(empty_database_url, "geocode", "reverse", "-7.8", "110.37")
        assert geocode.returncode == 1 and NO_REGIONS.text() in _plain(geocode)
        incident = _siaga(empty_database_url, "incidents", "create", "--category", "fire",
                          "--lat", "-7.8", "--lon", "110.37")
        assert incident.returncode == 1 and NO_REGIONS.text() in _plain(incident)
        listed = _siaga(empty_database_url, "regions", "list")
        assert listed.returncode == 0 and listed.stdout.strip() == "[]"
        with engine.connect() as conn:
            assert setup_notices(conn, tmp_path) == [NO_REGIONS]
        imported = _siaga(empty_database_url, "regions", "import", str(DATA / "bangli"))
        assert imported.returncode == 0, imported.stderr
        with engine.connect() as conn:
            [notice] = setup_notices(conn, tmp_path)
        assert notice.code == "no_road_network" and "51.06" in notice.message
        assert "perkiraan garis lurus" in notice.message and "siaga roads import" in notice.text()
        assert require_database(engine, roads_dir=tmp_path) == [notice]  # a warning, no exit
    finally:
        engine.dispose()


def test_api_health_and_requests_say_what_to_run(settings, tmp_path):
    from fastapi.testclient import TestClient

    from api import migrate
    from api.app import create_app

    url = _empty_database(settings, "_empty_api")

    def client() -> TestClient:  # a new app each time: the health checklist is cached 5 s
        cfg = settings.model_copy(update={"database_url": url, "roads_dir": tmp_path})
        return TestClient(create_app(cfg), raise_server_exceptions=False)

    with client() as c:
        health = c.get("/api/v1/health")
        assert health.status_code == 503
        assert health.json()["status"] == "not_migrated"
        assert health.json()["message"] == NOT_MIGRATED_TEXT
        login = c.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
        assert login.status_code == 503, login.text
        assert login.json()["error"]["code"] == "database_not_migrated"
        assert login.json()["error"]["message"] == NOT_MIGRATED.message
        assert login.json()["error"]["message_en"] == NOT_MIGRATED.message_en
    migrate.upgrade(url)
    with client() as c:
        health = c.get("/api/v1/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert [n["code"] for n in health.json()["setup"]] == ["no_regions"]
    imported = _siaga(url, "regions", "import", str(DATA / "bangli"))
    assert imported.returncode == 0, imported.stderr
    with client() as c:
        [notice] = c.get("/api/v1/health").json()["setup"]
    assert notice["code"] == "no_road_network" and "51.06" in notice["message_en"]
