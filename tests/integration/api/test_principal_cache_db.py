"""The principal cache against a real PostgreSQL and a real uvicorn server: a token is looked
up once, and any change of tokens or users — through this API, or behind its back in another
session (the CLI, another instance, SQL) — is refused at once or as soon as PostgreSQL delivers
the notification; while the listener is down, nothing is cached."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from api.auth import service
from api.auth.models import AppUser, AuthToken
from api.security import token_digest
from dispatch.scoping import EVERYTHING
from tests.fixtures.api import once_notified
from tests.integration.api.live_server import serve


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def served(app_factory, role_tokens) -> Iterator[tuple[httpx.Client, object]]:
    app = app_factory()
    app.state.siaga.publish_events = lambda events: None
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as c:
        state = app.state.siaga
        listener = state.running.auth_listener
        assert listener is not None and listener.listening.wait(10), "listener not listening"
        yield c, state


def fresh_token(engine, username: str = "test_dispatcher") -> tuple[str, int]:
    with Session(engine) as s:
        issued = service.issue_api_token(session=s, username=username, name="cache",
                                         scope=EVERYTHING)
        s.commit()
    return issued.token, issued.token_id


def test_a_token_is_looked_up_once_then_served_from_the_cache(served, engine):
    c, state = served
    token, _ = fresh_token(engine)
    for _ in range(20):
        assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    cache = state.principal_cache
    assert cache.enabled and cache.get(token_digest(token), _now()) is not None
    assert cache.hits >= 19


def test_revocation_through_this_api_applies_before_its_response(served, engine, role_tokens):
    c, state = served
    admin = bearer(role_tokens["admin"])
    for _ in range(10):
        token, token_id = fresh_token(engine)
        assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
        assert state.principal_cache.get(token_digest(token), _now()) is not None  # cached
        assert c.delete(f"/api/v1/auth/tokens/{token_id}", headers=admin).status_code == 200
        assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
        # and logout: the session's own token
    token, _ = fresh_token(engine)
    assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert c.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 200
    assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("change", ["revoke", "disable_user", "delete_token", "role"])
def test_a_change_made_in_another_session_reaches_the_cache(served, engine, change):
    """As the CLI or another API instance would: plain SQL in another connection."""
    c, _ = served
    username = "test_cache_victim"
    with Session(engine) as s:
        if s.scalar(select(AppUser.id).where(AppUser.username == username)) is None:
            service.create_user(session=s, username=username, password="cache-pass-123",
                                role="dispatcher", kode_kabs=["34.71"], scope=EVERYTHING)
        s.execute(update(AppUser).where(AppUser.username == username)
                  .values(active=True, role="dispatcher"))
        s.commit()
    token, token_id = fresh_token(engine, username)
    def me() -> httpx.Response:
        return c.get("/api/v1/auth/me", headers=bearer(token))

    first = me()
    assert first.status_code == 200 and first.json()["role"] == "dispatcher"
    with Session(engine) as s:
        if change == "revoke":
            s.execute(update(AuthToken).where(AuthToken.id == token_id)
                      .values(revoked_at=text("now()")))
        elif change == "disable_user":
            s.execute(update(AppUser).where(AppUser.username == username).values(active=False))
        elif change == "delete_token":
            s.execute(text("DELETE FROM auth_token WHERE id = :i"), {"i": token_id})
        else:
            s.execute(update(AppUser).where(AppUser.username == username)
                      .values(role="viewer"))
        s.commit()
    if change == "role":
        once_notified(me, lambda r: r.json()["role"] == "viewer", "a role change")
    else:
        once_notified(me, lambda r: r.status_code == 401, f"a token after {change}")


def test_while_the_listener_is_down_nothing_is_cached(served, engine):
    """Its connection killed by the server: the cache goes off at once (every request reads
    the database, so a revocation in that window applies immediately), and comes back empty
    once the listener is listening again."""
    c, state = served
    listener, cache = state.running.auth_listener, state.principal_cache
    token, token_id = fresh_token(engine)
    assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    pid = listener.backend_pid
    with Session(engine) as s:
        s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        s.commit()
    deadline = time.monotonic() + 5
    while cache.enabled and time.monotonic() < deadline:
        time.sleep(0.01)
    # It may already have reconnected (it retries after 0.5 s): then it is a new connection.
    assert not cache.enabled or listener.backend_pid != pid
    assert cache.get(token_digest(token), _now()) is None
    with Session(engine) as s:
        s.execute(update(AuthToken).where(AuthToken.id == token_id)
                  .values(revoked_at=text("now()")))
        s.commit()
    assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert listener.listening.wait(10) and cache.enabled
    other, _ = fresh_token(engine)
    assert c.get("/api/v1/auth/me", headers=bearer(other)).status_code == 200
    assert cache.get(token_digest(other), _now()) is not None


def _now() -> datetime:
    return datetime.now(UTC)
