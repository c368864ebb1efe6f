"""Health and attribution endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import text

from api.deps import get_state
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


@router.get("/health")
def health(state: AppState = Depends(get_state)) -> dict:
    """Liveness and database connectivity."""
    with state.engine.connect() as conn:
        conn.execute(text("select 1"))
    return {"status": "ok"}


@router.get("/attribution")
def attribution() -> dict:
    """Data sources and licences that must be shown with the data."""
    return {"attribution": ATTRIBUTION}
