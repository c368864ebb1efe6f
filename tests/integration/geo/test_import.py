"""Importing boundary files into PostGIS: pilot counts, re-import, every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import text

from geo.exceptions import RegionImportError
from geo.service import import_region, list_regions

DATA = Path(__file__).resolve().parents[3] / "data"


def snapshot(session) -> tuple:
    """Everything a failed import could have touched."""
    q = """
      SELECT (SELECT count(*) FROM region), (SELECT count(*) FROM kecamatan),
             (SELECT count(*) FROM desa),
             (SELECT md5(string_agg(kode_desa || nama_desa || imported_at::text
                                    || md5(ST_AsBinary(geom)), ',' ORDER BY kode_desa)) FROM desa),
             (SELECT md5(string_agg(kode_kab || imported_at::text, ',' ORDER BY kode_kab))
              FROM region)
    """
    return tuple(session.execute(text(q)).one())


@pytest.mark.parametrize(
    "folder,kode_kab,counts",
    [("kota-yogyakarta", "34.71", (45, 14, 1)), ("bangli", "51.06", (72, 4, 1)),
     ("balikpapan", "64.71", (5, 1, 1))],
)
def test_pilot_region_counts(db_session, folder, kode_kab, counts):
    d = DATA / folder
    report = import_region(db_session, d / "desa.geojson", kecamatan_path=d / "kecamatan.geojson",
                           kabupaten_path=d / "kabupaten.geojson")
    assert (report.desa_count, report.kecamatan_count, report.kabupaten_count) == counts
    row = db_session.execute(text(
        "SELECT (SELECT count(*) FROM desa WHERE kode_kab = :k),"
        " (SELECT count(*) FROM kecamatan WHERE kode_kab = :k),"
        " (SELECT count(*) FROM region WHERE kode_kab = :k),"
        " (SELECT bool_and(ST_IsValid(geom) AND GeometryType(geom) = 'MULTIPOLYGON'"
        "   AND ST_SRID(geom) = 4326) FROM desa WHERE kode_kab = :k)"), {"k": kode_kab}).one()
    assert tuple(row[:3]) == counts and row[3] is True


def test_dissolved_kecamatan_and_kabupaten(db_session):
    report = import_region(db_session, DATA / "bangli" / "desa.geojson")
    assert report.kecamatan_dissolved and report.kabupaten_dissolved
    assert (report.desa_count, report.kecamatan_count) == (72, 4)
    area_ratio = db_session.execute(text(
        "SELECT ST_Area(r.geom::geography) / (SELECT sum(ST_Area(geom::geography)) FROM desa"
        " WHERE kode_kab = '51.06') FROM region r WHERE kode_kab = '51.06'")).scalar()
    assert area_ratio == pytest.approx(1.0, abs=1e-3)
    summary = {r.kode_kab: r for r in list_regions(db_session)}["51.06"]
    assert (summary.kecamatan_count, summary.desa_count, summary.kelurahan_count) == (4, 72, 4)


def test_reimport_replaces_region(db_session, pilot_regions):
    d = DATA / "balikpapan"
    first = import_region(db_session, d / "desa.geojson")
    assert first.replaced is True  # pilot_regions loaded it already
    before = snapshot(db_session)
    again = import_region(db_session, d / "desa.geojson", kecamatan_path=d / "kecamatan.geojson")
    assert again.replaced and again.desa_count == 5
    after = snapshot(db_session)
    assert after[:3] == before[:3] and after[4] != before[4]  # same rows, new import time
    assert db_session.execute(text(
        "SELECT count(*) FROM desa WHERE kode_kab = '64.71'")).scalar() == 5


# ----------------------------------------------------------------------------- bad inputs

def _features(folder: str = "balikpapan") -> dict:
    return json.loads((DATA / folder / "desa.geojson").read_text())


def _write(tmp_path: Path, name: str, fc: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(fc))
    return path


def _assert_refused(db_session, path: Path, pattern: str, **kwargs) -> None:
    before = snapshot(db_session)
    with pytest.raises(RegionImportError, match=pattern) as info:
        import_region(db_session, path, **kwargs)
    assert path.name in str(info.value) or any(
        Path(p).name in str(info.value) for p in kwargs.values())
    assert snapshot(db_session) == before


def test_missing_code_column(db_session, pilot_regions, tmp_path):
    fc = _features()
    for f in fc["features"]:
        del f["properties"]["kode_desa"]
    _assert_refused(db_session, _write(tmp_path, "nocode.geojson", fc), "missing column.*kode_desa")


def test_invalid_geometry(db_session, pilot_regions, tmp_path):
    fc = _features()
    fc["features"][2]["geometry"] = {"type": "Polygon", "coordinates": [[
        [116.80, -1.27], [116.81, -1.26], [116.81, -1.27], [116.80, -1.26], [116.80, -1.27]]]}
    code = fc["features"][2]["properties"]["kode_desa"]
    _assert_refused(db_session, _write(tmp_path, "bowtie.geojson", fc),
                    rf"feature #2 \({code}\): invalid geometry: Self-intersection")


def test_empty_geometry(db_session, pilot_regions, tmp_path):
    fc = _features()
    fc["features"][1]["geometry"] = None
    _assert_refused(db_session, _write(tmp_path, "empty.geojson", fc),
                    r"feature #1 .*empty or missing geometry")


def test_duplicate_codes(db_session, pilot_regions, tmp_path):
    fc = _features()
    fc["features"][3]["properties"]["kode_desa"] = fc["features"][0]["properties"]["kode_desa"]
    _assert_refused(db_session, _write(tmp_path, "dup.geojson", fc),
                    r"feature #3 .*duplicate kode_desa .*also feature #0")


def test_mixed_regions_refused(db_session, pilot_regions, tmp_path):
    fc = _features()
    fc["features"] += _features("kota-yogyakarta")["features"][:2]
    _assert_refused(db_session, _write(tmp_path, "mixed.geojson", fc),
                    "exactly one kabupaten/kota.*34.71, 64.71")


def test_missing_crs_with_projected_coordinates_refused(db_session, pilot_regions, tmp_path):
    frame = gpd.read_file(DATA / "balikpapan" / "desa.geojson").to_crs("EPSG:32750")
    frame[["kode_desa", "nama_desa", "kode_kec", "nama_kec", "kode_kab", "nama_kab",
           "geometry"]].to_file(tmp_path / "utm.shp")
    (tmp_path / "utm.prj").unlink()
    _assert_refused(db_session, tmp_path / "utm.shp", "no CRS and its coordinates are not")


def test_geojson_in_metres_without_crs_refused(db_session, pilot_regions, tmp_path):
    frame = gpd.read_file(DATA / "balikpapan" / "desa.geojson").to_crs("EPSG:32750")
    fc = json.loads(frame.to_json())
    fc.pop("crs", None)
    _assert_refused(db_session, _write(tmp_path, "metres.geojson", fc), "not longitude/latitude")


def test_bad_kecamatan_file_refused(db_session, pilot_regions, tmp_path):
    kec = json.loads((DATA / "kota-yogyakarta" / "kecamatan.geojson").read_text())
    _assert_refused(db_session, DATA / "balikpapan" / "desa.geojson", "have no desa",
                    kecamatan_path=_write(tmp_path, "wrongkec.geojson", kec))


def test_declared_crs_is_reprojected(db_session, tmp_path):
    src = gpd.read_file(DATA / "balikpapan" / "desa.geojson")
    src.to_crs("EPSG:32750").to_file(tmp_path / "utm.gpkg", driver="GPKG")
    report = import_region(db_session, tmp_path / "utm.gpkg")
    assert report.reprojected_from["desa"].endswith("32750") and report.desa_count == 5
    diff = db_session.execute(text(
        "SELECT max(ST_HausdorffDistance(d.geom, ST_GeomFromText(:w, 4326))) FROM desa d"
        " WHERE kode_desa = :k"), {"w": src.geometry[0].wkt, "k": src.kode_desa[0]}).scalar()
    assert diff < 1e-7
