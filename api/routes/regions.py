"""Region routes: what is loaded, and boundaries as GeoJSON for maps (with attribution)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from api.deps import get_session
from api.schemas_geo import BoundaryCollection, RegionListOut

router = APIRouter(prefix="/api/v1/regions", tags=["regions"])

KodeKab = Annotated[str, Path(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri code, e.g. 34.71")]


@router.get("", response_model=RegionListOut)
def regions(session: Annotated[Session, Depends(get_session)]) -> dict:
    """Loaded kabupaten/kota with kecamatan and desa/kelurahan counts."""
    from geo.regions import BOUNDARY_ATTRIBUTION
    from geo.service import list_regions

    return {
        "regions": [r.to_dict() for r in list_regions(session)],
        "attribution": BOUNDARY_ATTRIBUTION,
    }


@router.get("/{kode_kab}/desa.geojson", response_model=BoundaryCollection)
def desa_geojson(kode_kab: KodeKab, session: Annotated[Session, Depends(get_session)]) -> dict:
    """Desa/kelurahan boundaries of one region (GeoJSON FeatureCollection)."""
    from geo.service import region_geojson

    return region_geojson(session, kode_kab, "desa")


@router.get("/{kode_kab}/kecamatan.geojson", response_model=BoundaryCollection)
def kecamatan_geojson(kode_kab: KodeKab, session: Annotated[Session, Depends(get_session)]) -> dict:
    """Kecamatan boundaries of one region (GeoJSON FeatureCollection)."""
    from geo.service import region_geojson

    return region_geojson(session, kode_kab, "kecamatan")
