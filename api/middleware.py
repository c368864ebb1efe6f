"""Guards every HTTP request passes before any route sees it (one pure ASGI middleware).

:class:`RequestGuard` refuses, with the JSON error body of ``api/errors.py``:

* **NUL bytes and lone surrogates** in the path (400), the query string (422), the request
  headers (400) or any string of a JSON or form body (422). PostgreSQL text cannot hold NUL and
  psycopg cannot encode a lone surrogate, so such input would otherwise fail deep in a query.
* **Bodies above a size limit** (413): ``Content-Length`` is checked first; a body sent without
  it (chunked) is counted while it streams in and refused as soon as it passes the limit, so the
  server never holds more than the limit. Login has a smaller limit than the rest.
* **Cross-site writes with the session cookie** (403): a POST/PUT/PATCH/DELETE that carries the
  session cookie and no bearer token must come from the app's own origin (its ``Host``) or from
  ``settings.allowed_origins``, judged by ``Origin``, else ``Referer``; a cookie write with
  neither header is refused too (browsers send ``Origin`` on every such request). Bearer-token
  clients cannot be driven by another site, so they are not checked.

The body is read (up to the limit) before the application is called and replayed to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from fastapi import FastAPI

from api.errors import error_body
from api.http_limits import DEFAULT_LOGIN_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, HttpLimits
from api.security import SESSION_COOKIE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOGIN_PATH = "/api/v1/auth/login"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: NUL or a UTF-16 surrogate code point (only lone ones survive decoding into ``str``).
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def bad_text(text: str) -> bool:
    """True when ``text`` holds a NUL character or a lone surrogate."""
    return _BAD_TEXT.search(text) is not None


def _bad_strings(value: Any, where: str = "") -> Iterable[str]:
    """Locations (``a.b.0``) of strings with NUL/lone surrogates in a decoded JSON value."""
    if isinstance(value, str):
        if bad_text(value):
            yield where or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if bad_text(str(key)):
                yield here
            yield from _bad_strings(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _bad_strings(item, f"{where}.{i}" if where else str(i))


async def _reply(send: Send, status: int, code: str, message_id: str, message_en: str,
                 detail: Any = None, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(error_body(code, message_id, detail, message_en=message_en)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


class RequestGuard:
    """ASGI middleware: text hygiene, body size limits and the Origin check (module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 login_max_body_bytes: int = DEFAULT_LOGIN_MAX_BODY_BYTES,
                 allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.login_max_body_bytes = login_max_body_bytes
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self._check_head(scope)
        if problem is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": problem[3]})
            else:
                await _reply(send, *problem)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        if scope.get("method", "GET") in UNSAFE_METHODS and not self._origin_ok(scope):
            await _reply(send, 403, "cross_origin_refused",
                         "Permintaan dari situs lain ditolak (Origin tidak diizinkan).",
                         "Cross-site request refused (Origin not allowed).")
            return
        await self._with_body(scope, receive, send)

    # --- path, query and headers ------------------------------------------------------------

    def _check_head(self, scope: Scope) -> tuple[int, str, str, str] | None:
        path = scope.get("path", "")
        raw_path = scope.get("raw_path") or b""
        if bad_text(path) or b"%00" in raw_path or b"\x00" in raw_path:
            return (400, "invalid_path", "Alamat (path) berisi karakter yang tidak sah (NUL).",
                    "The path holds an invalid character (NUL).")
        query = scope.get("query_string", b"")
        try:
            text = unquote(query.decode("latin-1").replace("+", " "), errors="strict")
        except UnicodeDecodeError:
            return (422, "invalid_request", "Parameter kueri bukan UTF-8 yang sah.",
                    "The query string is not valid UTF-8.")
        if bad_text(text):
            return (422, "invalid_request",
                    "Parameter kueri berisi karakter yang tidak sah (NUL atau surrogate).",
                    "A query parameter holds an invalid character (NUL or surrogate).")
        for _key, value in scope.get("headers", ()):
            if b"\x00" in value:
                return (400, "invalid_header", "Header berisi karakter NUL.",
                        "A request header holds a NUL character.")
        return None

    # --- Origin check -----------------------------------------------------------------------

    def _origin_ok(self, scope: Scope) -> bool:
        cookie = (_header(scope, b"cookie") or b"").decode("latin-1")
        if f"{SESSION_COOKIE}=" not in cookie:
            return True
        auth = (_header(scope, b"authorization") or b"").decode("latin-1")
        if auth.lower().startswith("bearer ") and auth[7:].strip():
            return True
        origin = (_header(scope, b"origin") or b"").decode("latin-1").strip()
        if not origin or origin == "null":
            referer = (_header(scope, b"referer") or b"").decode("latin-1").strip()
            if not referer:
                return False
            parsed = urlparse(referer)
            origin = f"{parsed.scheme}://{parsed.netloc}"
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        host = (_header(scope, b"host") or b"").decode("latin-1").strip().lower()
        return bool(host) and urlparse(origin).netloc == host

    # --- body -------------------------------------------------------------------------------

    def _limit(self, scope: Scope) -> int:
        return self.login_max_body_bytes if scope.get("path") == LOGIN_PATH \
            else self.max_body_bytes

    async def _with_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope)
        too_large = (413, "payload_too_large",
                     f"Isi permintaan terlalu besar (maksimal {limit} bita).",
                     f"Request body too large (at most {limit} bytes).", {"max_bytes": limit})
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    await _reply(send, *too_large, headers=[(b"connection", b"close")])
                    return
            except ValueError:
                await _reply(send, 400, "invalid_header", "Content-Length tidak sah.",
                             "Invalid Content-Length.")
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        first: Message | None = None
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                first = message
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(send, *too_large, headers=[(b"connection", b"close")])
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = self._check_body(scope, body)
        if problem is not None:
            await _reply(send, 422, "invalid_request", *problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                if first is not None:
                    return first
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _check_body(self, scope: Scope, body: bytes) -> tuple[str, str, Any] | None:
        if not body:
            return None
        ctype = (_header(scope, b"content-type") or b"").decode("latin-1").lower()
        where: list[str] = []
        if "json" in ctype:
            try:
                where = list(_bad_strings(json.loads(body)))
            except (ValueError, RecursionError):
                return None  # not JSON: the route's own parsing answers 422
        elif ctype.startswith("application/x-www-form-urlencoded"):
            try:
                pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return None
            where = [k for k, v in pairs if bad_text(k) or bad_text(v)]
        if not where:
            return None
        fields = ", ".join(where[:10])
        return (f"Teks berisi karakter yang tidak sah (NUL atau surrogate) di: {fields}",
                f"Text holds an invalid character (NUL or surrogate) in: {fields}",
                [{"field": w, "problem": "NUL or lone surrogate"} for w in where[:10]])


def install_hardening(app: FastAPI) -> None:
    """Install :class:`RequestGuard` and the OpenAPI security and error documentation
    (``api/openapi_doc.py``). Limits: the services' ``http_limits`` (from the environment
    unless given to ``create_app``)."""
    from api.openapi_doc import install_openapi

    limits: HttpLimits = app.state.siaga.http_limits
    app.add_middleware(
        RequestGuard,  # type: ignore[arg-type]
        max_body_bytes=limits.max_body_bytes,
        login_max_body_bytes=limits.login_max_body_bytes,
        allowed_origins=limits.allowed_origins,
    )
    install_openapi(app)
