"""``siaga db``: schema migrations."""

from __future__ import annotations

import typer

from api import migrate
from api.commands._common import settings

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(settings().database_url, revision)
    typer.echo(f"database upgraded to {revision}")
