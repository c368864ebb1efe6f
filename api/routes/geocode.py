"""Geocoding routes: reverse (point → desa/kecamatan/kabupaten) and fuzzy name search."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from api.deps import get_state
from api.schemas_geo import ReverseOut, SearchOut
from api.state import AppState
from geo.geocode import Geocoder
from geo.service import load_geocoder, regions_version

router = APIRouter(prefix="/api/v1/geocode", tags=["geocode"])

_KODE_KAB = r"^\d{2}\.\d{2}$"
_KODE_KEC = r"^\d{2}\.\d{2}\.\d{2}$"


class GeocoderHolder:
    """The app's one geocoder, shared by incident intake and the geocode routes.

    Every :meth:`get` compares the regions table's version (count, latest ``imported_at``: one
    aggregate over a few rows) with the one the geocoder was built from and reloads when they
    differ, so a region imported by the CLI or any other process is used by the next request.
    """

    def __init__(self, sessionmaker: Any) -> None:
        self._sessionmaker = sessionmaker
        self._geocoder: Geocoder | None = None
        self._version: Any = None
        self._lock = threading.Lock()

    def _current(self, session: Session) -> Geocoder:
        version = regions_version(session)
        if self._geocoder is not None and version == self._version:
            return self._geocoder
        with self._lock:
            if self._geocoder is None or version != self._version:
                # Read at the version just seen; a newer import is caught on the next call.
                self._geocoder, self._version = load_geocoder(session), version
            return self._geocoder

    def get(self, session: Session | None = None) -> Geocoder:
        """The geocoder for the regions in the database now; uses ``session`` when given (the
        request's own connection) else a short session of its own."""
        if session is not None:
            return self._current(session)
        with self._sessionmaker() as own:
            return self._current(own)

    def reload(self) -> Geocoder:
        """Rebuild now (startup)."""
        with self._sessionmaker() as session, self._lock:
            self._geocoder, self._version = load_geocoder(session), regions_version(session)
            return self._geocoder


def holder_of(state: AppState) -> GeocoderHolder:
    """The app's :class:`GeocoderHolder` (created on first use)."""
    holder = state.resources.get("geocoder_holder")
    if holder is None:
        holder = state.resources.setdefault("geocoder_holder",
                                            GeocoderHolder(state.sessionmaker))
    return holder


def startup(state: AppState) -> None:
    holder = holder_of(state)
    try:
        holder.reload()
    except Exception:  # noqa: BLE001 - database not migrated yet: load lazily on first request
        pass


def current_geocoder(state: Annotated[AppState, Depends(get_state)]) -> Any:
    return holder_of(state).get()


@router.get("/reverse", response_model=ReverseOut)
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


@router.get("/search", response_model=SearchOut)
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
