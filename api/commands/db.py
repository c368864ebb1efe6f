"""``siaga db``: schema migrations."""

from __future__ import annotations

import typer

from api import migrate
from api.commands._common import settings

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head), as the owner role
    (SIAGA_MIGRATE_DATABASE_URL; the application's role owns nothing)."""
    migrate.upgrade(settings().owner_database_url, revision)
    typer.echo(f"database upgraded to {revision}")
