"""Health and attribution endpoints.

``/api/v1/health`` stays fast when the API is saturated: it is asynchronous end to end (no worker
thread, no token lookup, not behind the admission gate of ``api/admission.py``) and probes the
database on an asynchronous psycopg connection of its own, within :data:`HEALTH_TIMEOUT_S`. A
slow or unreachable database gives 503 with the reason, within that time.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.health_probe import HEALTH_TIMEOUT_S, DatabaseProbe
from api.schemas_analytics import AttributionOut, HealthOut

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


@router.get("/health", response_model=HealthOut)
async def health(request: Request) -> Any:
    """Liveness and database connectivity (answers within a second, 503 if the database is not)."""
    probe: DatabaseProbe = request.app.state.siaga.health_probe
    started = time.perf_counter()
    problem = None
    try:
        with anyio.fail_after(HEALTH_TIMEOUT_S):
            await probe.check()
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


@router.get("/attribution", response_model=AttributionOut)
def attribution() -> dict:
    """Data sources and licences that must be shown with the data."""
    return {"attribution": ATTRIBUTION}
