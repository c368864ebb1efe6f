"""Downloads of the planner analytics: Gi* hot/cold spots per desa as GeoJSON (for a GIS) and
CSV (for a spreadsheet), with the same filters as ``GET /api/v1/analytics/hotspots/desa``."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from api.deps import get_session
from api.routes.analytics import Filter, Permutations
from dispatch import analytics_service as svc
from geo.service import region_geojson

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

KODE = Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")]
#: gi_bin → class name (English, as GIS tools name them)
GI_CLASS_NAMES = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "not_significant", -1: "cold_90",
                  -2: "cold_95", -3: "cold_99"}
COLUMNS = ("kode_desa", "nama_desa", "count", "value", "measure", "z", "p", "gi_bin", "class")


def _rows(session: Session, kode_kab: str, flt: svc.IncidentFilter, permutations: int,
          seed: int) -> list[dict[str, Any]]:
    res = svc.desa_hotspots(session=session, kode_kab=kode_kab, flt=flt,
                            permutations=permutations, seed=seed)
    d = res.desa
    return [{"kode_desa": d.kode_desa[i], "nama_desa": d.nama_desa[i], "count": int(d.count[i]),
             "value": round(float(res.values[i]), 6), "measure": res.measure,
             "z": round(float(res.gi.z[i]), 4), "p": float(res.gi.p_sim[i]),
             "gi_bin": int(res.gi.gi_bin[i]),
             "class": GI_CLASS_NAMES[int(res.gi.gi_bin[i])]} for i in range(len(d.kode_desa))]


@router.get("/hotspots/desa.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def hotspots_csv(
    kode_kab: KODE, flt: Filter, permutations: Permutations = 999, seed: int = 112,
    session: Session = Depends(get_session),
) -> Response:
    """Gi* per desa as CSV (one row per desa)."""
    rows = _rows(session, kode_kab, flt, permutations, seed)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="titik_panas_{kode_kab}.csv"'})


@router.get("/hotspots/desa.geojson", response_class=Response,
            responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}})
def hotspots_geojson(
    kode_kab: KODE, flt: Filter, permutations: Permutations = 999, seed: int = 112,
    session: Session = Depends(get_session),
) -> Response:
    """Gi* per desa as a GeoJSON FeatureCollection of the desa polygons."""
    rows = {r["kode_desa"]: r for r in _rows(session, kode_kab, flt, permutations, seed)}
    fc = region_geojson(session, kode_kab, "desa")
    for f in fc["features"]:
        f["properties"] = rows.get(f["properties"]["kode_desa"], f["properties"])
    return Response(json.dumps(fc), media_type="application/geo+json")
