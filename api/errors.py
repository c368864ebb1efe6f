"""The one place where domain errors become HTTP responses (JSON a person can act on).

Body: ``{"error": {"code": "...", "message": "...", "message_en": "...", "detail": ...}}``.
Every domain exception class the API answers is listed in :data:`_REGISTRY` here (status and
error code); unlisted exceptions become a 500 with a generic message (and are logged).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth.exceptions import (
    InvalidCredentialsError,
    InvalidUserError,
    TokenNotFoundError,
    UserExistsError,
    UserNotFoundError,
)
from api.readiness import explain
from dispatch import exceptions as dx
from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.complaint_service import TicketNotFound
from dispatch.registry_errors import ProvisioningError, RegistryConflict
from dispatch.registry_fields import RegistryFileError
from dispatch.reporting.cap import CapError
from dispatch.reporting.model import ReportInputError
from dispatch.sla_rules_service import RuleSetNotFound
from dispatch.sop_service import SopStepRefused
from geo import exceptions as geo_exc
from geo.population import PopulationFileError
from geo.routing.exceptions import NoRouteError, OutsideNetworkError
from maps.exceptions import MapInputError
from tracking.exceptions import DeviceNotFoundError, InvalidTimeRangeError

log = logging.getLogger("siaga.api")

#: Seconds a client is asked to wait before retrying a 503 (database busy or unreachable).
RETRY_AFTER_S = 2

#: exception class -> (HTTP status, error code)
_REGISTRY: dict[type[Exception], tuple[int, str]] = {
    geo_exc.InvalidCoordinateError: (422, "invalid_coordinate"),
    geo_exc.RegionNotFoundError: (404, "region_not_found"),
    geo_exc.UnknownProfileError: (422, "unknown_profile"),
    geo_exc.NoRoadNetworkError: (404, "no_road_network"),
    geo_exc.RegionImportError: (422, "region_import_failed"),
    geo_exc.RoadNetworkError: (422, "road_network_error"),
    PopulationFileError: (422, "invalid_population_file"),
    OutsideNetworkError: (422, "outside_road_network"),
    NoRouteError: (404, "no_route"),
    dx.IllegalTransition: (409, "illegal_transition"),
    dx.UnitUnavailable: (409, "unit_unavailable"),
    dx.DispatchNotFound: (404, "not_found"),
    dx.LocationUnresolved: (422, "location_unresolved"),
    dx.DispatchValidationError: (422, "invalid_dispatch_input"),
    dx.DispatchConfigError: (422, "dispatch_config"),
    AnalyticsInputError: (422, "invalid_analysis_input"),
    DeviceNotFoundError: (404, "device_not_found"),
    InvalidTimeRangeError: (422, "invalid_time_range"),
    InvalidCredentialsError: (401, "invalid_credentials"),
    InvalidUserError: (422, "invalid_user"),
    UserExistsError: (409, "user_exists"),
    UserNotFoundError: (404, "user_not_found"),
    TokenNotFoundError: (404, "token_not_found"),
    MapInputError: (422, "map_input_invalid"),
    RegistryFileError: (422, "registry_file_refused"),
    RegistryConflict: (409, "registry_conflict"),
    ProvisioningError: (503, "mqtt_login_unavailable"),
    dx.SlaRuleError: (422, "invalid_sla_rules"),
    RuleSetNotFound: (404, "not_found"),
    TicketNotFound: (404, "not_found"),
    CapError: (422, "invalid_cap"),
    ReportInputError: (422, "invalid_report_request"),
    SopStepRefused: (403, "not_your_agency"),
}


#: Starlette's default details → (Bahasa Indonesia, English).
_STOCK_MESSAGES: dict[str, tuple[str, str]] = {
    "Not Found": ("Tidak ditemukan.", "Not found."),
    "Method Not Allowed": ("Metode tidak diizinkan untuk alamat ini.",
                           "Method not allowed for this path."),
    "Bad Request": ("Permintaan tidak valid.", "Bad request."),
    "There was an error parsing the body": ("Isi permintaan tidak dapat dibaca.",
                                            "The request body could not be parsed."),
}


def error_body(code: str, message: str, detail: Any = None, message_en: str | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if message_en:
        body["message_en"] = message_en
    if detail is not None:
        body["detail"] = detail
    return {"error": body}


def _lookup(exc: BaseException) -> tuple[int, str] | None:
    for cls in type(exc).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query")),
                "problem": err.get("msg"),
            }
            for err in exc.errors()
        ]
        text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(
            status_code=422,
            content=error_body("invalid_request", f"Permintaan tidak valid: {text}", problems,
                               message_en=f"Invalid request: {text}"),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        message, message_en = detail, None
        if detail in _STOCK_MESSAGES:  # Starlette's own English phrases: say it in both
            message, message_en = _STOCK_MESSAGES[detail]
        return JSONResponse(
            status_code=exc.status_code,
            content=error_body(f"http_{exc.status_code}", message, message_en=message_en),
            headers=getattr(exc, "headers", None),
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database could not be reached in time (pool exhausted, server down, deadlock):
        # nothing was written; the client may retry.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                    type(exc).__name__)
        return JSONResponse(
            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)},
            content=error_body("database_unavailable",
                               "Basis data sedang sibuk atau tidak terjangkau; coba lagi.",
                               message_en="The database is busy or unreachable; nothing was "
                                          "changed, try again."),
        )

    for db_exc in (sa_exc.TimeoutError, sa_exc.OperationalError):
        app.add_exception_handler(db_exc, _unavailable)

    async def _programming(request: Request, exc: Exception) -> JSONResponse:
        # A missing table or column: the database was never migrated (or is behind the code).
        notice = explain(exc)
        if notice is None:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return JSONResponse(status_code=500, content=error_body(
                "internal_error", "Terjadi kesalahan internal.", message_en="Internal error."))
        log.warning("%s on %s %s", notice.code, request.method, request.url.path)
        return JSONResponse(status_code=503, headers={"Retry-After": "30"},
                            content=error_body(notice.code, notice.message,
                                               message_en=notice.message_en))

    app.add_exception_handler(sa_exc.ProgrammingError, _programming)

    @app.exception_handler(Exception)
    async def _domain(request: Request, exc: Exception) -> JSONResponse:
        found = _lookup(exc)
        if found is None:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return JSONResponse(
                status_code=500,
                content=error_body("internal_error", "Terjadi kesalahan internal.",
                                   message_en="Internal error."),
            )
        status, code = found
        return JSONResponse(status_code=status, content=error_body(code, str(exc)))

    # Registered domain errors are handled by the exception middleware (a handler for plain
    # ``Exception`` runs in the server-error middleware, which re-raises after responding).
    for exc_type in list(_REGISTRY):
        app.add_exception_handler(exc_type, _domain)


class ErrorDetail(BaseModel):
    """What went wrong: a stable ``code``, a message in Bahasa Indonesia, the English one."""

    code: str
    message: str
    message_en: str | None = None
    detail: Any = None


class ErrorResponse(BaseModel):
    """Body of every error response (4xx/5xx)."""

    error: ErrorDetail
