"""Hostile HTTP input never causes a 500: the reported cases, then Hypothesis over text with NUL
and surrogates, integers past int4/int8, and odd datetimes. Only typed 4xx answers are allowed,
each with the JSON error body (code, Indonesian and English message)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _typed_4xx(r, allowed=(400, 404, 409, 413, 422)) -> None:
    assert r.status_code in allowed, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert isinstance(error["code"], str) and error["message"]


def _q(text: str) -> str:
    """Percent-encode ``text`` as a browser would; lone surrogates become invalid UTF-8."""
    return quote(text, safe="", errors="surrogatepass")


def _post_json(client, path: str, body: dict):
    """POST ``body`` as JSON with ``\\uXXXX`` escapes, so lone surrogates reach the server."""
    return client.post(path, content=json.dumps(body).encode(),
                       headers={"content-type": "application/json"})


@pytest.fixture
def admin(client_as):
    return client_as("admin")


# --- the cases reported from outside ---------------------------------------------------------

@pytest.mark.parametrize("path", [
    f"/api/v1/auth/tokens/{2**31}",
    f"/api/v1/auth/tokens/{2**63}",
    "/api/v1/auth/tokens/0",
])
def test_token_ids_outside_int4_are_422(admin, path):
    r = admin.delete(path, headers={})
    _typed_4xx(r, (422,))


@pytest.mark.parametrize("query", [f"offset={2**63}", f"offset={2**31}", "offset=-1",
                                   f"limit={2**40}"])
def test_listing_offsets_and_limits_are_bounded(admin, query):
    _typed_4xx(admin.get(f"/api/v1/incidents?{query}"), (422,))


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                   "0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00",
                                   "2026-01-01T08:00:00"])
def test_out_of_range_or_naive_datetimes_are_422(admin, value):
    v = quote(value)
    for path in (f"/api/v1/incidents?from={v}", f"/api/v1/tracking/rejects?since={v}",
                 f"/api/v1/tracking/devices/any-device/track?start={v}",
                 f"/api/v1/reports/sla?kode_kab=34.71&from={v}&to=2026-02-01T00:00:00Z"):
        _typed_4xx(admin.get(path), (422,))
    r = admin.post("/api/v1/incidents", json={"category": "kebakaran", "kode_kab": "34.71",
                                              "received_at": value})
    _typed_4xx(r, (422,))


def test_an_arrival_time_without_a_timezone_is_422(admin):
    r = admin.post("/api/v1/assignments/1/arrive", json={"at": "2026-01-01T08:00:00"})
    _typed_4xx(r, (422,))
    assert "timezone" in r.text


# --- properties ------------------------------------------------------------------------------

_hostile_text = st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "a", "Ω", " ",
                                                  "\U0001f691", "%", "/", "\n"]),
                        min_size=1, max_size=30)


@SETTINGS
@given(username=_hostile_text, password=_hostile_text)
def test_any_login_text_is_answered_without_a_server_error(app_factory, username, password):
    from fastapi.testclient import TestClient

    # Fresh client addresses so the throttle does not answer 429 instead of checking the text.
    with TestClient(app_factory(), raise_server_exceptions=False,
                    client=(f"10.9.{len(username)}.{len(password)}", 1)) as client:
        r = _post_json(client, "/api/v1/auth/login",
                       {"username": username, "password": password})
    if "\x00" in username + password or any(0xD800 <= ord(c) <= 0xDFFF
                                             for c in username + password):
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    else:
        _typed_4xx(r, (401, 422, 429))


@SETTINGS
@given(text=_hostile_text)
def test_any_query_or_path_text_is_answered_without_a_server_error(admin, text):
    q = _q(text)
    for path in (f"/api/v1/geocode/search?q={q}", f"/api/v1/units?agency={q}",
                 f"/api/v1/incidents?category={q}", f"/api/v1/tracking/devices/{q}/track",
                 f"/api/v1/auth/tokens?username={q}", f"/static/{q}"):
        r = admin.get(path)
        assert r.status_code < 500, (path, r.status_code, r.text[:200])
        if r.status_code >= 400:
            _typed_4xx(r, (400, 404, 405, 422))


@SETTINGS
@given(text=_hostile_text)
def test_any_json_body_text_is_answered_without_a_server_error(admin, text):
    for path, body in (("/api/v1/incidents", {"category": text, "kode_kab": "34.71",
                                              "description": text, "actor": text}),
                       ("/api/v1/auth/users", {"username": text, "password": text + "xxxxxx",
                                               "role": "viewer", "display_name": text}),
                       ("/api/v1/auth/tokens", {"username": text, "name": text}),
                       ("/api/v1/routing/table", {"region": "34.71", "profile": text,
                                                  "destination": {"lat": -7.8, "lon": 110.37},
                                                  "origins": [{"lat": -7.8, "lon": 110.36,
                                                               "id": text}]})):
        r = _post_json(admin, path, body)
        assert r.status_code < 500, (path, r.status_code, r.text[:200])
        if r.status_code >= 400:
            _typed_4xx(r, (400, 404, 409, 413, 422))


@SETTINGS
@given(n=st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                   st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64])))
def test_any_integer_is_answered_without_a_server_error(admin, n):
    for method, path in (("GET", f"/api/v1/incidents/{n}"),
                         ("DELETE", f"/api/v1/auth/tokens/{n}"),
                         ("GET", f"/api/v1/assignments/{n}/evidence"),
                         ("GET", f"/api/v1/incidents?offset={n}"),
                         ("GET", f"/api/v1/incidents?limit={n}"),
                         ("GET", f"/api/v1/maps/hotspot?days={n}")):
        r = admin.request(method, path)
        assert r.status_code < 500, (path, r.status_code, r.text[:200])
    for body in ({"incident_id": n, "unit_id": n}, {"incident_id": 1, "unit_id": n}):
        r = admin.post("/api/v1/assignments", json=body)
        assert r.status_code < 500, (body, r.status_code, r.text[:200])


@SETTINGS
@given(year=st.integers(min_value=1, max_value=9999),
       offset=st.sampled_from(["Z", "+00:00", "+14:00", "-12:00", "+23:59", "-23:59", ""]))
def test_any_datetime_is_answered_without_a_server_error(admin, year, offset):
    value = quote(f"{year:04d}-06-15T12:00:00{offset}")
    for path in (f"/api/v1/incidents?from={value}&to={value}",
                 f"/api/v1/tracking/rejects?since={value}",
                 f"/api/v1/reports/sla?kode_kab=34.71&from={value}&to={value}"):
        r = admin.get(path)
        assert r.status_code < 500, (path, r.status_code, r.text[:200])
        if not offset or not 1970 <= year <= 2099:
            _typed_4xx(r, (422,))


def test_unknown_paths_and_methods_answer_in_both_languages(admin):
    r = admin.get("/api/v1/does-not-exist")
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "http_404", "message": "Tidak ditemukan.",
                                 "message_en": "Not found."}
    r = admin.put("/api/v1/incidents")
    assert r.status_code == 405 and r.json()["error"]["message_en"].startswith("Method not")
