"""``siaga users``: add and list users, issue and revoke API tokens."""

from __future__ import annotations

import typer

from api.commands._common import fail, print_json, session_scope
from dispatch.scoping import EVERYTHING

app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., help="dispatcher | agency | planner | viewer | admin"),
    agency: str = typer.Option(None, help="Agency (OPD) code; required for role agency."),
    password: str = typer.Option(None, help="Password (prompted when omitted)."),
    display_name: str = typer.Option("", help="Full name shown in the console."),
    kab: list[str] = typer.Option(None, "--kab", help="Regency (kabupaten/kota) code the user "
                                  "acts for, e.g. 51.06; repeat for several (a province "
                                  "desk). Required, except for role admin (omitted: every "
                                  "regency of the installation)."),
) -> None:
    """Create a user with a role and the regencies it acts for."""
    from api.auth import service
    from api.auth.exceptions import AuthError

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            user = service.create_user(session=session, username=username, password=password,
                                       role=role, agency_code=agency, display_name=display_name,
                                       kode_kabs=kab or None, scope=EVERYTHING)
            where = ", ".join(user.kode_kabs) if user.kode_kabs else "every regency"
            typer.echo(f"user {user.username} ({user.role}) created for {where}")
    except AuthError as exc:
        fail(str(exc))


@app.command("list")
def list_users() -> None:
    """List users with role and agency."""
    from api.auth import service

    with session_scope() as session:
        print_json([{"username": u.username, "role": u.role, "agency_code": u.agency_code,
                     "kode_kabs": u.kode_kabs, "active": u.active,
                     "created_at": u.created_at}
                    for u in service.list_users(session=session, scope=EVERYTHING)])


@app.command("token")
def token(
    username: str = typer.Argument(..., help="User the token acts as."),
    name: str = typer.Option(..., help="What the token is for (e.g. 'sms-gateway')."),
    ttl_days: int = typer.Option(None, help="Expire after this many days (default: never)."),
) -> None:
    """Issue an API token; the secret is printed once and never stored."""
    from api.auth import service
    from api.auth.exceptions import AuthError

    try:
        with session_scope() as session:
            issued = service.issue_api_token(session=session, username=username, name=name,
                                             ttl_s=ttl_days * 86400 if ttl_days else None,
                                             scope=EVERYTHING)
            print_json({"id": issued.token_id, "token": issued.token,
                        "expires_at": issued.expires_at})
    except AuthError as exc:
        fail(str(exc))


@app.command("tokens")
def tokens(username: str = typer.Argument(None, help="Only this user's tokens.")) -> None:
    """List sessions and API tokens (never their secrets)."""
    from api.auth import service

    with session_scope() as session:
        print_json([{"id": t.id, "username": u, "kind": t.kind, "name": t.name,
                     "created_at": t.created_at, "expires_at": t.expires_at,
                     "revoked_at": t.revoked_at}
                    for t, u in service.list_tokens(session=session, username=username,
                                                         scope=EVERYTHING)])


@app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="Token id ('siaga users tokens').")) -> None:
    """Revoke a session or API token."""
    from api.auth import service
    from api.auth.exceptions import AuthError

    try:
        with session_scope() as session:
            service.revoke_token(session=session, token_id=token_id, scope=EVERYTHING)
            typer.echo(f"token {token_id} revoked")
    except AuthError as exc:
        fail(str(exc))


@app.command("disable")
def disable(username: str = typer.Argument(...)) -> None:
    """Disable a user and revoke all of their tokens."""
    from api.auth import service
    from api.auth.exceptions import AuthError

    try:
        with session_scope() as session:
            service.set_active(session=session, username=username, active=False,
                               scope=EVERYTHING)
            typer.echo(f"user {username} disabled")
    except AuthError as exc:
        fail(str(exc))
