"""The HTTP service: ``create_app(settings)``.

Nothing is built at import time. The shared services come from the composition root,
:func:`api.services.build_services` (the CLI uses it too); the lifespan starts and stops what
serving needs (:func:`api.services.start` / :func:`api.services.stop`). Route modules only
declare routes: no startup hooks, no registrations.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI

from api import services as composition
from api.admission import AdmissionGate
from api.db import api_thread_count
from api.errors import install_error_handlers
from api.middleware import install_hardening
from api.permissions import enforce
from api.services import Services, build_services
from api.settings import Settings, load_settings

#: Router modules under ``api.routes``, in the order they appear in the OpenAPI document.
ROUTE_MODULES: list[str] = [
    "meta",
    "geocode",
    "regions",
    "routing",
    "call_taking",  # before incidents: /incidents/queue is not an incident id
    "incidents",
    "incident_panel",
    "drills",
    "units",
    "agencies",
    "rules",
    "rules_page",
    "complaints",
    "segments",
    "tracking",
    "auth",
    "live",
    "maps",
    "analytics",
    "reports",
    "cap",
    "coverage",
    "registry",
    "registry_page",
    "dashboard",
    "analytics_downloads",
    "notifications",
    "calls",
    "handover",
]


#: Seconds between interpreter-lock hand-overs in the server process (Python's default: 0.005).
SWITCH_INTERVAL_S = 0.002


def _routers() -> list[APIRouter]:
    return [importlib.import_module(f"api.routes.{name}").router for name in ROUTE_MODULES]


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """Build the FastAPI application. ``overrides`` replace :class:`api.services.Services`
    fields (tests: ``engine``, ``dispatch_config``, ``publish_events``, ``live`` ...)."""
    settings = settings or load_settings()
    routers = _routers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: Services = app.state.siaga
        # Sync handlers and dependencies share these worker threads; the requests served at
        # once (AdmissionGate) and the engine's pool are sized against them (api/db.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = api_thread_count(
            settings.api_concurrency, settings.api_threads)
        # Threads running Python hand the interpreter lock over every 2 ms instead of 5, so
        # the event loop (health checks, new connections) is not starved by busy handlers.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        await composition.start(state)
        try:
            yield
        finally:
            await composition.stop(state)
            state.engine.dispose()

    app = FastAPI(
        title="Siaga",
        description=(
            "Dispatch 112 dan pelacakan unit reaksi cepat / 112 dispatch and responder tracking. "
            "Administrative boundaries: BPS/OCHA COD-AB via HDX (CC BY-IGO); codes: Kemendagri; "
            "roads: © OpenStreetMap contributors (ODbL)."
        ),
        version="0.1.0",
        lifespan=lifespan,
        # Every route and WebSocket is checked against api.permissions.RULES.
        dependencies=[Depends(enforce)],
    )
    app.state.siaga = build_services(settings, **overrides)
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    # At most api_concurrency requests past this point at once (health and WebSockets exempt).
    app.add_middleware(AdmissionGate, limit=settings.api_concurrency,  # type: ignore[arg-type]
                       queue_timeout_s=settings.api_queue_timeout_s)
    install_hardening(app)  # body limits, NUL/surrogate and Origin checks, OpenAPI security
    return app
