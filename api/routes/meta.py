"""Health and attribution endpoints.

``/api/v1/health`` stays fast when the API is saturated: it is asynchronous (no worker thread of
the busy pool, no token lookup), and probes the database on a connection of its own (a one-
connection engine, its own one-thread limiter) within :data:`HEALTH_TIMEOUT_S`. A slow or
unreachable database gives 503 with the reason, within that time.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from api.db import make_engine
from api.state import AppState

router = APIRouter(prefix="/api/v1", tags=["meta"])

ATTRIBUTION = [
    "Batas administrasi / Administrative boundaries: Badan Pusat Statistik (BPS) / OCHA, "
    "Indonesia Subnational Administrative Boundaries (COD-AB), via the Humanitarian Data Exchange, "
    "CC BY-IGO.",
    "Kode wilayah / Region codes: Kemendagri (Kepmendagri No 300.2.2-2138 Tahun 2025), "
    "via cahyadsn/wilayah (MIT).",
    "Jalan / Roads: © OpenStreetMap contributors, ODbL 1.0.",
    "Penduduk / Population: BPS, Sensus Penduduk 2020.",
]


#: Upper bound of the database probe of ``/api/v1/health`` (seconds).
HEALTH_TIMEOUT_S = 0.8


def startup(state: AppState) -> None:
    """The health probe's own engine (one connection) and thread limiter."""
    url = state.engine.url.render_as_string(hide_password=False)
    state.resources["health_engine"] = make_engine(
        url, pool_size=1, max_overflow=0, pool_timeout=HEALTH_TIMEOUT_S,
        connect_args={"connect_timeout": 2})
    state.resources["health_limiter"] = anyio.CapacityLimiter(1)
    with contextlib.suppress(Exception):  # connect now, so the first probe is quick too
        _probe(state.resources["health_engine"])


def shutdown(state: AppState) -> None:
    engine = state.resources.pop("health_engine", None)
    if engine is not None:
        engine.dispose()


def _probe(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("select 1"))


@router.get("/health")
async def health(request: Request) -> Any:
    """Liveness and database connectivity (answers within a second, 503 if the database is not)."""
    state: AppState = request.app.state.siaga
    engine = state.resources.get("health_engine") or state.engine
    limiter = state.resources.get("health_limiter")
    started = time.perf_counter()
    problem = None
    try:
        with anyio.fail_after(HEALTH_TIMEOUT_S):
            await anyio.to_thread.run_sync(_probe, engine, limiter=limiter,
                                           abandon_on_cancel=True)
    except TimeoutError:
        problem = "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure of the probe means "not healthy"
        problem = type(exc).__name__
    db_ms = round((time.perf_counter() - started) * 1000, 1)
    if problem is not None:
        return JSONResponse(status_code=503, headers={"Retry-After": "5"}, content={
            "status": "unavailable", "database": problem, "database_ms": db_ms,
            "message": "Basis data tidak menjawab / the database does not answer."})
    return {"status": "ok", "database": "ok", "database_ms": db_ms}


@router.get("/attribution")
def attribution() -> dict:
    """Data sources and licences that must be shown with the data."""
    return {"attribution": ATTRIBUTION}
