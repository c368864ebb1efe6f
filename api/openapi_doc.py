"""The OpenAPI document: security schemes from ``api.permissions.RULES`` and the error responses.

FastAPI cannot see the global permission dependency's rules, so the generated document is
completed here: protected operations list the two ways to authenticate (HTTP bearer token, the
session cookie) and every operation documents the error statuses it may answer with the
:class:`api.errors.ErrorResponse` body (``{"error": {"code", "message", "message_en", ...}}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import ErrorResponse
from api.permissions import rule_for
from api.security import SESSION_COOKIE

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "API token (sgt_...) or login token (sgs_...)"},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                      "description": "Browser session set by POST /api/v1/auth/login"},
}

_DESCRIPTIONS = {
    "400": "Permintaan rusak / malformed request (NUL in path or header, bad Content-Length)",
    "401": "Perlu login / authentication required",
    "403": "Akses ditolak / forbidden (role, agency, or cross-site request)",
    "404": "Tidak ditemukan / not found",
    "409": "Konflik / conflict with the current state",
    "413": "Isi terlalu besar / request body too large",
    "422": "Input tidak valid / invalid input",
    "429": "Terlalu banyak percobaan / too many attempts (see Retry-After)",
    "503": "Layanan belum siap / a backing service is unavailable",
}
_WRITE = frozenset({"post", "put", "patch", "delete"})


def _error(code: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    if code == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                               "description": "seconds to wait"}}
    return response


#: Text may not contain NUL (PostgreSQL cannot store it; ``api.middleware`` refuses it).
NO_NUL_PATTERN = "^[^\\x00]*$"


def _forbid_nul(node: Any) -> None:
    """Give every free-text string schema under ``node`` the :data:`NO_NUL_PATTERN`."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not any(
                k in node for k in ("pattern", "format", "enum", "const")):
            node["pattern"] = NO_NUL_PATTERN
        for value in node.values():
            _forbid_nul(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_nul(value)


def _declared_by_route(response: dict[str, Any] | None) -> bool:
    """A response body of its own the route states (e.g. the health check's 503), not FastAPI's
    default 422 (``HTTPValidationError``) nor an :class:`ErrorResponse` (always written here as
    JSON: a route with another response class would document it under its media type)."""
    if response is None:
        return False
    refs = [c.get("schema", {}).get("$ref", "") for c in response.get("content", {}).values()]
    generic = ("/HTTPValidationError", "/ErrorResponse")
    return bool(refs) and not any(r.endswith(generic) for r in refs)


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add security schemes, per-operation security and error responses to ``schema``."""
    _forbid_nul(schema.get("paths", {}))
    _forbid_nul(schema.get("components", {}).get("schemas", {}))
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorResponse"] = error_schema
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head"):
                continue
            allowed = rule_for(method.upper(), path)
            codes = ["400", "422", "503"]
            if allowed is None or allowed:  # protected (unlisted routes are refused)
                op["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
                codes += ["401", "403"]
            else:
                op["security"] = []
            if "{" in path:
                codes.append("404")
            if method in _WRITE:
                codes += ["403", "404", "409", "413"]
            if path == "/api/v1/auth/login":
                codes += ["401", "429"]
            responses = op.setdefault("responses", {})
            for code in sorted(set(codes)):
                if not _declared_by_route(responses.get(code)):
                    responses[code] = _error(code)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes, tags=app.openapi_tags, servers=app.servers))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
