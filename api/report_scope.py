"""The caller's tenancy scope for the report and CAP routes."""

from __future__ import annotations

from fastapi import Request

from dispatch.scope import Scope


def caller_scope(request: Request) -> Scope:
    """The logged-in caller's :class:`Scope`; nothing at all when no one is logged in (every
    report route requires a login, so that only happens if a rule is misconfigured)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return Scope(frozenset())
    return principal.scope
