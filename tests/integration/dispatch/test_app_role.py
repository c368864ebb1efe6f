"""The application's database role owns nothing: connected as that role, every way of changing
or switching off the audit log is refused, while the application's own work still succeeds
(also on a table created by a migration after 0010, through default privileges).

Runs on a database of its own (``$SIAGA_TEST_DB`` + ``_approle``), migrated by the owner role.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.audit_chain_service import verify_chain
from dispatch.models import AuditChain
from dispatch.scope import Scope
from tests.conftest import create_database, service_missing

APP_ROLE = os.environ.get("SIAGA_APP_ROLE", "siaga_app")


@pytest.fixture(scope="module")
def owner_url(settings) -> str:
    return create_database(settings, os.environ.get("SIAGA_TEST_DB", "siaga_test") + "_approle")


@pytest.fixture(scope="module")
def engines(owner_url, settings):
    """(owner engine, application-role engine) on the module's database."""
    from api.db import make_engine

    owner = make_engine(owner_url)
    with owner.begin() as conn:
        # scripts/services.sh gives the role LOGIN; do it here too for an older cluster.
        conn.execute(text(f'ALTER ROLE "{APP_ROLE}" LOGIN'))
    configured = make_url(settings.database_url)
    app_url = make_url(owner_url).set(username=APP_ROLE, password=(
        configured.password if configured.username == APP_ROLE else None))
    app = make_engine(app_url.render_as_string(hide_password=False))
    try:
        with app.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        service_missing(f"cannot connect as the application role {APP_ROLE}: {exc}")
    yield owner, app
    app.dispose()
    owner.dispose()


REFUSED = [
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "UPDATE audit_chain SET entry_hash = 'x'",
    "DELETE FROM audit_chain",
    "TRUNCATE audit_chain",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "ALTER TABLE audit_chain DISABLE TRIGGER USER",
    "ALTER TABLE audit_log ADD COLUMN note text",
    "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    "DROP TRIGGER audit_log_no_truncate ON audit_log",
    "DROP TABLE audit_chain",
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NEW; END $$",
    "SET session_replication_role = replica",
    "CREATE TABLE public.shadow_log (id int)",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_application_role_cannot_change_or_disable_the_audit_log(engines, sql):
    owner, app = engines
    with Session(owner) as s:  # something to update or delete
        audit.record(s, actor="owner", at=datetime.now(UTC), entity="t", entity_id=1,
                     action="seed")
        s.commit()
    with app.connect() as conn, pytest.raises(ProgrammingError) as refused:
        conn.execute(text(sql))
    assert refused.value.orig.sqlstate == "42501", refused.value  # insufficient_privilege


def test_application_role_owns_nothing(engines):
    owner, _ = engines
    with owner.connect() as conn:
        owned = conn.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = :role"), {"role": APP_ROLE}).scalar()
        attrs = conn.execute(text("SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
                                  "FROM pg_roles WHERE rolname = :role"),
                             {"role": APP_ROLE}).one()
    assert owned == 0 and tuple(attrs) == (False, False, False, False)


def test_application_role_does_its_work_and_extends_the_chain(engines):
    _, app = engines
    with Session(app) as s:
        before = verify_chain(s, scope=Scope.everything())
        audit.record(s, actor="app", at=datetime.now(UTC), entity="t", entity_id=2,
                     action="app_write", after={"ok": True})
        s.commit()
        after = verify_chain(s, scope=Scope.everything())
        assert after.ok and after.links == before.links + 1
        assert s.scalar(select(AuditChain.seq).order_by(AuditChain.seq.desc()).limit(1)) == \
            after.head_seq
    with app.begin() as conn:
        # An ordinary table is writable, and one created by a later migration (0011) too.
        conn.execute(text("UPDATE assignment SET eta_s = eta_s WHERE false"))
        conn.execute(text("SELECT count(*) FROM exercise"))
        conn.execute(text("CREATE TEMP TABLE scratch (id int)"))


def test_db_app_role_command_creates_a_login_role_that_owns_nothing(engines, owner_url):
    from typer.testing import CliRunner

    from api.cli import app as cli_app

    owner, _ = engines
    role = "siaga_app_cmd_test"
    env = {"SIAGA_DATABASE_URL": owner_url, "SIAGA_MIGRATE_DATABASE_URL": "",
           "SIAGA_APP_ROLE": role, "SIAGA_APP_DB_PASSWORD": "s3cret'\"; DROP ROLE siaga"}
    try:
        for _ in range(2):  # idempotent
            r = CliRunner().invoke(cli_app, ["db", "app-role"], env=env, catch_exceptions=False)
            assert r.exit_code == 0 and role in r.output
        with owner.connect() as conn:
            row = conn.execute(text(
                "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolpassword IS NOT NULL"
                " FROM pg_authid WHERE rolname = :r"), {"r": role}).one()
        assert tuple(row) == (True, False, False, False, True)
    finally:
        with owner.begin() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_application_role_stores_fixes_of_a_new_day(engines):
    """The ingest worker, as the application role, creates a day's position partition through
    the owner's SECURITY DEFINER function; the partition belongs to the owner."""
    from datetime import timedelta

    from tests.fixtures.dispatch import make_fix, store_fixes

    owner, app = engines
    day = datetime(2031, 1, 5, 8, 0, tzinfo=UTC)
    with Session(app) as s:
        store_fixes(s, [make_fix("approle-dev", day + timedelta(seconds=n), 110.37, -7.79,
                                 seq=n) for n in range(3)])
        s.commit()
    with owner.connect() as conn:
        row = conn.execute(text(
            "SELECT r.rolname, (SELECT count(*) FROM position_p20310105) FROM pg_class c "
            "JOIN pg_roles r ON r.oid = c.relowner WHERE c.relname = 'position_p20310105'")).one()
    assert row[0] != APP_ROLE and row[1] == 3
