"""Every route has a permission rule, and every role gets exactly what the table says."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.permissions import RULES, rule_for
from api.security import Role
from dispatch.scoping import EVERYTHING
from tests.fixtures.api import once_notified
from tests.fixtures.console import TEST_AGENCY_CODE


def _http_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every API route, included routers flattened."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            found += [(m, ctx.path) for m in sorted(ctx.methods or ()) if m != "HEAD"]
    return found


def _ws_routes(app) -> list[str]:
    return [ctx.path for ctx in iter_route_contexts(app.routes)
            if isinstance(ctx.original_route, APIWebSocketRoute)]


def _concrete(path: str) -> str:
    """A request path for a template: parameters become ids that do not exist."""
    path = re.sub(r"\{[^}]*:path\}", "tidak-ada.txt", path)
    path = path.replace("{agency_code}", TEST_AGENCY_CODE)  # the agency user's own agency
    path = path.replace("{kode_kab}", "34.71")
    return re.sub(r"\{[^}]+\}", "999999", path)


#: Calls with side effects on the caller's own credentials, checked in test_auth.py instead.
_SELF_REVOKING = {("POST", "/api/v1/auth/logout")}


def test_every_route_has_a_rule(app_factory):
    app = app_factory()
    missing = [(m, p) for m, p in _http_routes(app) if rule_for(m, p) is None]
    missing += [("WS", p) for p in _ws_routes(app) if rule_for("WS", p) is None]
    assert not missing, f"routes without a rule in api/permissions.py RULES: {missing}"
    assert len(_http_routes(app)) >= 10  # the table is really enumerating the app


def test_unlisted_route_is_refused(app_factory, role_tokens):
    app = app_factory()

    @app.get("/api/v1/unlisted-for-test")
    def unlisted() -> dict:
        return {"leak": True}

    with TestClient(app) as client:
        r = client.get("/api/v1/unlisted-for-test",
                       headers={"Authorization": f"Bearer {role_tokens['admin']}"})
        assert r.status_code == 403
        assert client.get("/api/v1/unlisted-for-test").status_code == 401


def test_each_role_on_each_route(app_factory, role_tokens):
    app = app_factory()
    checked = 0
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, template in _http_routes(app):
            allowed = rule_for(method, template)
            url = _concrete(template)
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            anon = client.request(method, url, **kwargs)
            if allowed:  # not public
                assert anon.status_code == 401, (method, template, anon.status_code, anon.text)
            else:
                assert anon.status_code not in (401, 403), (method, template, anon.text)
            for role in Role:
                if (method, template) in _SELF_REVOKING:
                    continue
                r = client.request(method, url, headers={
                    "Authorization": f"Bearer {role_tokens[role.value]}"}, **kwargs)
                if not allowed or role in allowed:
                    assert r.status_code not in (401, 403), (role, method, template, r.text)
                else:
                    assert r.status_code == 403, (role, method, template, r.status_code)
                checked += 1
    routes = _http_routes(app)
    assert checked == len(Role) * len([r for r in routes if r not in _SELF_REVOKING]) > 0


def test_agency_users_act_only_for_their_own_agency(client_as):
    agency = client_as("agency")
    other = agency.post("/api/v1/incidents/999999/agencies/BPBD/acknowledge", json={})
    assert other.status_code == 403 and "own agency" in other.text
    own = agency.post(f"/api/v1/incidents/999999/agencies/{TEST_AGENCY_CODE}/acknowledge",
                      json={})
    assert own.status_code not in (401, 403)
    # dispatchers act for any agency
    assert client_as("dispatcher").post("/api/v1/incidents/999999/agencies/BPBD/acknowledge",
                                        json={}).status_code not in (401, 403)


def test_invalid_and_revoked_tokens_get_401(app_factory, engine):
    from sqlalchemy.orm import Session

    from api.auth import service

    with Session(engine) as session:
        issued = service.issue_api_token(session=session, username="test_admin", name="revoke-me",
                                         scope=EVERYTHING)
        session.commit()
    with TestClient(app_factory()) as client:
        ok = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued.token}"})
        assert ok.status_code == 200 and ok.json()["role"] == "admin"
        bad = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer sgt_forged"})
        assert bad.status_code == 401
        with Session(engine) as session:
            service.revoke_token(session=session, token_id=issued.token_id, scope=EVERYTHING)
            session.commit()
        # Revoked in another session (as the CLI would): the API's principal cache hears of it
        # by PostgreSQL NOTIFY, within milliseconds (api/principal_cache.py).
        once_notified(lambda: client.get("/api/v1/auth/me", headers={
            "Authorization": f"Bearer {issued.token}"}), lambda r: r.status_code == 401,
            "a token revoked in another session")


@pytest.mark.parametrize("ws_path", ["/api/v1/live"])
def test_websocket_requires_a_valid_session(app_factory, role_tokens, ws_path):
    app = app_factory()
    assert rule_for("WS", ws_path) is not None
    with TestClient(app) as client:
        for headers in ({}, {"Authorization": "Bearer sgt_forged"}):
            with pytest.raises(WebSocketDisconnect) as refused:
                with client.websocket_connect(ws_path, headers=headers) as ws:
                    ws.receive_json()
            assert refused.value.code == 1008
        # a foreign web page cannot ride on the session cookie
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect(ws_path, headers={
                    "Authorization": f"Bearer {role_tokens['admin']}",
                    "Origin": "http://evil.example"}) as ws:
                ws.receive_json()
        for role in Role:
            with client.websocket_connect(
                    f"{ws_path}?token={role_tokens[role.value]}") as ws:
                hello = ws.receive_json()
                assert hello["type"] == "hello" and hello["role"] == role.value


def test_rules_name_only_known_roles():
    for key, roles in RULES.items():
        assert key[0] in {"GET", "POST", "PUT", "PATCH", "DELETE", "WS"}, key
        assert roles <= set(Role), key
