"""Every non-admin user acts for named regencies; only ``admin`` is installation-wide.

The service refuses a regency-less dispatcher/agency/planner/viewer (HTTP 422, CLI exit 1, in
Bahasa Indonesia and English), the database refuses it too (``ck_app_user_kode_kabs_unless_admin``,
revision ``0020_registry_tenancy``), and the migration gives existing such users the regencies of
the installation (or removes them where there are none).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.auth import service
from api.auth.exceptions import InvalidUserError
from api.auth.models import AppUser
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING

NON_ADMIN = ("dispatcher", "agency", "planner", "viewer")


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _agency(role: str) -> str | None:
    return "DAMKAR" if role == "agency" else None


@pytest.mark.parametrize("role", NON_ADMIN)
def test_service_refuses_a_non_admin_without_regencies(db_session: Session, pilot_regions, role):
    with pytest.raises(InvalidUserError) as refused:
        service.create_user(session=db_session, username=_name("u"), password="kata-sandi-1",
                            role=role, agency_code=_agency(role), scope=EVERYTHING)
    message = str(refused.value)
    assert "wajib diberi wilayah" in message and "must name its regencies" in message
    user = service.create_user(session=db_session, username=_name("u"), password="kata-sandi-1",
                               role=role, agency_code=_agency(role),
                               kode_kabs=["51.06", "34.71"], scope=EVERYTHING)
    assert user.kode_kabs == ["34.71", "51.06"]  # a province desk: an explicit list


def test_only_an_admin_is_installation_wide(db_session: Session, pilot_regions):
    admin = service.create_user(session=db_session, username=_name("root"),
                                password="kata-sandi-1", role="admin", scope=EVERYTHING)
    assert admin.kode_kabs is None
    principal = service.resolve_token(session=db_session, token=service.issue_api_token(
        session=db_session, username=admin.username, name="t", scope=EVERYTHING).token)
    assert principal.scope.unrestricted


def test_a_regency_admin_gives_its_own_regencies_by_default(db_session: Session, pilot_regions):
    user = service.create_user(session=db_session, username=_name("u"), password="kata-sandi-1",
                               role="viewer", scope=Scope.of(["51.06"]))
    assert user.kode_kabs == ["51.06"]


def test_the_database_refuses_a_regency_less_non_admin(db_session: Session, pilot_regions):
    user = service.create_user(session=db_session, username=_name("u"), password="kata-sandi-1",
                               role="planner", kode_kabs=["34.71"], scope=EVERYTHING)
    with pytest.raises(IntegrityError, match="ck_app_user_kode_kabs_unless_admin"), \
            db_session.begin_nested():
        db_session.execute(text("UPDATE app_user SET kode_kabs = NULL WHERE id = :id"),
                           {"id": user.id})
    root = AppUser(username=_name("root"), password_hash="x", role="admin", display_name="",
                   active=True, kode_kabs=None)
    db_session.add(root)
    db_session.flush()  # an administrator may be installation-wide
    with pytest.raises(IntegrityError, match="ck_app_user_kode_kabs_unless_admin"), \
            db_session.begin_nested():
        db_session.execute(text("UPDATE app_user SET role = 'viewer' WHERE id = :id"),
                           {"id": root.id})


def test_http_refuses_a_regency_less_user_with_422(api_client, pilot_regions):
    name = _name("disp")
    r = api_client.post("/api/v1/auth/users", json={"username": name, "password": "rahasia-123",
                                                      "role": "dispatcher"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_user"
    assert "wajib diberi wilayah" in error["message"] and "must name its regencies" in \
        error["message"]
    assert name not in {u["username"] for u in api_client.get("/api/v1/auth/users").json()}
    ok = api_client.post("/api/v1/auth/users", json={"username": name, "password": "rahasia-123",
                                                       "role": "dispatcher",
                                                       "kode_kabs": ["64.71"]})
    assert ok.status_code == 201 and ok.json()["kode_kabs"] == ["64.71"], ok.text
    root = api_client.post("/api/v1/auth/users", json={
        "username": _name("root"), "password": "rahasia-123", "role": "admin"})
    assert root.status_code == 201 and root.json()["kode_kabs"] is None, root.text


def test_cli_refuses_a_regency_less_user(database_url, pilot_regions, monkeypatch):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    bad = runner.invoke(app, ["users", "add", _name("cli"), "--role", "viewer",
                              "--password", "rahasia-123"])
    assert bad.exit_code == 1
    assert "wajib diberi wilayah" in bad.output and "must name its regencies" in bad.output
    root = runner.invoke(app, ["users", "add", _name("root"), "--role", "admin",
                               "--password", "rahasia-123"])
    assert root.exit_code == 0 and "every regency" in root.output, root.output


def _users(url: str) -> dict[str, list[str] | None]:
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            return dict(conn.execute(text("SELECT username, kode_kabs FROM app_user")).all())
    finally:
        eng.dispose()


def _run(url: str, *sql: str) -> None:
    eng = create_engine(url)
    try:
        with eng.begin() as conn:
            for statement in sql:
                conn.execute(text(statement))
    finally:
        eng.dispose()


_REGION = ("INSERT INTO region (kode_kab, nama_kab, jenis, geom, dissolved, source_file, "
           "imported_at) VALUES ('{k}', 'Uji', 'kota', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, "
           "4326)), false, 'uji', now())")
_USERS = ("INSERT INTO app_user (username, display_name, password_hash, role, active, kode_kabs) "
          "VALUES ('root', '', 'x', 'admin', true, NULL), ('disp', '', 'x', 'dispatcher', true, "
          "NULL), ('prov', '', 'x', 'planner', true, '{51.06}')")


def test_migration_gives_regency_less_users_the_installation_regencies(fresh_database_url):
    from api import migrate

    migrate.downgrade(fresh_database_url, "0019_ha_partitions")
    _run(fresh_database_url, _REGION.format(k="51.06"), _REGION.format(k="34.71"), _USERS)
    migrate.upgrade(fresh_database_url)
    assert _users(fresh_database_url) == {"root": None, "disp": ["34.71", "51.06"],
                                          "prov": ["51.06"]}
    with pytest.raises(IntegrityError, match="ck_app_user_kode_kabs_unless_admin"):
        _run(fresh_database_url, "UPDATE app_user SET kode_kabs = NULL WHERE username = 'disp'")
    migrate.downgrade(fresh_database_url, "0019_ha_partitions")  # the constraint goes
    _run(fresh_database_url, "UPDATE app_user SET kode_kabs = NULL WHERE username = 'disp'")


def test_migration_removes_regency_less_users_of_an_empty_installation(fresh_database_url):
    from api import migrate

    migrate.downgrade(fresh_database_url, "0019_ha_partitions")
    _run(fresh_database_url, _USERS.replace("'{51.06}'", "NULL"))
    migrate.upgrade(fresh_database_url)
    assert _users(fresh_database_url) == {"root": None}


def test_demo_logins_are_valid_users(fresh_database_url, settings):
    """``siaga demo`` makes its logins as the rule says: the admin installation-wide, every
    other login for the pilot regencies it imports."""
    from api.commands.demo import DEMO_USERS, PILOT_FOLDERS, prepare

    cfg = settings.model_copy(update={"database_url": fresh_database_url})
    prepare(cfg, regions=True, roads=False)
    users = _users(fresh_database_url)
    assert set(DEMO_USERS) <= set(users)
    for username, (_password, role, _agency) in DEMO_USERS.items():
        assert users[username] == (None if role == "admin" else sorted(PILOT_FOLDERS)), username
