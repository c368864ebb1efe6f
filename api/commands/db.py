"""``siaga db``: schema migrations (as the owner role) and the application's role."""

from __future__ import annotations

import os

import typer

from api import migrate
from api.commands._common import fail, settings

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head), as the owner role
    (SIAGA_MIGRATE_DATABASE_URL; the application's role owns nothing)."""
    migrate.upgrade(settings().owner_database_url, revision)
    typer.echo(f"database upgraded to {revision}")


@app.command("app-role")
def app_role(
    role: str = typer.Option("siaga_app", envvar="SIAGA_APP_ROLE",
                             help="Name of the application's role."),
) -> None:
    """Create or update the application's role as the owner: LOGIN, no superuser, no CREATEDB,
    no CREATEROLE, owning nothing; password from SIAGA_APP_DB_PASSWORD (unset: none, for
    trust/peer authentication). Run it before 'siaga db upgrade', which grants the privileges."""
    from psycopg import sql

    from api.db import make_engine

    if not role.replace("_", "").isalnum():
        fail(f"nama peran tidak sah / invalid role name: {role!r}")
    password = os.environ.get("SIAGA_APP_DB_PASSWORD") or None
    engine = make_engine(settings().owner_database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(
                f'DO $$ BEGIN CREATE ROLE "{role}"; EXCEPTION WHEN duplicate_object '
                "OR unique_violation THEN NULL; END $$")
            raw = conn.connection.driver_connection
            stmt = sql.SQL("ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                           "NOBYPASSRLS PASSWORD {}").format(sql.Identifier(role),
                                                             sql.Literal(password))
            conn.exec_driver_sql(stmt.as_string(raw))
    finally:
        engine.dispose()
    typer.echo(f"application role {role} ready (login, owns nothing)")
