"""Database side of regions and geocoding (all SQL of these features lives here).

Functions take a SQLAlchemy ``Session`` and never commit: the caller owns the unit of work.

* :func:`import_region` — validate files (:mod:`geo.regions`) then replace one kabupaten/kota.
* :func:`list_regions`, :func:`region_geojson` — what is loaded.
* :func:`load_geocoder` — build the in-process :class:`~geo.geocode.Geocoder` from PostGIS.
* :func:`reverse_postgis`, :func:`reverse_postgis_many` — the PostGIS reference geocoder
  (``ST_Covers`` on geometry; candidates by ``ST_DWithin`` on geography; distance = geodesic
  metres on the WGS 84 spheroid, ``ST_Distance(geography)``, minimised over the polygon's boundary
  segments), with the same tie rules as the in-process geocoder.

  Why per segment: PostGIS 3.3's ``ST_Distance(geography)`` of a point to a whole polygon
  overestimated by up to ~0.3 % in our checks (e.g. 325.87 m where the geodesic distance to the
  nearest boundary vertex is 325.23 m, confirmed with pyproj ``Geod``), while its point-to-segment
  distances are exact. Candidates are searched with a 1 % + 1 m wider radius for the same reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION
from sqlalchemy.orm import Session

from geo.area import AdminArea, KecamatanInfo
from geo.exceptions import RegionNotFoundError
from geo.geocode import (
    MATCH_EXACT,
    MATCH_INVALID,
    MATCH_NEAREST,
    MATCH_OUTSIDE,
    TIE_EPSILON_M,
    Geocoder,
    ReverseResult,
)
from geo.models import Desa, Kecamatan, Region
from geo.regions import BOUNDARY_ATTRIBUTION, RegionData, read_region
from geo.timestamp import iso_utc
from geo.types import validate_lonlat


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_region` wrote."""

    kode_kab: str
    nama_kab: str
    desa_count: int
    kecamatan_count: int
    kabupaten_count: int
    replaced: bool
    kecamatan_dissolved: bool
    kabupaten_dissolved: bool
    sources: dict[str, str]
    reprojected_from: dict[str, str]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RegionSummary:
    kode_kab: str
    nama_kab: str
    jenis: str
    kode_prov: str | None
    nama_prov: str | None
    kecamatan_count: int
    desa_count: int
    kelurahan_count: int
    source_file: str
    imported_at: datetime

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["imported_at"] = iso_utc(self.imported_at)
        return out


def _wkb(geom) -> object:
    from geoalchemy2.shape import from_shape

    return from_shape(geom, srid=4326)


def import_region(
    session: Session,
    desa_path: str | Path,
    *,
    kecamatan_path: str | Path | None = None,
    kabupaten_path: str | Path | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import (or replace) one kabupaten/kota from boundary files.

    All files are read and validated before anything is written; the writes run in one
    SAVEPOINT of the caller's transaction, so on any error nothing is left behind. A region
    already loaded with the same ``kode_kab`` is replaced: its ``region`` row is updated in
    place (rows of other tables referencing it stay valid), its kecamatan and desa rows are
    deleted and inserted again.

    Raises
    ------
    RegionImportError
        Unreadable file, missing code column, empty/invalid geometry, unusable CRS, duplicate
        codes, several regions in one file, inconsistent codes.
    """
    data = read_region(desa_path, kecamatan_path=kecamatan_path, kabupaten_path=kabupaten_path)
    with session.begin_nested():
        return write_region(session, data, now=now)


def write_region(session: Session, data: RegionData, *, now: datetime | None = None
                 ) -> ImportReport:
    """Write (or replace) one region already read and validated (:func:`read_region`)."""
    replaced = _write(session, data, now or datetime.now(UTC))
    return ImportReport(
        kode_kab=data.kode_kab, nama_kab=data.nama_kab, desa_count=len(data.desa),
        kecamatan_count=len(data.kecamatan), kabupaten_count=1, replaced=replaced,
        kecamatan_dissolved=all(k.dissolved for k in data.kecamatan),
        kabupaten_dissolved=data.dissolved, sources=dict(data.sources),
        reprojected_from=dict(data.reprojected_from),
    )


def _write(session: Session, data: RegionData, now: datetime) -> bool:
    existing = session.execute(
        select(Region.kode_kab).where(Region.kode_kab == data.kode_kab).with_for_update()
    ).first()
    region_values = dict(
        kode_bps_kab=data.kode_bps_kab, nama_kab=data.nama_kab, jenis=data.jenis,
        kode_prov=data.kode_prov, nama_prov=data.nama_prov, geom=_wkb(data.geom),
        dissolved=data.dissolved, source_file=data.sources.get("kabupaten", data.sources["desa"]),
        imported_at=now,
    )
    if existing:
        session.execute(delete(Desa).where(Desa.kode_kab == data.kode_kab))
        session.execute(delete(Kecamatan).where(Kecamatan.kode_kab == data.kode_kab))
        session.execute(
            Region.__table__.update()
            .where(Region.kode_kab == data.kode_kab)
            .values(**region_values)
        )
    else:
        session.execute(insert(Region).values(kode_kab=data.kode_kab, **region_values))
    kec_source = data.sources.get("kecamatan", data.sources["desa"])
    session.execute(
        insert(Kecamatan),
        [
            dict(kode_kec=k.kode_kec, kode_kab=data.kode_kab, kode_bps_kec=k.kode_bps_kec,
                 nama_kec=k.nama_kec, nama_bps_kec=k.nama_bps_kec, geom=_wkb(k.geom),
                 dissolved=k.dissolved, source_file=kec_source, imported_at=now)
            for k in data.kecamatan
        ],
    )
    session.execute(
        insert(Desa),
        [
            dict(kode_desa=d.kode_desa, kode_kab=data.kode_kab, kode_kec=d.kode_kec,
                 nama_desa=d.nama_desa, jenis=d.jenis, kode_bps=d.kode_bps, nama_bps=d.nama_bps,
                 geom=_wkb(d.geom), source_file=data.sources["desa"], imported_at=now)
            for d in data.desa
        ],
    )
    return existing is not None


def delete_region(session: Session, kode_kab: str) -> None:
    """Remove one region with its kecamatan and desa (rows referencing it cascade or block)."""
    result = session.execute(delete(Region).where(Region.kode_kab == kode_kab))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise RegionNotFoundError(f"wilayah {kode_kab} belum dimuat / region {kode_kab} not loaded")


def list_regions(session: Session) -> list[RegionSummary]:
    """Loaded regions with their kecamatan / desa / kelurahan counts, by code."""
    kec = (
        select(Kecamatan.kode_kab, func.count().label("n"))
        .group_by(Kecamatan.kode_kab).subquery()
    )
    des = (
        select(
            Desa.kode_kab,
            func.count().label("n"),
            func.count().filter(Desa.jenis == "kelurahan").label("kel"),
        )
        .group_by(Desa.kode_kab).subquery()
    )
    rows = session.execute(
        select(
            Region.kode_kab, Region.nama_kab, Region.jenis, Region.kode_prov, Region.nama_prov,
            func.coalesce(kec.c.n, 0), func.coalesce(des.c.n, 0), func.coalesce(des.c.kel, 0),
            Region.source_file, Region.imported_at,
        )
        .outerjoin(kec, kec.c.kode_kab == Region.kode_kab)
        .outerjoin(des, des.c.kode_kab == Region.kode_kab)
        .order_by(Region.kode_kab)
    ).all()
    return [RegionSummary(*row) for row in rows]


def regions_version(session: Session) -> tuple[int, datetime | None]:
    """(number of regions, latest import time): changes whenever a region is (re)imported."""
    count, latest = session.execute(
        select(func.count(), func.max(Region.imported_at))
    ).one()
    return int(count), latest


def load_geocoder(session: Session) -> Geocoder:
    """Build a :class:`Geocoder` from every desa and kecamatan in the database."""
    rows = session.execute(
        select(
            Desa.kode_desa, Desa.nama_desa, Desa.jenis, Desa.kode_kec, Kecamatan.nama_kec,
            Desa.kode_kab, Region.nama_kab, Region.kode_prov, Region.nama_prov, Desa.kode_bps,
            Desa.nama_bps, func.ST_AsBinary(Desa.geom),
        )
        .join(Kecamatan, Kecamatan.kode_kec == Desa.kode_kec)
        .join(Region, Region.kode_kab == Desa.kode_kab)
        .order_by(Desa.kode_desa)
    ).all()
    geoms = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else []
    desa = [(AdminArea(*r[:-1]), g) for r, g in zip(rows, geoms, strict=True)]
    krows = session.execute(
        select(
            Kecamatan.kode_kec, Kecamatan.nama_kec, Kecamatan.kode_kab, Region.nama_kab,
            Kecamatan.kode_bps_kec, Kecamatan.nama_bps_kec, func.ST_AsBinary(Kecamatan.geom),
        )
        .join(Region, Region.kode_kab == Kecamatan.kode_kab)
        .order_by(Kecamatan.kode_kec)
    ).all()
    kgeoms = shapely.from_wkb([bytes(r[-1]) for r in krows]) if krows else []
    kec = [(KecamatanInfo(*r[:-1]), g) for r, g in zip(krows, kgeoms, strict=True)]
    return Geocoder(desa, kec)


def region_geojson(session: Session, kode_kab: str, level: str) -> dict:
    """GeoJSON FeatureCollection of the desa or kecamatan of one region (for maps).

    Raises
    ------
    RegionNotFoundError
        No region with that code is loaded.
    """
    nama = session.execute(select(Region.nama_kab).where(Region.kode_kab == kode_kab)).scalar()
    if nama is None:
        raise RegionNotFoundError(
            f"Wilayah {kode_kab} belum dimuat / region {kode_kab} is not loaded"
        )
    if level == "desa":
        cols = [Desa.kode_desa, Desa.nama_desa, Desa.jenis, Desa.kode_bps, Desa.nama_bps,
                Desa.kode_kec, Kecamatan.nama_kec, Desa.kode_kab]
        stmt = select(*cols, func.ST_AsGeoJSON(Desa.geom, 6)).join(
            Kecamatan, Kecamatan.kode_kec == Desa.kode_kec
        ).where(Desa.kode_kab == kode_kab).order_by(Desa.kode_desa)
    elif level == "kecamatan":
        cols = [Kecamatan.kode_kec, Kecamatan.nama_kec, Kecamatan.kode_bps_kec,
                Kecamatan.nama_bps_kec, Kecamatan.kode_kab]
        stmt = select(*cols, func.ST_AsGeoJSON(Kecamatan.geom, 6)).where(
            Kecamatan.kode_kab == kode_kab
        ).order_by(Kecamatan.kode_kec)
    else:
        raise ValueError(f"level must be 'desa' or 'kecamatan', got {level!r}")
    names = [c.key for c in cols]
    features = []
    for row in session.execute(stmt):
        props = dict(zip(names, row[:-1], strict=True))
        props["nama_kab"] = nama
        features.append({"type": "Feature", "properties": props, "geometry": json.loads(row[-1])})
    return {
        "type": "FeatureCollection",
        "name": f"{level}_{kode_kab}",
        "attribution": BOUNDARY_ATTRIBUTION,
        "features": features,
    }


# --------------------------------------------------------------------------- PostGIS reference

_REVERSE_SQL = text(
    """
    SELECT t.i, e.kode_desa AS exact_kode, n.kode_desa AS near_kode, n.dist
    FROM unnest(:lons, :lats) WITH ORDINALITY AS t(lon, lat, i)
    CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) AS g) p
    LEFT JOIN LATERAL (
        SELECT d.kode_desa FROM desa d
        WHERE ST_Covers(d.geom, p.g)
        ORDER BY d.kode_desa LIMIT 1
    ) e ON true
    LEFT JOIN LATERAL (
        SELECT c.kode_desa, c.dist FROM (
            SELECT c0.kode_desa, c0.dist, min(c0.dist) OVER () AS min_dist FROM (
                SELECT d.kode_desa, (
                    SELECT min(ST_Distance(s.geom::geography, p.g::geography))
                    FROM ST_DumpSegments(d.geom) s
                    WHERE s.geom && ST_Expand(
                        p.g,
                        :search / (111320.0 * cos(radians(least(abs(t.lat) + 1.0, 89.0)))) * 1.05,
                        :search / 110574.0 * 1.05)
                ) AS dist
                FROM desa d
                WHERE e.kode_desa IS NULL AND :tol > 0
                  AND ST_DWithin(d.geom::geography, p.g::geography, :search)
            ) c0
            WHERE c0.dist <= :tol
        ) c
        WHERE c.dist <= c.min_dist + :eps
        ORDER BY c.kode_desa LIMIT 1
    ) n ON true
    ORDER BY t.i
    """
).bindparams(
    bindparam("lons", type_=ARRAY(DOUBLE_PRECISION)),
    bindparam("lats", type_=ARRAY(DOUBLE_PRECISION)),
)


def reverse_postgis_many(
    session: Session,
    lons: Sequence[float] | np.ndarray,
    lats: Sequence[float] | np.ndarray,
    tolerance_m: float = 500.0,
) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    """Reference batch reverse geocode in one SQL statement (unnest of two arrays).

    Returns
    -------
    (kode_desa list, match codes int8, distance_m float64) — same codes as
    :class:`geo.geocode.BatchResult`; invalid coordinates are marked without querying.
    """
    lon_arr = np.asarray(lons, dtype=np.float64)
    lat_arr = np.asarray(lats, dtype=np.float64)
    n = lon_arr.shape[0]
    with np.errstate(invalid="ignore"):
        valid = (np.isfinite(lon_arr) & np.isfinite(lat_arr) & (np.abs(lat_arr) <= 90)
                 & (np.abs(lon_arr) <= 180))
    kode: list[str | None] = [None] * n
    match = np.full(n, MATCH_INVALID, dtype=np.int8)
    dist = np.full(n, np.nan)
    where = np.flatnonzero(valid)
    if where.size:
        rows = session.execute(
            _REVERSE_SQL,
            {"lons": lon_arr[where].tolist(), "lats": lat_arr[where].tolist(),
             "tol": float(tolerance_m), "search": float(tolerance_m) * 1.01 + 1.0,
             "eps": TIE_EPSILON_M},
        ).all()
        for i, exact, near, d in rows:
            j = int(where[i - 1])
            if exact is not None:
                kode[j], match[j], dist[j] = exact, MATCH_EXACT, 0.0
            elif near is not None:
                kode[j], match[j], dist[j] = near, MATCH_NEAREST, float(d)
            else:
                match[j] = MATCH_OUTSIDE
    return kode, match, dist


def reverse_postgis(
    session: Session, lon: float, lat: float, tolerance_m: float = 500.0
) -> ReverseResult:
    """Reference single-point reverse geocode in PostGIS (same rules as ``Geocoder.reverse``)."""
    validate_lonlat(lon, lat)
    kode, match, dist = reverse_postgis_many(session, [lon], [lat], tolerance_m)
    if kode[0] is None:
        return ReverseResult("outside", float("nan"), None)
    area = _area(session, kode[0])
    return ReverseResult("exact" if match[0] == MATCH_EXACT else "nearest", float(dist[0]), area)


def _area(session: Session, kode_desa: str) -> AdminArea:
    row = session.execute(
        select(
            Desa.kode_desa, Desa.nama_desa, Desa.jenis, Desa.kode_kec, Kecamatan.nama_kec,
            Desa.kode_kab, Region.nama_kab, Region.kode_prov, Region.nama_prov, Desa.kode_bps,
            Desa.nama_bps,
        )
        .join(Kecamatan, Kecamatan.kode_kec == Desa.kode_kec)
        .join(Region, Region.kode_kab == Desa.kode_kab)
        .where(Desa.kode_desa == kode_desa)
    ).one()
    return AdminArea(*row)

