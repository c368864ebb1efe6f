"""The composition root of the HTTP service: ``create_app(settings)``.

Nothing is built at import time. Each router module in ``api/routes/`` exposes ``router`` and may
expose ``startup(app_state)`` / ``shutdown(app_state)`` hooks that build what it needs (the
geocoder, the routing indexes, the MQTT fan-out) from the shared :class:`AppState`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI

from api.admission import AdmissionGate
from api.db import api_thread_count, make_api_engine, make_sessionmaker
from api.errors import install_error_handlers
from api.middleware import install_hardening
from api.permissions import enforce
from api.settings import Settings, load_settings
from api.state import AppState

#: Router modules under ``api.routes``, in the order they appear in the OpenAPI document.
ROUTE_MODULES: list[str] = [
    "meta",
    "geocode",
    "regions",
    "routing",
    "incidents",
    "drills",
    "units",
    "agencies",
    "tracking",
    "auth",
    "live",
    "maps",
    "analytics",
]


#: Seconds between interpreter-lock hand-overs in the server process (Python's default: 0.005).
SWITCH_INTERVAL_S = 0.002


def _modules() -> list[Any]:
    return [importlib.import_module(f"api.routes.{name}") for name in ROUTE_MODULES]


def create_app(settings: Settings | None = None, **state_overrides: Any) -> FastAPI:
    """Build the FastAPI application. ``state_overrides`` set :class:`AppState` fields (tests)."""
    settings = settings or load_settings()
    modules = _modules()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: AppState = app.state.siaga
        # Sync handlers and dependencies share these worker threads; the requests served at
        # once (AdmissionGate) and the engine's pool are sized against them (api/db.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = api_thread_count(
            settings.api_concurrency, settings.api_threads)
        # Threads running Python hand the interpreter lock over every 2 ms instead of 5, so
        # the event loop (health checks, new connections) is not starved by busy handlers.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        for module in modules:
            hook = getattr(module, "startup", None)
            if hook is not None:
                result = hook(state)
                if hasattr(result, "__await__"):
                    await result
        try:
            yield
        finally:
            for module in reversed(modules):
                hook = getattr(module, "shutdown", None)
                if hook is not None:
                    result = hook(state)
                    if hasattr(result, "__await__"):
                        await result
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
    engine = state_overrides.pop("engine", None) or make_api_engine(
        settings.database_url, concurrency=settings.api_concurrency,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow, pool_timeout_s=settings.db_pool_timeout_s)
    app.state.siaga = AppState(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        **state_overrides,
    )
    install_error_handlers(app)
    for module in modules:
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
    # At most api_concurrency requests past this point at once (health and WebSockets exempt).
    app.add_middleware(AdmissionGate, limit=settings.api_concurrency,  # type: ignore[arg-type]
                       queue_timeout_s=settings.api_queue_timeout_s)
    install_hardening(app)  # body limits, NUL/surrogate and Origin checks, OpenAPI security
    return app
