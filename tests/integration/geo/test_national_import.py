"""``siaga regions import`` of national-like files (many regencies) filtered by province or
kabupaten code, against the test database: the chosen regencies only, validated whole, nothing
written on any error, and errors that say what the file holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo.models import Desa, Kecamatan, Region
from tests.integration.geo.national_files import SYNTH_KAB, SYNTH_NAME, write_national


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> dict[str, Path]:
    return write_national(tmp_path_factory.mktemp("national"))


@pytest.fixture
def cli(database_url, pilot_regions, monkeypatch, engine):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    _drop_synthetic(engine)
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    _drop_synthetic(engine)


def _drop_synthetic(engine) -> None:
    from geo.service import delete_region

    with Session(engine) as s:
        if s.get(Region, SYNTH_KAB) is not None:
            delete_region(s, SYNTH_KAB)
            s.commit()


def _files(national: dict[str, Path]) -> list:
    return [national["desa"], "--kecamatan-file", national["kecamatan"],
            "--kabupaten-file", national["kabupaten"]]


def _counts(engine, kode_kab: str) -> tuple[int, int, object]:
    with Session(engine) as s:
        region = s.get(Region, kode_kab)
        desa = len(s.scalars(select(Desa.kode_desa).where(Desa.kode_kab == kode_kab)).all())
        kec = len(s.scalars(select(Kecamatan.kode_kec).where(Kecamatan.kode_kab == kode_kab))
                  .all())
        return desa, kec, None if region is None else region.imported_at


def test_province_filter_imports_only_that_provinces_regency(cli, national, engine):
    before = _counts(engine, "34.71")
    result = cli("regions", "import", *_files(national), "--province", "52")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    assert (report["kode_kab"], report["nama_kab"]) == (SYNTH_KAB, SYNTH_NAME)
    assert (report["desa_count"], report["kecamatan_count"]) == (45, 14)
    assert not report["kecamatan_dissolved"] and not report["kabupaten_dissolved"]
    assert _counts(engine, SYNTH_KAB)[:2] == (45, 14)
    assert _counts(engine, "34.71") == before  # the other regencies of the file untouched
    listed = {r["kode_kab"]: r for r in json.loads(cli("regions", "list").stdout)}
    assert listed[SYNTH_KAB]["kode_prov"] == "52"
    assert listed[SYNTH_KAB]["nama_prov"] == "Nusa Tenggara Barat"


def test_kabupaten_filter_repeatable_from_one_desa_file(cli, national, engine):
    result = cli("regions", "import", national["desa"], "--kabupaten", "51.06",
                 "--kab", SYNTH_KAB)
    assert result.exit_code == 0, result.output
    reports = {r["kode_kab"]: r for r in json.loads(result.stdout)}
    assert set(reports) == {"51.06", SYNTH_KAB}
    assert reports["51.06"]["replaced"] and reports["51.06"]["desa_count"] == 72
    assert reports[SYNTH_KAB]["kecamatan_dissolved"]  # no kecamatan file: dissolved from desa
    assert _counts(engine, "51.06")[:2] == (72, 4)


@pytest.mark.parametrize("args, expected", [
    (["--province", "5"], "invalid province code '5'"),
    (["--province", "99"], "province 99 is not in the file; it holds provinces 34, 51, 52, 64"),
    (["--kabupaten", "52.98"], "52.98 tidak ada dalam berkas / not in the file; it holds 52.99"),
    (["--kabupaten", "5206"], "invalid regency code(s) '5206'"),
    (["--province", "51", "--kabupaten", "52.99"], "52.99 bukan bagian dari provinsi 51"),
    ([], "holds 4 regencies: choose with --province or --kabupaten"),
])
def test_wrong_codes_give_a_clear_error_and_write_nothing(cli, national, engine, args, expected):
    result = cli("regions", "import", *_files(national), *args)
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output
    assert "nothing written" in result.output
    assert _counts(engine, SYNTH_KAB) == (0, 0, None)


def test_one_bad_regency_leaves_every_chosen_regency_as_it_was(cli, national, engine, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Polygon

    desa = gpd.read_file(national["desa"])
    bow_tie = Polygon([(116.3, -8.6), (116.4, -8.7), (116.4, -8.6), (116.3, -8.7)])
    desa.loc[desa.index[desa["kode_kab"] == SYNTH_KAB][3], "geometry"] = bow_tie
    broken = tmp_path / "desa_broken.geojson"
    desa.to_file(broken)
    bangli_before = _counts(engine, "51.06")
    result = cli("regions", "import", broken, "--kabupaten", "51.06", "--kabupaten", SYNTH_KAB)
    assert result.exit_code == 1
    assert "kabupaten/kota 52.99: desa_broken.geojson, feature #3" in result.output
    assert "invalid geometry" in result.output
    assert _counts(engine, "51.06") == bangli_before  # not re-imported either
    assert _counts(engine, SYNTH_KAB) == (0, 0, None)


def test_a_file_without_codes_is_refused_by_name(cli, tmp_path):
    bad = tmp_path / "tanpa_kode.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"nama": "x"},
        "geometry": {"type": "Point", "coordinates": [110.0, -7.0]}}]}))
    result = cli("regions", "import", bad, "--province", "34")
    assert result.exit_code == 1
    assert "tanpa_kode.geojson: missing column kode_kab" in result.output
