"""Roles, the authenticated principal, password hashing and opaque tokens.

Passwords are hashed with Argon2id (argon2-cffi). Session and API tokens are opaque random
strings (256 bits); the database stores only their SHA-256, so a copy of the database does not
let anyone log in. Handlers get the caller with the :func:`current_principal` dependency.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException
from starlette.requests import HTTPConnection

from dispatch.scope import Scope

#: Name of the session cookie set at login.
SESSION_COOKIE = "siaga_session"
#: Prefixes make leaked tokens recognisable by secret scanners.
SESSION_PREFIX = "sgs_"
API_TOKEN_PREFIX = "sgt_"


class Role(StrEnum):
    """What a user may do; see ``api.permissions`` for the route table."""

    DISPATCHER = "dispatcher"  # 112 call takers / dispatchers: all incidents, full caller numbers
    AGENCY = "agency"  # an OPD's standby desk: its own assignments
    PLANNER = "planner"  # BPBD / planners: analytics, masked callers
    VIEWER = "viewer"  # Bupati's office: maps and reports only
    ADMIN = "admin"  # user management and everything else


ALL_ROLES: frozenset[Role] = frozenset(Role)
#: Roles that see full caller phone numbers.
REVEAL_CALLER_ROLES: frozenset[Role] = frozenset({Role.DISPATCHER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request.

    Attributes
    ----------
    user_id, username, role
        Who is calling.
    agency_code
        The agency (OPD) an ``agency`` user acts for, ``None`` for other roles.
    token_id
        The session or API token used (for logout and audit).
    kode_kabs
        The regencies the user acts for, ``None`` for every regency of the installation; read
        from the user (or the principal cache, cleared on every change: ``api.principal_cache``),
        so tokens and sessions follow a change at once.
    expires_at
        When the token used expires (``None``: it does not).
    """

    user_id: int
    username: str
    role: Role
    agency_code: str | None = None
    token_id: int | None = None
    kode_kabs: frozenset[str] | None = None
    expires_at: datetime | None = None

    @property
    def scope(self) -> Scope:
        """What this user may see and change: its regencies and, for an agency desk, its
        agency (every service-layer read and write filters by it)."""
        return Scope(self.kode_kabs,
                     self.agency_code if self.role is Role.AGENCY else None)

    @property
    def reveal_caller(self) -> bool:
        """Whether this user may see full caller phone numbers."""
        return self.role in REVEAL_CALLER_ROLES

    @property
    def actor(self) -> str:
        """The name written into audit entries."""
        return self.username


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (salted, PHC string)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong or malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_token(prefix: str) -> str:
    """A fresh opaque token: ``prefix`` + 43 URL-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_from_connection(conn: HTTPConnection) -> str | None:
    """The bearer token, session cookie, or (WebSocket only) ``?token=`` of a request."""
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    if conn.scope.get("type") == "websocket":
        return conn.query_params.get("token") or None
    return None


def current_principal(conn: HTTPConnection) -> Principal:
    """FastAPI dependency: the authenticated user (set by the global permission check)."""
    principal = getattr(conn.state, "principal", None)
    if principal is None:
        raise HTTPException(401, "Perlu login / authentication required",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def optional_principal(conn: HTTPConnection) -> Principal | None:
    """FastAPI dependency: the authenticated user, or ``None`` on public routes."""
    return getattr(conn.state, "principal", None)
