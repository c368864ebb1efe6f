"""RequestGuard against a real server: body limits (declared and streamed), NUL/surrogate text,
and the Origin check on cookie-authenticated writes."""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient

from api.middleware import DEFAULT_LOGIN_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES
from api.security import SESSION_COOKIE
from tests.fixtures.console import TEST_PASSWORD, ensure_user
from tests.integration.api.live_server import serve

LOGIN = "/api/v1/auth/login"


def _raw_response(sock: socket.socket, timeout_s: float = 10.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if ready:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data and b'"error"' in data:
                break
    return data


@pytest.fixture
def server(app_factory):
    with serve(app_factory()) as base_url:
        yield base_url


def test_a_declared_huge_login_body_is_refused_before_it_is_sent(server):
    url = urlparse(server)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n")
        reply = _raw_response(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_a_streamed_chunked_body_is_cut_off_at_the_limit(server):
    """300 MB offered in chunks without Content-Length: refused after about the limit."""
    url = urlparse(server)
    sent = 0
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(b"POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        reply = b""
        try:
            while sent < 300_000_000:
                ready, _, _ = select.select([sock], [], [], 0)
                if ready:
                    reply = _raw_response(sock)
                    break
                sock.sendall(frame)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            reply = reply or _raw_response(sock)
        if not reply:
            reply = _raw_response(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    # the server stopped reading long before 300 MB (socket buffers hold a few MB at most)
    assert sent < DEFAULT_MAX_BODY_BYTES + 16 * 1024 * 1024


def test_bodies_under_the_limit_pass_and_login_has_a_smaller_limit(server):
    with httpx.Client(base_url=server) as client:
        big_password = "x" * (DEFAULT_LOGIN_MAX_BODY_BYTES + 10)
        r = client.post(LOGIN, json={"username": "u", "password": big_password})
        assert r.status_code == 413
        assert r.json()["error"]["message_en"].startswith("Request body too large")
        r = client.post(LOGIN, json={"username": "nobody-" + uuid.uuid4().hex[:6],
                                     "password": "x"})
        assert r.status_code == 401  # read and answered normally


@pytest.mark.parametrize("path, status", [
    ("/static/%00", 400),
    ("/api/v1/incidents/1%00", 400),
    ("/api/v1/geocode/search?q=a%00b", 422),
    ("/api/v1/units?agency=%00", 422),
])
def test_nul_in_path_or_query_is_refused_with_a_bilingual_error(client_as, path, status):
    r = client_as("admin").get(path)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["message"] and error["message_en"] and "NUL" in error["message_en"]


@pytest.mark.parametrize("raw", [
    b'{"username": "a\\u0000b", "password": "x"}',
    b'{"username": "a\\ud800", "password": "x"}',
    b'{"username": "a", "password": "\\udfff"}',
    b'{"username": "a", "password": "x", "\\u0000": 1}',
])
def test_nul_or_lone_surrogate_in_an_unauthenticated_login_body_is_422(app_factory, raw):
    with TestClient(app_factory(), raise_server_exceptions=False) as client:
        r = client.post(LOGIN, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request"


def test_a_paired_surrogate_escape_is_ordinary_text(app_factory):
    raw = b'{"username": "\\ud83d\\ude91-' + uuid.uuid4().hex[:6].encode() + b'", "password": "x"}'
    with TestClient(app_factory(), raise_server_exceptions=False) as client:
        r = client.post(LOGIN, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 401  # an emoji is fine: wrong credentials, not bad input


def _cookie_client(app_factory, engine) -> TestClient:
    username = f"csrf_{uuid.uuid4().hex[:8]}"
    ensure_user(engine, username, "admin")
    client = TestClient(app_factory(), raise_server_exceptions=False)
    client.__enter__()
    r = client.post(LOGIN, json={"username": username, "password": TEST_PASSWORD})
    assert r.status_code == 200 and SESSION_COOKIE in client.cookies
    return client


def test_cookie_writes_from_another_site_are_refused(app_factory, engine):
    client = _cookie_client(app_factory, engine)
    try:
        body = {"username": f"x{uuid.uuid4().hex[:8]}", "name": "ci"}
        evil = client.post("/api/v1/auth/tokens", json=body,
                           headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        assert evil.json()["error"]["code"] == "cross_origin_refused"
        assert client.post("/api/v1/auth/tokens", json=body,
                           headers={"Referer": "https://evil.example/page"}).status_code == 403
        # neither Origin nor Referer: refused too (browsers always send Origin on writes)
        assert client.post("/api/v1/auth/logout").status_code == 403
        # the app's own origin passes the check (then the route answers: unknown user → 404)
        same = client.post("/api/v1/auth/tokens", json=body,
                           headers={"Origin": "http://testserver"})
        assert same.status_code == 404
        ok = client.post("/api/v1/auth/logout",
                         headers={"Referer": "http://testserver/console"})
        assert ok.status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_bearer_clients_and_reads_are_not_origin_checked(client_as, app_factory, engine):
    admin = client_as("admin")
    r = admin.post("/api/v1/auth/tokens", json={"username": "nobody-x", "name": "ci"},
                   headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 404  # not 403: a bearer token cannot be sent by another site
    client = _cookie_client(app_factory, engine)
    try:
        assert client.get("/api/v1/auth/me",
                          headers={"Origin": "https://evil.example"}).status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_an_allow_listed_origin_may_write(app_factory, engine):
    from api.middleware import HttpLimits

    username = f"allow_{uuid.uuid4().hex[:8]}"
    ensure_user(engine, username, "admin")
    limits = HttpLimits(allowed_origins=["https://console.siaga.example"])
    from api.app import create_app

    app = create_app(app_factory().state.siaga.settings, http_limits=limits)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post(LOGIN, json={"username": username,
                                        "password": TEST_PASSWORD}).status_code == 200
        assert client.post("/api/v1/auth/logout",
                           headers={"Origin": "https://console.siaga.example"}).status_code == 200
