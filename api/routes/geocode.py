"""Geocoding routes: reverse (point → desa/kecamatan/kabupaten) and fuzzy name search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import get_state
from api.geocoder_holder import GeocoderHolder
from api.schemas_geo import ReverseOut, SearchOut
from api.state import AppState
from geo.geocode import Geocoder

router = APIRouter(prefix="/api/v1/geocode", tags=["geocode"])

_KODE_KAB = r"^\d{2}\.\d{2}$"
_KODE_KEC = r"^\d{2}\.\d{2}\.\d{2}$"


def holder_of(state: AppState) -> GeocoderHolder:
    """The app's :class:`GeocoderHolder` (built by ``api.services.build_services``)."""
    return state.geocoder


def current_geocoder(state: Annotated[AppState, Depends(get_state)]) -> Geocoder:
    return holder_of(state).get()


@router.get("/reverse", response_model=ReverseOut)
def reverse(
    geocoder: Annotated[Geocoder, Depends(current_geocoder)],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude, degrees WGS 84")],
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude, degrees WGS 84")],
    tolerance_m: Annotated[float, Query(ge=0, le=50_000)] = 500.0,
) -> dict:
    """Desa/kelurahan, kecamatan and kabupaten/kota of a point, with match and distance_m."""
    result = geocoder.reverse(lon, lat, tolerance_m=tolerance_m).to_dict()
    result["lat"], result["lon"] = lat, lon
    return result


@router.get("/search", response_model=SearchOut)
def search(
    geocoder: Annotated[Geocoder, Depends(current_geocoder)],
    q: Annotated[str, Query(min_length=1, max_length=200,
                            pattern=r"^[^\x00]*[0-9A-Za-z][^\x00]*$")],
    kode_kab: Annotated[str | None, Query(pattern=_KODE_KAB)] = None,
    kode_kec: Annotated[str | None, Query(pattern=_KODE_KEC)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict:
    """Ranked desa/kelurahan and kecamatan candidates for a (possibly misspelt) name."""
    try:
        hits = geocoder.search(q, kode_kab=kode_kab, kode_kec=kode_kec, limit=limit)
    except ValueError as exc:
        raise HTTPException(422, f"Pencarian tidak valid / invalid search: {exc}") from exc
    return {"query": q, "candidates": [h.to_dict() for h in hits]}
