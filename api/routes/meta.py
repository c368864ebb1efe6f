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
from api.readiness import NOT_MIGRATED, Notice, setup_notices_async
from api.schemas_analytics import AttributionOut, HealthOut, HealthUnavailableOut

router = APIRouter(prefix="/api/v1", tags=["meta"])

#: Seconds the setup checklist of ``/api/v1/health`` is reused before it is looked up again.
SETUP_RECHECK_S = 5.0

ATTRIBUTION = [
    "Batas administrasi / Administrative boundaries: Badan Pusat Statistik (BPS) / OCHA, "
    "Indonesia Subnational Administrative Boundaries (COD-AB), via the Humanitarian Data Exchange, "
    "CC BY-IGO.",
    "Kode wilayah / Region codes: Kemendagri (Kepmendagri No 300.2.2-2138 Tahun 2025), "
    "via cahyadsn/wilayah (MIT).",
    "Jalan / Roads: © OpenStreetMap contributors, ODbL 1.0.",
    "Penduduk / Population: BPS, Sensus Penduduk 2020.",
]


@router.get("/health", response_model=HealthOut, responses={503: {
    "model": HealthUnavailableOut, "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "description": "Basis data tidak menjawab atau belum dimigrasi / the database does not "
                   "answer or is not migrated"}})
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
    notices = await _setup(request, probe)
    if NOT_MIGRATED in notices:
        return JSONResponse(status_code=503, headers={"Retry-After": "30"}, content={
            "status": "not_migrated", "database": "not_migrated", "database_ms": db_ms,
            "message": NOT_MIGRATED.text(), "setup": [NOT_MIGRATED.to_dict()]})
    return {"status": "ok", "database": "ok", "database_ms": db_ms,
            "setup": [n.to_dict() for n in notices]}


async def _setup(request: Request, probe: DatabaseProbe) -> list[Notice]:
    """What is still to set up (``api.readiness``), looked up at most every
    :data:`SETUP_RECHECK_S` seconds; nothing when it cannot be answered in time."""
    cached = getattr(request.app.state, "setup_notices", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < SETUP_RECHECK_S:
        return cached[1]
    notices: list[Notice] = []
    with anyio.move_on_after(HEALTH_TIMEOUT_S):
        try:
            notices = await setup_notices_async(
                probe.query, request.app.state.siaga.settings.roads_dir)
        except Exception:  # noqa: BLE001 - the checklist never makes the health check fail
            return []
        request.app.state.setup_notices = (now, notices)
    return notices


@router.get("/attribution", response_model=AttributionOut)
def attribution() -> dict:
    """Data sources and licences that must be shown with the data."""
    return {"attribution": ATTRIBUTION}
