"""Health and attribution endpoints.

``/api/v1/health`` stays fast when the API is saturated: it is asynchronous end to end (no worker
thread, no token lookup, not behind the admission gate of ``api/admission.py``) and probes the
database on an asynchronous psycopg connection of its own, within :data:`HEALTH_TIMEOUT_S`. A
slow or unreachable database gives 503 with the reason, within that time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.schemas_analytics import AttributionOut, HealthOut
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


class DatabaseProbe:
    """One asynchronous connection, reopened after any failure, for ``select 1``."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.conn: psycopg.AsyncConnection | None = None
        self.lock = asyncio.Lock()

    async def check(self) -> None:
        async with self.lock:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, connect_timeout=2)
                await self.conn.execute("select 1")
            except BaseException:
                await self.close()  # timed out or failed mid-way: its state is unknown
                raise

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and not conn.closed:
            with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                await conn.close()


def startup(state: AppState) -> None:
    """The health probe's own connection (opened on the first check)."""
    url = state.engine.url.set(drivername="postgresql")
    state.resources["health_probe"] = DatabaseProbe(url.render_as_string(hide_password=False))


async def shutdown(state: AppState) -> None:
    probe = state.resources.pop("health_probe", None)
    if probe is not None:
        await probe.close()


@router.get("/health", response_model=HealthOut)
async def health(request: Request) -> Any:
    """Liveness and database connectivity (answers within a second, 503 if the database is not)."""
    probe: DatabaseProbe = request.app.state.siaga.resources["health_probe"]
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
