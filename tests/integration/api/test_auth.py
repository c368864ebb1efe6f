"""Login sessions, expiry, logout, API tokens and the ``siaga users`` commands (real PostGIS)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.auth import service
from api.auth.exceptions import InvalidTokenError, InvalidUserError, UserExistsError
from api.security import SESSION_COOKIE, Role, verify_password
from api.services import LoginThrottles
from dispatch.privacy import mask_phone
from dispatch.scoping import EVERYTHING
from tests.fixtures.console import TEST_PASSWORD, ensure_user


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_login_sets_a_session_cookie_and_logout_ends_it(app_factory, engine, pilot_regions):
    username = _name("disp")
    ensure_user(engine, username, "dispatcher", kode_kabs=["34.71"])
    with TestClient(app_factory()) as client:
        assert client.get("/api/v1/auth/me").status_code == 401
        wrong = client.post("/api/v1/auth/login", json={"username": username, "password": "x"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_credentials"
        ok = client.post("/api/v1/auth/login",
                         json={"username": username, "password": TEST_PASSWORD})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["user"] == {"username": username, "role": "dispatcher", "agency_code": None,
                                "reveal_caller": True, "kode_kabs": ["34.71"]}
        cookie = ok.headers["set-cookie"]
        assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert client.get("/api/v1/auth/me").json()["username"] == username  # via the cookie
        # a same-origin browser sends its Origin with every write
        assert client.post("/api/v1/auth/logout",
                           headers={"Origin": "http://testserver"}).status_code == 200
        client.cookies.clear()
        again = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
        assert again.status_code == 401  # the session token was revoked server-side


def test_passwords_and_tokens_are_stored_hashed(db_session: Session, pilot_regions):
    user = service.create_user(session=db_session, username=_name("u"), password="kata-sandi-1",
                               role="planner", kode_kabs=["34.71"], scope=EVERYTHING)
    assert "kata-sandi-1" not in user.password_hash and user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "kata-sandi-1")
    issued = service.start_session(session=db_session, user=user, ttl_s=60)
    from api.auth.models import AuthToken

    row = db_session.get(AuthToken, issued.token_id)
    assert row.token_hash != issued.token and len(row.token_hash) == 64


def test_sessions_expire(db_session: Session, pilot_regions):
    user = service.create_user(session=db_session, username=_name("u"), password="kata-sandi-1",
                               role="viewer", kode_kabs=["51.06"], scope=EVERYTHING)
    issued = service.start_session(session=db_session, user=user, ttl_s=60)
    p = service.resolve_token(session=db_session, token=issued.token)
    assert p.role is Role.VIEWER and not p.reveal_caller
    later = datetime.now(UTC) + timedelta(seconds=61)
    with pytest.raises(InvalidTokenError, match="expired"):
        service.resolve_token(session=db_session, token=issued.token, now=later)


def test_disabling_a_user_revokes_their_tokens(db_session: Session):
    name = _name("u")
    service.create_user(session=db_session, username=name, password="kata-sandi-1", role="admin",
                        scope=EVERYTHING)
    issued = service.issue_api_token(session=db_session, username=name, name="integration",
                                     scope=EVERYTHING)
    service.set_active(session=db_session, username=name, active=False, scope=EVERYTHING)
    with pytest.raises(InvalidTokenError):
        service.resolve_token(session=db_session, token=issued.token)


def test_bad_users_are_refused(db_session: Session, pilot_regions):
    with pytest.raises(InvalidUserError, match="agency code"):
        service.create_user(session=db_session, username=_name("a"), password="kata-sandi-1",
                            role="agency", scope=EVERYTHING)
    with pytest.raises(InvalidUserError, match="unknown role"):
        service.create_user(session=db_session, username=_name("a"), password="kata-sandi-1",
                            role="bupati", scope=EVERYTHING)
    name = _name("a")
    service.create_user(session=db_session, username=name, password="kata-sandi-1",
                        role="agency", agency_code="BPBD", kode_kabs=["51.06"], scope=EVERYTHING)
    with pytest.raises(UserExistsError):
        service.create_user(session=db_session, username=name, password="kata-sandi-1",
                            role="viewer", kode_kabs=["51.06"], scope=EVERYTHING)


def test_admin_api_manages_users_and_tokens(api_client, client_as):
    name = _name("opd")
    r = api_client.post("/api/v1/auth/users", json={"username": name, "password": "rahasia-123",
                                                      "role": "agency", "agency_code": "BPBD",
                                                      "kode_kabs": ["51.06"]})
    assert r.status_code == 201, r.text
    bad = api_client.post("/api/v1/auth/users", json={"username": _name("x"), "password": "p",
                                                        "role": "agency"})
    assert bad.status_code == 422
    tok = api_client.post("/api/v1/auth/tokens", json={"username": name, "name": "sms-gateway"})
    assert tok.status_code == 201
    secret, token_id = tok.json()["token"], tok.json()["id"]
    me = api_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["role"] == "agency" and me["agency_code"] == "BPBD" and not me["reveal_caller"]
    listed = api_client.get("/api/v1/auth/tokens", params={"username": name}).json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    assert api_client.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 200
    gone = api_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert gone.status_code == 401
    assert client_as("dispatcher").get("/api/v1/auth/users").status_code == 403


def test_users_cli(database_url, pilot_regions, monkeypatch):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    name = _name("cli")
    add = runner.invoke(app, ["users", "add", name, "--role", "planner",
                              "--password", "rahasia-123", "--kab", "34.71"])
    assert add.exit_code == 0, add.output
    dup = runner.invoke(app, ["users", "add", name, "--role", "planner",
                              "--password", "rahasia-123", "--kab", "34.71"])
    assert dup.exit_code == 1 and "already exists" in dup.output
    assert name in runner.invoke(app, ["users", "list"]).output
    tok = runner.invoke(app, ["users", "token", name, "--name", "ci"])
    assert tok.exit_code == 0 and '"token": "sgt_' in tok.output
    import json

    token_id = json.loads(tok.output)["id"]
    assert runner.invoke(app, ["users", "revoke", str(token_id)]).exit_code == 0
    assert runner.invoke(app, ["users", "revoke", "999999999"]).exit_code == 1


def test_users_cli_regencies(database_url, pilot_regions, monkeypatch):
    """``--kab`` (repeatable) binds a user to regencies; unknown codes are refused whole."""
    import json

    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    name = _name("prov")
    add = runner.invoke(app, ["users", "add", name, "--role", "dispatcher", "--password",
                              "rahasia-123", "--kab", "51.06", "--kab", "34.71"])
    assert add.exit_code == 0 and "34.71, 51.06" in add.output, add.output
    listed = {u["username"]: u for u in json.loads(runner.invoke(app, ["users", "list"]).output)}
    assert listed[name]["kode_kabs"] == ["34.71", "51.06"]
    bad = runner.invoke(app, ["users", "add", _name("x"), "--role", "viewer", "--password",
                              "rahasia-123", "--kab", "51.06", "--kab", "99.99"])
    assert bad.exit_code == 1 and "99.99" in bad.output


def test_phone_masking():
    assert mask_phone("081234567890") == "0812*****890"
    assert mask_phone("112") == "**2"
    assert mask_phone(None) is None
    masked = mask_phone("+6281234567890")
    assert masked.startswith("+628") and masked.endswith("890") and "1234567" not in masked


def test_repeated_failed_logins_are_throttled(app_factory, engine, pilot_regions):
    username = _name("brute")
    ensure_user(engine, username, "viewer")
    from api.auth.throttle import ACCOUNT_POLICY, ADDRESS_POLICY, Backoff

    app = app_factory()
    # the default policy's first delay (1 s) could pass on a slow machine: a long one here
    app.state.siaga.login_throttles = LoginThrottles(
        Backoff(ACCOUNT_POLICY.free_failures, 120.0, 600.0), ADDRESS_POLICY)
    with TestClient(app) as client:
        for _ in range(ACCOUNT_POLICY.free_failures + 1):
            r = client.post("/api/v1/auth/login", json={"username": username, "password": "no"})
            assert r.status_code == 401
        r = client.post("/api/v1/auth/login", json={"username": username,
                                                    "password": TEST_PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # another user from the same address is not locked out
        other = _name("ok")
        ensure_user(engine, other, "viewer")
        ok = client.post("/api/v1/auth/login", json={"username": other,
                                                      "password": TEST_PASSWORD})
        assert ok.status_code == 200
