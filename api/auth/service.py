"""Users and tokens in PostGIS. Functions take ``*, session`` and never commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.exceptions import (
    InvalidCredentialsError,
    InvalidTokenError,
    InvalidUserError,
    TokenNotFoundError,
    UserExistsError,
    UserNotFoundError,
)
from api.auth.models import AppUser, AuthToken
from api.security import (
    API_TOKEN_PREFIX,
    SESSION_PREFIX,
    Principal,
    Role,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from dispatch.scope import Scope
from geo.models import Region

MIN_PASSWORD_LENGTH = 6
#: A Kemendagri kabupaten/kota code (``"51.06"``).
KODE_KAB_PATTERN = re.compile(r"^\d{2}\.\d{2}$")
#: The scope of the operator's own tools (CLI, tests): every user and token.
EVERYTHING = Scope.everything()


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed out once: the secret is never stored nor shown again."""

    token_id: int
    token: str
    kind: str
    expires_at: datetime | None


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so timing does not reveal usernames."""
    return hash_password("siaga-dummy-password")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_role(role: str, agency_code: str | None) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidUserError(f"unknown role {role!r}; use one of: {allowed}") from None
    if parsed is Role.AGENCY and not agency_code:
        raise InvalidUserError("role 'agency' needs an agency code (e.g. DAMKAR)")
    return parsed


def _check_regencies(session: Session, kode_kabs: Iterable[str] | None, role: Role,
                     scope: Scope) -> list[str] | None:
    """The sorted, known regency codes of a new user, inside the creator's ``scope``.

    ``None`` (every regency of the installation) only for an ``admin`` made by an
    installation-wide creator; a regency administrator's users default to its own regencies;
    every other user must name its regencies (a province desk: the explicit list)."""
    if kode_kabs is None:
        if scope.kode_kabs is not None:
            return sorted(scope.kode_kabs)
        if role is Role.ADMIN:
            return None
        raise InvalidUserError(
            f"Pengguna berperan {role.value!r} wajib diberi wilayah (kode_kabs, mis. 51.06; "
            "beberapa untuk provinsi); hanya admin yang boleh mencakup seluruh instalasi / "
            f"a {role.value!r} user must name its regencies (kode_kabs, e.g. 51.06; several "
            "for a province); only an admin may act for the whole installation")
    codes = sorted({k.strip() for k in kode_kabs})
    if not codes:
        raise InvalidUserError("kode_kabs wajib berisi minimal satu wilayah / kode_kabs must name "
                               "at least one regency (e.g. 51.06)")
    bad = [k for k in codes if not KODE_KAB_PATTERN.match(k)]
    if bad:
        raise InvalidUserError(f"kode wilayah tidak sah {bad} / invalid regency code(s) {bad}; "
                               "use the form 51.06")
    outside = [k for k in codes if not scope.allows(k)]
    known = set(session.scalars(select(Region.kode_kab).where(Region.kode_kab.in_(codes))))
    unknown = [k for k in codes if k not in known]
    if outside or unknown:
        wrong = sorted(set(outside + unknown))
        raise InvalidUserError(f"wilayah tidak dikenal {wrong} / unknown regency code(s) {wrong}")
    return codes


def _visible_users(scope: Scope):  # noqa: ANN202 - a SQL condition
    """Users a caller of ``scope`` may see: all, or those whose regencies lie inside it."""
    if scope.kode_kabs is None:
        return AppUser.id.is_not(None)
    return AppUser.kode_kabs.is_not(None) & AppUser.kode_kabs.contained_by(
        sorted(scope.kode_kabs))


def create_user(*, session: Session, username: str, password: str, role: str,
                agency_code: str | None = None, display_name: str = "",
                kode_kabs: Iterable[str] | None = None, scope: Scope) -> AppUser:
    """Add a user acting for ``kode_kabs`` (``None``: every regency, for an ``admin`` only and
    only from an installation-wide ``scope``; other roles must name one or more regencies);
    raises :class:`UserExistsError` / :class:`InvalidUserError`."""
    username = username.strip()
    if not username or len(username) > 64:
        raise InvalidUserError("username must be 1-64 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    parsed = _check_role(role, agency_code)
    regencies = _check_regencies(session, kode_kabs, parsed, scope)
    if session.scalar(select(AppUser.id).where(AppUser.username == username)) is not None:
        raise UserExistsError(f"user {username!r} already exists")
    user = AppUser(username=username, password_hash=hash_password(password), role=parsed.value,
                   agency_code=agency_code or None, display_name=display_name, active=True,
                   kode_kabs=regencies)
    try:
        # A concurrent creation of the same name commits first: its unique index wins here.
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == "uq_app_user_username":
            raise UserExistsError(f"user {username!r} already exists") from None
        raise InvalidUserError(f"user {username!r} refused by the database ({constraint})") \
            from None
    return user


def get_user(*, session: Session, username: str, scope: Scope) -> AppUser:
    """The user named ``username`` if ``scope`` may see it, else :class:`UserNotFoundError`."""
    user = session.scalar(select(AppUser).where(AppUser.username == username,
                                                _visible_users(scope)))
    if user is None:
        raise UserNotFoundError(f"no user {username!r}")
    return user


def list_users(*, session: Session, scope: Scope) -> list[AppUser]:
    """Users ``scope`` may see (a regency administrator: those inside its regencies)."""
    return list(session.scalars(select(AppUser).where(_visible_users(scope))
                                .order_by(AppUser.username)))


def set_password(*, session: Session, username: str, password: str, scope: Scope) -> None:
    """A new password for a user ``scope`` may see, else :class:`UserNotFoundError`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    get_user(session=session, username=username, scope=scope).password_hash = \
        hash_password(password)


def set_active(*, session: Session, username: str, active: bool, scope: Scope) -> None:
    """Enable or disable a user ``scope`` may see; disabling revokes every token of the user."""
    user = get_user(session=session, username=username, scope=scope)
    user.active = active
    if not active:
        session.execute(update(AuthToken).where(AuthToken.user_id == user.id,
                                                AuthToken.revoked_at.is_(None))
                        .values(revoked_at=_now()))


def authenticate(*, session: Session, username: str, password: str) -> AppUser:
    """The active user with these credentials, else :class:`InvalidCredentialsError`."""
    user = session.scalar(select(AppUser).where(AppUser.username == username.strip()))
    if user is None:
        verify_password(_dummy_hash(), password)
        raise InvalidCredentialsError("nama pengguna atau kata sandi salah")
    if not verify_password(user.password_hash, password) or not user.active:
        raise InvalidCredentialsError("nama pengguna atau kata sandi salah")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _issue(session: Session, user: AppUser, kind: str, prefix: str, name: str,
           ttl_s: int | None) -> IssuedToken:
    token = new_token(prefix)
    expires = _now() + timedelta(seconds=ttl_s) if ttl_s else None
    row = AuthToken(user_id=user.id, kind=kind, token_hash=token_digest(token), name=name,
                    expires_at=expires)
    session.add(row)
    session.flush()
    return IssuedToken(token_id=row.id, token=token, kind=kind, expires_at=expires)


def start_session(*, session: Session, user: AppUser, ttl_s: int) -> IssuedToken:
    """A browser login session expiring after ``ttl_s`` seconds."""
    return _issue(session, user, "session", SESSION_PREFIX, "login", ttl_s)


def issue_api_token(*, session: Session, username: str, name: str,
                    ttl_s: int | None = None, scope: Scope) -> IssuedToken:
    """A revocable API token for a machine client (no expiry unless ``ttl_s``); the user must
    be visible to ``scope``."""
    user = get_user(session=session, username=username, scope=scope)
    return _issue(session, user, "api", API_TOKEN_PREFIX, name or "api", ttl_s)


def resolve_token(*, session: Session, token: str, now: datetime | None = None) -> Principal:
    """The principal behind a session or API token, else :class:`InvalidTokenError`."""
    now = now or _now()
    row = session.execute(
        select(AuthToken, AppUser).join(AppUser, AppUser.id == AuthToken.user_id)
        .where(AuthToken.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise InvalidTokenError("token tidak dikenal / unknown token")
    tok, user = row
    if tok.revoked_at is not None:
        raise InvalidTokenError("token sudah dicabut / token revoked")
    if tok.expires_at is not None and tok.expires_at <= now:
        raise InvalidTokenError("sesi kedaluwarsa / session expired")
    if not user.active:
        raise InvalidTokenError("pengguna nonaktif / user disabled")
    return Principal(user_id=user.id, username=user.username, role=Role(user.role),
                     agency_code=user.agency_code, token_id=tok.id,
                     kode_kabs=None if user.kode_kabs is None else frozenset(user.kode_kabs),
                     expires_at=tok.expires_at)


def revoke_token(*, session: Session, token_id: int, scope: Scope) -> None:
    """Revoke a token of a user ``scope`` may see, else :class:`TokenNotFoundError`."""
    tok = session.scalar(select(AuthToken).join(AppUser, AppUser.id == AuthToken.user_id)
                         .where(AuthToken.id == token_id, _visible_users(scope)))
    if tok is None:
        raise TokenNotFoundError(f"no token with id {token_id}")
    if tok.revoked_at is None:
        tok.revoked_at = _now()


def list_tokens(*, session: Session, username: str | None = None,
                scope: Scope) -> list[tuple[AuthToken, str]]:
    """Tokens (never their secrets) of users ``scope`` may see, with the owner's username,
    newest first."""
    stmt = (select(AuthToken, AppUser.username).join(AppUser, AppUser.id == AuthToken.user_id)
            .where(_visible_users(scope)).order_by(AuthToken.id.desc()))
    if username:
        stmt = stmt.where(AppUser.username == username)
    return [(t, u) for t, u in session.execute(stmt).all()]
