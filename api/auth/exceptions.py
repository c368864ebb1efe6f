"""Errors of authentication and user management.

Hierarchy::

    AuthError
    ├── InvalidCredentialsError   wrong username/password, or inactive user
    ├── InvalidTokenError         unknown, expired or revoked session/API token
    ├── UserExistsError           a username is already taken
    ├── UserNotFoundError         no such user
    ├── TokenNotFoundError        no such token
    └── InvalidUserError          a role or agency binding that makes no sense
"""

from __future__ import annotations


class AuthError(Exception):
    """Base class of authentication and user-management errors."""


class InvalidCredentialsError(AuthError):
    """Wrong username or password (the message never says which)."""


class InvalidTokenError(AuthError):
    """The token is unknown, expired or revoked."""


class UserExistsError(AuthError):
    """The username is already taken."""


class UserNotFoundError(AuthError):
    """No user with that name or id."""


class TokenNotFoundError(AuthError):
    """No token with that id."""


class InvalidUserError(AuthError):
    """An invalid role, or an agency user without an agency code (or the reverse)."""
