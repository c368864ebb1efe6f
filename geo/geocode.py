"""In-process geocoding over desa/kelurahan polygons (pure: no I/O).

A :class:`Geocoder` is built from desa polygons (WGS 84, EPSG:4326) and their administrative
parents, usually by ``geo.service.load_geocoder(session)``. It answers

* **reverse** — point → desa, kecamatan, kabupaten/kota with ``match``:

  - ``exact``: a desa polygon *covers* the point (interior or boundary, planar test in lon/lat,
    the same predicate as PostGIS ``ST_Covers(geom, point)``);
  - ``nearest``: no polygon covers it, but one lies within ``tolerance_m`` (default 500 m);
  - ``outside``: nothing within the tolerance.

  **Tie-breaking** (shared edges, overlaps, equidistant neighbours): among the polygons that cover
  the point, the smallest ``kode_desa`` wins; for ``nearest``, among the polygons whose distance is
  within :data:`TIE_EPSILON_M` of the minimum, the smallest ``kode_desa`` wins.

  **Distances** are metres on a per-region transverse Mercator projection on the WGS 84
  ellipsoid centred on the region (scale error < 1e-5 over a regency, i.e. < 5 mm at 500 m),
  matching PostGIS ``ST_Distance(geography)`` (geodesic on the spheroid) to the millimetre.

* **forward** — :meth:`Geocoder.search`, fuzzy name search (see :mod:`geo.search`).

:meth:`Geocoder.reverse_many` is the vectorised batch version: a per-region lookup grid answers
most points by array indexing and tests the rest against a few candidate polygons or segments per
grid cell (:mod:`geo._grid`); points the grid cannot answer take shapely 2 bulk STRtree queries
(:mod:`geo._reverse`). Both give bit-identical answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo._reverse import (
    MATCH_EXACT,
    MATCH_INVALID,
    MATCH_NEAREST,
    MATCH_OUTSIDE,
    TIE_EPSILON_M,
    ReverseIndex,
)
from geo.area import AdminArea, KecamatanInfo
from geo.exceptions import InvalidCoordinateError
from geo.search import NameIndex, SearchCandidate
from geo.types import LonLat, validate_lonlat

__all__ = [
    "AdminArea",
    "BatchResult",
    "Geocoder",
    "KecamatanInfo",
    "ReverseResult",
    "SearchCandidate",
    "MATCH_EXACT",
    "MATCH_NEAREST",
    "MATCH_OUTSIDE",
    "MATCH_INVALID",
    "MATCH_NAMES",
    "TIE_EPSILON_M",
]

Match = Literal["exact", "nearest", "outside"]

#: Match names indexed by the batch match codes (``BatchResult.match``).
MATCH_NAMES = ("exact", "nearest", "outside", "invalid")

DEFAULT_TOLERANCE_M = 500.0


_EMPTY_AREA = {k: None for k in AdminArea.__dataclass_fields__}


@dataclass(frozen=True)
class ReverseResult:
    """Answer of a reverse geocode. ``distance_m`` is 0 for ``exact`` and NaN for ``outside``."""

    match: Match
    distance_m: float
    area: AdminArea | None

    def to_dict(self) -> dict:
        """Flat dict: every :class:`AdminArea` field (``None`` when outside), match, distance_m."""
        out = dict(_EMPTY_AREA) if self.area is None else self.area.to_dict()
        out["match"] = self.match
        dist = self.distance_m
        out["distance_m"] = None if dist != dist else round(dist, 3)
        return out


@dataclass(frozen=True)
class BatchResult:
    """Vectorised reverse answers, one entry per input point.

    Attributes
    ----------
    area_index : numpy.ndarray of int64
        Index into :attr:`Geocoder.areas`, ``-1`` for outside/invalid.
    match : numpy.ndarray of int8
        :data:`MATCH_EXACT`, :data:`MATCH_NEAREST`, :data:`MATCH_OUTSIDE` or :data:`MATCH_INVALID`.
    distance_m : numpy.ndarray of float64
        Metres; 0 for exact, NaN for outside/invalid.
    """

    area_index: np.ndarray
    match: np.ndarray
    distance_m: np.ndarray

    def __len__(self) -> int:
        return int(self.area_index.shape[0])


class Geocoder:
    """Reverse and forward geocoder over desa polygons held in memory.

    Parameters
    ----------
    desa : sequence of (AdminArea, shapely Polygon/MultiPolygon)
        Desa/kelurahan polygons in EPSG:4326 (lon/lat degrees). Order does not matter.
    kecamatan : sequence of (KecamatanInfo, geometry), optional
        Kecamatan polygons for forward search; dissolved from the desa when omitted.
    """

    def __init__(
        self,
        desa: Sequence[tuple[AdminArea, BaseGeometry]],
        kecamatan: Sequence[tuple[KecamatanInfo, BaseGeometry]] = (),
    ) -> None:
        ordered = sorted(desa, key=lambda item: item[0].kode_desa)
        self.areas: tuple[AdminArea, ...] = tuple(a for a, _ in ordered)
        self.geometries: np.ndarray = np.array([g for _, g in ordered], dtype=object)
        if not kecamatan and ordered:
            kecamatan = _dissolve_kecamatan(ordered)
        self._reverse = ReverseIndex(self.areas, self.geometries)
        self._names = NameIndex.build(ordered, kecamatan)

    def __len__(self) -> int:
        return len(self.areas)

    def region_codes(self) -> list[str]:
        """Sorted kabupaten/kota codes of the loaded regions."""
        return sorted({a.kode_kab for a in self.areas})

    def reverse(
        self, lon: float, lat: float, *, tolerance_m: float = DEFAULT_TOLERANCE_M
    ) -> ReverseResult:
        """Place one WGS 84 point (degrees) in the hierarchy.

        Raises
        ------
        InvalidCoordinateError
            NaN, infinite or out-of-range coordinates.
        """
        validate_lonlat(lon, lat)
        batch = self.reverse_many(
            np.array([float(lon)]), np.array([float(lat)]), tolerance_m=tolerance_m
        )
        return self.result_at(batch, 0)

    def reverse_point(
        self, point: LonLat, *, tolerance_m: float = DEFAULT_TOLERANCE_M
    ) -> ReverseResult:
        """:meth:`reverse` for a :class:`LonLat`."""
        return self.reverse(point.lon, point.lat, tolerance_m=tolerance_m)

    def reverse_many(
        self,
        lons: np.ndarray | Sequence[float],
        lats: np.ndarray | Sequence[float],
        *,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
    ) -> BatchResult:
        """Vectorised reverse geocode of many WGS 84 points (degrees).

        Invalid coordinates (NaN, out of range) are not raised but marked :data:`MATCH_INVALID`.
        """
        lon_arr = np.ascontiguousarray(lons, dtype=np.float64)
        lat_arr = np.ascontiguousarray(lats, dtype=np.float64)
        if lon_arr.shape != lat_arr.shape or lon_arr.ndim != 1:
            raise ValueError("lons and lats must be 1-D arrays of the same length")
        if not (tolerance_m >= 0.0 and np.isfinite(tolerance_m)):
            raise ValueError(f"tolerance_m must be a finite number >= 0, got {tolerance_m!r}")
        idx, match, dist = self._reverse.query(lon_arr, lat_arr, float(tolerance_m))
        return BatchResult(area_index=idx, match=match, distance_m=dist)

    def result_at(self, batch: BatchResult, i: int) -> ReverseResult:
        """The :class:`ReverseResult` for entry ``i`` of a batch (invalid entries raise)."""
        code = int(batch.match[i])
        if code == MATCH_INVALID:
            raise InvalidCoordinateError(f"entry {i} has invalid coordinates")
        j = int(batch.area_index[i])
        area = self.areas[j] if j >= 0 else None
        return ReverseResult(MATCH_NAMES[code], float(batch.distance_m[i]), area)  # type: ignore[arg-type]

    def search(
        self,
        q: str,
        *,
        kode_kab: str | None = None,
        kode_kec: str | None = None,
        limit: int = 10,
    ) -> list[SearchCandidate]:
        """Fuzzy search of desa/kelurahan and kecamatan names (see :mod:`geo.search`)."""
        return self._names.search(q, kode_kab=kode_kab, kode_kec=kode_kec, limit=limit)


def _dissolve_kecamatan(
    ordered: Sequence[tuple[AdminArea, BaseGeometry]],
) -> list[tuple[KecamatanInfo, BaseGeometry]]:
    groups: dict[str, list[tuple[AdminArea, BaseGeometry]]] = {}
    for area, geom in ordered:
        groups.setdefault(area.kode_kec, []).append((area, geom))
    out = []
    for kode_kec, items in sorted(groups.items()):
        first = items[0][0]
        info = KecamatanInfo(kode_kec, first.nama_kec, first.kode_kab, first.nama_kab)
        out.append((info, shapely.union_all([g for _, g in items])))
    return out
