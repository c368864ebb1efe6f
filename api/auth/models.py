"""ORM models of users and their tokens (sessions and API tokens), on the shared ``Base``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo.db import Base


class AppUser(Base):
    """A person or machine client allowed to use Siaga, with one role."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("kode_kabs IS NULL OR cardinality(kode_kabs) > 0",
                                      name="kode_kabs_not_empty"),
                      # Only an administrator acts for the whole installation (0020).
                      CheckConstraint("role = 'admin' OR kode_kabs IS NOT NULL",
                                      name="kode_kabs_unless_admin"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: Agency (OPD) code the user acts for; required for role ``agency``, else optional.
    agency_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: Regencies (kabupaten/kota codes) the user acts for; ``None``: every regency of the
    #: installation (``admin`` only; revisions ``0007_tenancy``, ``0020_registry_tenancy``).
    kode_kabs: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuthToken(Base):
    """A login session or an API token; only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    #: ``session`` (browser login) or ``api`` (machine client).
    kind: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginThrottle(Base):
    """Failed-login counter of one key (see ``api.auth.throttle`` for the rules)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
