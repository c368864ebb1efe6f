"""Login, logout, the current user, users and API tokens (admin)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.auth import service, throttle, throttle_service
from api.auth.exceptions import InvalidCredentialsError
from api.db import unit_of_work
from api.deps import get_session, get_state
from api.errors import ErrorResponse
from api.security import SESSION_COOKIE, Principal, Role, current_principal
from api.state import AppState
from dispatch.schemas import TimestampOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


KodeKab = Annotated[str, Field(pattern=r"^\d{2}\.\d{2}$")]


class UserOut(BaseModel):
    username: str
    role: Role
    agency_code: str | None = None
    display_name: str = ""
    active: bool = True
    #: Regencies the user acts for; ``null``: every regency of the installation.
    kode_kabs: list[str] | None = None


class MeOut(BaseModel):
    username: str
    role: Role
    agency_code: str | None
    reveal_caller: bool
    kode_kabs: list[str] | None = None


class LoginOut(BaseModel):
    token: str
    expires_at: TimestampOut | None
    user: MeOut


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=6, max_length=1024)
    role: Role
    agency_code: str | None = Field(default=None, max_length=32)
    display_name: str = Field(default="", max_length=200)
    kode_kabs: list[KodeKab] | None = Field(
        default=None, min_length=1, max_length=100,
        description="Regencies the user acts for (e.g. ['51.06']); omitted: the creating "
                    "admin's regencies (every regency for an installation administrator).")


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    ttl_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    username: str
    kind: str
    name: str
    created_at: TimestampOut | None
    expires_at: TimestampOut | None
    revoked_at: TimestampOut | None


class StatusOut(BaseModel):
    status: Literal["logged_out"]


class RevokedOut(BaseModel):
    status: Literal["revoked"]
    id: int


class IssuedTokenOut(BaseModel):
    id: int
    token: str
    expires_at: TimestampOut | None


def _me(p: Principal) -> MeOut:
    return MeOut(username=p.username, role=p.role, agency_code=p.agency_code,
                 reveal_caller=p.reveal_caller,
                 kode_kabs=None if p.kode_kabs is None else sorted(p.kode_kabs))


def _user_out(u: Any) -> UserOut:
    return UserOut(username=u.username, role=Role(u.role), agency_code=u.agency_code,
                   display_name=u.display_name, active=u.active, kode_kabs=u.kode_kabs)


@router.post("/login", responses={429: {"model": ErrorResponse}})
def login(body: LoginIn, request: Request, response: Response,
          state: AppState = Depends(get_state)) -> LoginOut:
    """Log in with username and password; sets the session cookie and returns the token.

    Failed logins are throttled per (account, address) and per address (``api.auth.throttle``).
    """
    address = request.client.host if request.client else "unknown"
    user_key = throttle.account_key(body.username, address)
    # (account+address, address) policies; a deployment or a test may set its own
    account_policy, address_policy = state.login_throttles.account, state.login_throttles.address
    policies = {user_key: account_policy, throttle.address_key(address): address_policy}
    now = datetime.now(UTC)
    ttl_s = state.settings.session_ttl_s
    with unit_of_work(state.sessionmaker) as session:
        # The keys stay locked until the commit: parallel guesses take turns and all count.
        counters = throttle_service.lock(session=session, keys=list(policies))
        wait_s = max(throttle.retry_after_s(c, now) for c in counters.values())
        if wait_s <= 0:
            try:
                user = service.authenticate(session=session, username=body.username,
                                            password=body.password)
            except InvalidCredentialsError:
                throttle_service.record_failure(session=session, policies=policies, now=now)
                user = None
            else:
                throttle_service.reset(session=session, key=user_key)
                issued = service.start_session(session=session, user=user, ttl_s=ttl_s)
    if wait_s > 0:
        raise HTTPException(429, "Terlalu banyak percobaan login; coba lagi nanti / too many "
                            "failed logins, try again later",
                            headers={"Retry-After": str(math.ceil(wait_s))})
    if user is None:
        raise InvalidCredentialsError("nama pengguna atau kata sandi salah / "
                                      "wrong username or password")
    response.set_cookie(SESSION_COOKIE, issued.token, max_age=ttl_s, httponly=True,
                        samesite="strict", path="/",
                        secure=request.url.scheme == "https"
                        or request.headers.get("x-forwarded-proto") == "https")
    me = MeOut(username=user.username, role=Role(user.role), agency_code=user.agency_code,
               reveal_caller=Role(user.role) in (Role.DISPATCHER, Role.ADMIN),
               kode_kabs=user.kode_kabs)
    return LoginOut(token=issued.token, expires_at=issued.expires_at, user=me)


@router.post("/logout")
def logout(response: Response, principal: Principal = Depends(current_principal),
           session: Session = Depends(get_session)) -> StatusOut:
    """End the current session (revokes the token used for this request)."""
    if principal.token_id is not None:
        service.revoke_token(session=session, token_id=principal.token_id,
                             scope=principal.scope)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return StatusOut(status="logged_out")


@router.get("/me")
def me(principal: Principal = Depends(current_principal)) -> MeOut:
    """The logged-in user and role."""
    return _me(principal)


@router.get("/users")
def list_users(principal: Principal = Depends(current_principal),
               session: Session = Depends(get_session)) -> list[UserOut]:
    """Users inside the admin's regencies (every user for an installation administrator)."""
    return [_user_out(u) for u in service.list_users(session=session, scope=principal.scope)]


@router.post("/users", status_code=201)
def add_user(body: UserIn, principal: Principal = Depends(current_principal),
             session: Session = Depends(get_session)) -> UserOut:
    """Create a user acting for regencies inside the admin's own (admin)."""
    user = service.create_user(session=session, username=body.username, password=body.password,
                               role=body.role.value, agency_code=body.agency_code,
                               display_name=body.display_name, kode_kabs=body.kode_kabs,
                               scope=principal.scope)
    return _user_out(user)


@router.get("/tokens")
def list_tokens(username: str | None = Query(None, min_length=1, max_length=64),
                principal: Principal = Depends(current_principal),
                session: Session = Depends(get_session)) -> list[TokenOut]:
    """Sessions and API tokens of users inside the admin's regencies, never their secrets."""
    return [TokenOut(id=t.id, username=u, kind=t.kind, name=t.name, created_at=t.created_at,
                     expires_at=t.expires_at, revoked_at=t.revoked_at)
            for t, u in service.list_tokens(session=session, username=username,
                                            scope=principal.scope)]


@router.post("/tokens", status_code=201)
def issue_token(body: TokenIn, principal: Principal = Depends(current_principal),
                session: Session = Depends(get_session)) -> IssuedTokenOut:
    """Issue an API token for a machine client; the secret is shown only once (admin)."""
    issued = service.issue_api_token(session=session, username=body.username, name=body.name,
                                     ttl_s=body.ttl_days * 86400 if body.ttl_days else None,
                                     scope=principal.scope)
    return IssuedTokenOut(id=issued.token_id, token=issued.token, expires_at=issued.expires_at)


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                 principal: Principal = Depends(current_principal),
                 session: Session = Depends(get_session)) -> RevokedOut:
    """Revoke a session or API token of a user inside the admin's regencies (admin)."""
    service.revoke_token(session=session, token_id=token_id, scope=principal.scope)
    return RevokedOut(status="revoked", id=token_id)
