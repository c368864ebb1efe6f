"""Geocoding routes: reverse (point → desa/kecamatan/kabupaten) and fuzzy name search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import get_state
from api.state import AppState

router = APIRouter(prefix="/api/v1/geocode", tags=["geocode"])

_KODE_KAB = r"^\d{2}\.\d{2}$"
_KODE_KEC = r"^\d{2}\.\d{2}\.\d{2}$"


class GeocoderHolder:
    """The current geocoder; reloads from PostGIS when regions were (re)imported.

    The region version (count, latest ``imported_at``) is checked at most every
    ``check_interval_s`` seconds, so imports made by the CLI show up without a restart.
    """

    def __init__(self, sessionmaker: Any, check_interval_s: float = 5.0) -> None:
        self._sessionmaker = sessionmaker
        self._interval = check_interval_s
        self._geocoder: Any = None
        self._version: Any = None
        self._checked_at = float("-inf")

    def reload(self) -> Any:
        from geo.service import load_geocoder, regions_version

        with self._sessionmaker() as session:
            self._version = regions_version(session)
            self._geocoder = load_geocoder(session)
        return self._geocoder

    def get(self) -> Any:
        import time

        from geo.service import regions_version

        now = time.monotonic()
        if self._geocoder is None:
            self.reload()
            self._checked_at = now
        elif now - self._checked_at >= self._interval:
            self._checked_at = now
            with self._sessionmaker() as session:
                if regions_version(session) != self._version:
                    self.reload()
        return self._geocoder


def startup(state: AppState) -> None:
    holder = GeocoderHolder(state.sessionmaker)
    state.resources["geocoder_holder"] = holder
    try:
        state.resources["geocoder"] = holder.reload()
    except Exception:  # noqa: BLE001 - database not migrated yet: load lazily on first request
        state.resources["geocoder"] = None


def current_geocoder(state: Annotated[AppState, Depends(get_state)]) -> Any:
    holder = state.resources.get("geocoder_holder")
    if holder is None:
        holder = GeocoderHolder(state.sessionmaker)
        state.resources["geocoder_holder"] = holder
    geocoder = holder.get()
    state.resources["geocoder"] = geocoder
    return geocoder


@router.get("/reverse")
def reverse(
    geocoder: Annotated[Any, Depends(current_geocoder)],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude, degrees WGS 84")],
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude, degrees WGS 84")],
    tolerance_m: Annotated[float, Query(ge=0, le=50_000)] = 500.0,
) -> dict:
    """Desa/kelurahan, kecamatan and kabupaten/kota of a point, with match and distance_m."""
    result = geocoder.reverse(lon, lat, tolerance_m=tolerance_m).to_dict()
    result["lat"], result["lon"] = lat, lon
    return result


@router.get("/search")
def search(
    geocoder: Annotated[Any, Depends(current_geocoder)],
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
