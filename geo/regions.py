"""Reading and validating administrative boundary files (no database access).

:func:`read_region` turns a desa/kelurahan file (GeoJSON, GeoPackage, Shapefile — anything pyogrio
reads) and optional kecamatan / kabupaten files into a validated :class:`RegionData`: one
kabupaten/kota, geometries as shapely MultiPolygons in EPSG:4326. Missing kecamatan / kabupaten
geometries are dissolved (``shapely.union_all``) from the desa.

Every problem raises :class:`geo.exceptions.RegionImportError` with a message naming the file,
the feature (index and code when known) and the problem. CRS rules: a declared CRS other than
EPSG:4326 is reprojected; a file without a CRS is accepted only if its coordinates are lon/lat
degrees; after reprojection the coordinates must be lon/lat degrees in every case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.exceptions import RegionImportError

#: Must be shown wherever the boundaries are shown (CC BY-IGO).
BOUNDARY_ATTRIBUTION = (
    "Administrative boundaries: Badan Pusat Statistik (BPS) / OCHA, Indonesia Subnational "
    "Administrative Boundaries (COD-AB), via the Humanitarian Data Exchange, CC BY-IGO. "
    "Codes and names: Kemendagri (via cahyadsn/wilayah, MIT)."
)

DESA_REQUIRED = ("kode_desa", "nama_desa", "kode_kec", "nama_kec", "kode_kab", "nama_kab")
KEC_REQUIRED = ("kode_kec",)
KAB_REQUIRED = ("kode_kab",)

_KODE = {
    "kode_kab": re.compile(r"^\d{2}\.\d{2}$"),
    "kode_kec": re.compile(r"^\d{2}\.\d{2}\.\d{2}$"),
    "kode_desa": re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"),
}


@dataclass(frozen=True)
class DesaRecord:
    kode_desa: str
    nama_desa: str
    jenis: str
    kode_kec: str
    kode_bps: str | None
    nama_bps: str | None
    geom: MultiPolygon


@dataclass(frozen=True)
class KecamatanRecord:
    kode_kec: str
    nama_kec: str
    kode_bps_kec: str | None
    nama_bps_kec: str | None
    geom: MultiPolygon
    dissolved: bool


@dataclass(frozen=True)
class RegionData:
    """One validated kabupaten/kota ready to be written."""

    kode_kab: str
    nama_kab: str
    jenis: str
    kode_bps_kab: str | None
    kode_prov: str | None
    nama_prov: str | None
    geom: MultiPolygon
    dissolved: bool
    desa: tuple[DesaRecord, ...]
    kecamatan: tuple[KecamatanRecord, ...]
    sources: dict[str, str] = field(default_factory=dict)  # level -> file name
    reprojected_from: dict[str, str] = field(default_factory=dict)  # level -> source CRS


def _fail(path: Path, problem: str, index: int | None = None, code: str | None = None) -> None:
    where = f"{path.name}"
    if index is not None:
        where += f", feature #{index}"
        if code:
            where += f" ({code})"
    raise RegionImportError(f"{where}: {problem}")


def _read(path: Path, level: str, only_kab: str | None = None) -> tuple[Any, str | None]:
    """Read a file into a GeoDataFrame in EPSG:4326; returns (frame, source CRS if reprojected).

    ``only_kab`` keeps the features of that kabupaten/kota (a national file): filtered by the
    driver (OGR SQL on ``kode_kab`` / ``kode_kec``), so the other regencies are never loaded."""
    import pyogrio

    if not path.exists():
        _fail(path, f"{level} file not found ({path})")
    where = None
    if only_kab is not None:
        if not _KODE["kode_kab"].match(only_kab):
            _fail(path, f"kode_kab {only_kab!r} is not a Kemendagri code like 34.71")
        where = (f"kode_kec LIKE '{only_kab}.%'" if level == "kecamatan"
                 else f"kode_kab = '{only_kab}'")
    try:
        frame = pyogrio.read_dataframe(path, where=where)
    except Exception as exc:  # noqa: BLE001 - any driver error is a bad file
        _fail(path, f"cannot be read as a {level} boundary file: {exc}")
    frame.columns = [str(c).lower() if c != frame.geometry.name else c for c in frame.columns]
    if len(frame) == 0:
        _fail(path, f"contains no {level} features"
              + (f" of kabupaten/kota {only_kab}" if only_kab else ""))
    geoms = frame.geometry.values
    missing = [i for i, g in enumerate(geoms) if g is None or g.is_empty]
    if missing:
        _fail(path, "empty or missing geometry", missing[0], _code_at(frame, missing[0], level))
    reprojected = None
    if frame.crs is None:
        if not _looks_lonlat(frame):
            _fail(path, "has no CRS and its coordinates are not longitude/latitude degrees; "
                  "add a .prj / CRS declaration or reproject to EPSG:4326")
    elif not frame.crs.equals("EPSG:4326") and frame.crs.to_epsg() != 4326:
        reprojected = frame.crs.to_string()
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:  # noqa: BLE001
            _fail(path, f"cannot be reprojected from {reprojected} to EPSG:4326: {exc}")
    if not _looks_lonlat(frame):
        _fail(path, "coordinates are not longitude/latitude degrees although the CRS says "
              "EPSG:4326; declare the real CRS or reproject the file")
    return frame, reprojected


def _looks_lonlat(frame: Any) -> bool:
    x0, y0, x1, y1 = shapely.total_bounds(frame.geometry.values)
    return bool(-180.0 <= x0 <= x1 <= 180.0 and -90.0 <= y0 <= y1 <= 90.0)


def _code_at(frame: Any, i: int, level: str) -> str | None:
    col = {"desa": "kode_desa", "kecamatan": "kode_kec", "kabupaten": "kode_kab"}[level]
    if col in frame.columns:
        return _text(frame[col].iloc[i])
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _require_columns(path: Path, frame: Any, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        _fail(path, f"missing column(s) {', '.join(missing)} "
              f"(found: {', '.join(c for c in frame.columns if c != frame.geometry.name)})")


def _polygons(path: Path, frame: Any, code_col: str) -> list[MultiPolygon]:
    out: list[MultiPolygon] = []
    for i, geom in enumerate(frame.geometry.values):
        code = _text(frame[code_col].iloc[i])
        if not isinstance(geom, Polygon | MultiPolygon):
            _fail(path, f"geometry is a {geom.geom_type}, expected Polygon or MultiPolygon",
                  i, code)
        if not geom.is_valid:
            _fail(path, f"invalid geometry: {shapely.is_valid_reason(geom)}", i, code)
        out.append(geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom]))
    return out


def _as_multi(geom: BaseGeometry) -> MultiPolygon:
    geom = shapely.make_valid(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys)


def _codes(path: Path, frame: Any, col: str) -> list[str]:
    codes: list[str] = []
    seen: dict[str, int] = {}
    pattern = _KODE.get(col)
    for i in range(len(frame)):
        code = _text(frame[col].iloc[i])
        if code is None:
            _fail(path, f"empty {col}", i)
        assert code is not None
        if pattern is not None and not pattern.match(code):
            _fail(path, f"{col} {code!r} is not a Kemendagri code like "
                  f"{ {'kode_kab': '34.71', 'kode_kec': '34.71.01'}.get(col, '34.71.01.1001') }", i)
        if code in seen:
            _fail(path, f"duplicate {col} {code} (also feature #{seen[code]})", i, code)
        seen[code] = i
        codes.append(code)
    return codes


def read_region(
    desa_path: str | Path,
    *,
    kecamatan_path: str | Path | None = None,
    kabupaten_path: str | Path | None = None,
    only_kab: str | None = None,
) -> RegionData:
    """Read and validate one kabupaten/kota.

    Parameters
    ----------
    desa_path : path
        Desa/kelurahan polygons with at least the columns :data:`DESA_REQUIRED`; optional
        ``jenis``, ``kode_bps``, ``nama_bps``, ``kode_bps_kec``, ``kode_prov``, ``nama_prov``.
    kecamatan_path, kabupaten_path : path, optional
        Polygons of the kecamatan (column ``kode_kec``) / the kabupaten (``kode_kab``);
        dissolved from the desa when omitted.
    only_kab : str, optional
        Read only this kabupaten/kota code from files that hold many (a national or provincial
        file); see :mod:`geo.national`.

    Raises
    ------
    RegionImportError
        Any problem, with the file, feature and problem named.
    """
    desa_path = Path(desa_path)
    frame, reproj = _read(desa_path, "desa", only_kab)
    _require_columns(desa_path, frame, DESA_REQUIRED)
    codes = _codes(desa_path, frame, "kode_desa")
    geoms = _polygons(desa_path, frame, "kode_desa")
    col = {c: [_text(v) for v in frame[c]] if c in frame.columns else [None] * len(frame)
           for c in ("nama_desa", "jenis", "kode_kec", "nama_kec", "kode_kab", "nama_kab",
                     "kode_bps", "nama_bps", "kode_bps_kec", "nama_bps_kec", "kode_prov",
                     "nama_prov", "kode_bps_kab")}

    kabs = sorted({k for k in col["kode_kab"] if k})
    if len(kabs) != 1:
        _fail(desa_path, "one file must hold exactly one kabupaten/kota, found kode_kab "
              f"{', '.join(kabs) or '(none)'}; import each region separately")
    kode_kab = kabs[0]
    if not _KODE["kode_kab"].match(kode_kab):
        _fail(desa_path, f"kode_kab {kode_kab!r} is not a Kemendagri code like 34.71")

    desa: list[DesaRecord] = []
    kec_rows: dict[str, dict[str, Any]] = {}
    for i, code in enumerate(codes):
        kode_kec = col["kode_kec"][i]
        nama = col["nama_desa"][i]
        if not nama:
            _fail(desa_path, "empty nama_desa", i, code)
        if col["kode_kab"][i] is None:
            _fail(desa_path, "empty kode_kab", i, code)
        if not kode_kec or not code.startswith(kode_kec + ".") or not kode_kec.startswith(
            kode_kab + "."
        ):
            _fail(desa_path, f"codes do not nest: kode_desa {code}, kode_kec {kode_kec}, "
                  f"kode_kab {kode_kab}", i, code)
        jenis = (col["jenis"][i] or "").lower() or ("kelurahan" if code[9] == "1" else "desa")
        if jenis not in ("desa", "kelurahan"):
            _fail(desa_path, f"jenis must be 'desa' or 'kelurahan', got {jenis!r}", i, code)
        desa.append(DesaRecord(code, nama, jenis, kode_kec, col["kode_bps"][i],
                               col["nama_bps"][i], geoms[i]))
        row = kec_rows.setdefault(kode_kec, {"nama": col["nama_kec"][i], "idx": [],
                                             "kode_bps": col["kode_bps_kec"][i],
                                             "nama_bps": col["nama_bps_kec"][i]})
        if not row["nama"]:
            row["nama"] = col["nama_kec"][i]
        row["idx"].append(i)

    sources = {"desa": desa_path.name}
    reprojected = {"desa": reproj} if reproj else {}
    kecamatan = _kecamatan(kecamatan_path, kec_rows, geoms, sources, reprojected, only_kab)
    first = 0
    nama_kab = next((n for n in col["nama_kab"] if n), None) or kode_kab
    kab_geom, kab_dissolved, kab_extra = _kabupaten(
        kabupaten_path, kode_kab, [k.geom for k in kecamatan], sources, reprojected, only_kab
    )
    kode_prov = col["kode_prov"][first] or kab_extra.get("kode_prov") or kode_kab[:2]
    nama_prov = col["nama_prov"][first] or kab_extra.get("nama_prov")
    kode_bps_kab = kab_extra.get("kode_bps_kab") or col["kode_bps_kab"][first] or (
        (col["kode_bps"][first] or "")[:4] or None
    )
    jenis_kab = "kota" if nama_kab.lower().startswith("kota") else "kabupaten"
    return RegionData(
        kode_kab=kode_kab, nama_kab=nama_kab, jenis=jenis_kab, kode_bps_kab=kode_bps_kab,
        kode_prov=kode_prov, nama_prov=nama_prov, geom=kab_geom, dissolved=kab_dissolved,
        desa=tuple(desa), kecamatan=tuple(kecamatan), sources=sources,
        reprojected_from=reprojected,
    )


def _read_level(path: Path, level: str, required, code_col: str, sources: dict,
                reprojected: dict, only_kab: str | None = None):
    """Read a kecamatan/kabupaten file: checked columns, codes and polygons; records its name
    (and source CRS, when reprojected) under ``level``."""
    frame, reproj = _read(path, level, only_kab)
    _require_columns(path, frame, required)
    codes = _codes(path, frame, code_col)
    polys = _polygons(path, frame, code_col)
    sources[level] = path.name
    if reproj:
        reprojected[level] = reproj
    return frame, codes, polys


def _kecamatan(path, kec_rows, geoms, sources, reprojected, only_kab=None
               ) -> list[KecamatanRecord]:
    if path is None:
        return [
            KecamatanRecord(k, r["nama"] or k, r["kode_bps"], r["nama_bps"],
                            _as_multi(shapely.union_all([geoms[i] for i in r["idx"]])), True)
            for k, r in sorted(kec_rows.items())
        ]
    path = Path(path)
    frame, codes, polys = _read_level(path, "kecamatan", KEC_REQUIRED, "kode_kec", sources,
                                      reprojected, only_kab)
    unknown = [c for c in codes if c not in kec_rows]
    if unknown:
        _fail(path, f"kecamatan {', '.join(unknown)} have no desa in the desa file",
              codes.index(unknown[0]), unknown[0])
    absent = sorted(set(kec_rows) - set(codes))
    if absent:
        _fail(path, f"kecamatan {', '.join(absent)} used by the desa file are missing")
    out = []
    for i, code in enumerate(codes):
        row = kec_rows[code]
        nama = _text(frame["nama_kec"].iloc[i]) if "nama_kec" in frame.columns else None
        bps = _text(frame["kode_bps_kec"].iloc[i]) if "kode_bps_kec" in frame.columns else None
        nbps = _text(frame["nama_bps_kec"].iloc[i]) if "nama_bps_kec" in frame.columns else None
        out.append(KecamatanRecord(code, nama or row["nama"] or code, bps or row["kode_bps"],
                                   nbps or row["nama_bps"], polys[i], False))
    return sorted(out, key=lambda k: k.kode_kec)


def _kabupaten(path, kode_kab, kec_geoms, sources, reprojected, only_kab=None):
    if path is None:
        return _as_multi(shapely.union_all(kec_geoms)), True, {}
    path = Path(path)
    frame, codes, polys = _read_level(path, "kabupaten", KAB_REQUIRED, "kode_kab", sources,
                                      reprojected, only_kab)
    if codes != [kode_kab]:
        _fail(path, f"must hold exactly the kabupaten/kota {kode_kab} of the desa file, "
              f"found {', '.join(codes)}")
    extra = {c: _text(frame[c].iloc[0]) for c in ("kode_prov", "nama_prov", "kode_bps_kab")
             if c in frame.columns}
    return polys[0], False, extra
