"""CLI (typer CliRunner against the test database) and HTTP routes of regions/geocoding."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

DATA = Path(__file__).resolve().parents[3] / "data"


@pytest.fixture
def cli(database_url, pilot_regions, monkeypatch):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_import_folder_and_list(cli):
    result = cli("regions", "import", str(DATA / "balikpapan"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["desa_count"] == 5
    listed = {r["kode_kab"]: r for r in json.loads(cli("regions", "list").stdout)}
    assert (listed["34.71"]["desa_count"], listed["51.06"]["kecamatan_count"]) == (45, 4)


def test_cli_bad_file_clean_error(cli, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": []}')
    result = cli("regions", "import", str(bad))
    assert result.exit_code != 0 and "bad.geojson" in result.output
    assert "Traceback" not in result.output


def test_cli_reverse_and_search(cli):
    out = json.loads(cli("geocode", "reverse", "--", "-7.8014", "110.3695").stdout)
    assert (out["kode_kab"], out["match"]) == ("34.71", "exact")
    bad = cli("geocode", "reverse", "--", "-95", "110")
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    hits = json.loads(cli("geocode", "search", "Bayungcerik", "--kab", "51.06").stdout)
    assert hits[0]["kode"] == "51.06.04.2008"


def test_cli_reverse_negative_latitude_without_double_dash(cli):
    out = json.loads(cli("geocode", "reverse", "-7.8014", "110.3695").stdout)
    assert (out["kode_kab"], out["match"]) == ("34.71", "exact")
    near = cli("geocode", "reverse", "-7.8014", "110.3695", "--tolerance-m", "100")
    assert json.loads(near.stdout)["kode_kab"] == "34.71"
    bad = cli("geocode", "reverse", "-95", "110")
    assert bad.exit_code != 0 and "invalid coordinates" in bad.output
    typo = cli("geocode", "reverse", "-7.8", "110.37", "--tolrance", "5")
    assert typo.exit_code == 2 and "--tolrance" in typo.output
    assert "LAT" in cli("geocode", "reverse", "--help").output.upper()


def test_cli_csv(cli, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,lat,lon\n1,-7.8014,110.3695\n2,abc,110.37\n3,-6.2,106.8\n4,,\n"
                   "5,-8.45,115.35\n")
    out = tmp_path / "out.csv"
    result = cli("geocode", "csv", str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [r["match"] for r in rows] == ["exact", "invalid", "outside", "invalid", "exact"]
    assert rows[0]["kode_kab"] == "34.71" and rows[4]["nama_kab"] == "Kabupaten Bangli"
    assert list(rows[0])[-8:] == ["kode_desa", "nama_desa", "kode_kec", "nama_kec", "kode_kab",
                                 "nama_kab", "match", "distance_m"]
    missing = cli("geocode", "csv", str(src), "-o", str(out), "--lat-col", "latitude")
    assert missing.exit_code != 0 and "latitude" in missing.output


@pytest.fixture
def client(pilot_regions, api_client):
    """The authenticated API client (tests/fixtures/api.py) with the pilot regions loaded."""
    return api_client


def test_http_reverse_and_search(client):
    r = client.get("/api/v1/geocode/reverse", params={"lat": -7.8014, "lon": 110.3695})
    assert r.status_code == 200 and r.json()["kode_kab"] == "34.71"
    for params in ({"lat": "abc", "lon": 1}, {"lat": 95, "lon": 1}, {"lat": "nan", "lon": 1},
                   {"lon": 110}):
        assert client.get("/api/v1/geocode/reverse", params=params).status_code == 422
    s = client.get("/api/v1/geocode/search", params={"q": "Gedong Tengen", "kode_kab": "34.71"})
    assert s.status_code == 200 and s.json()["candidates"][0]["kode"] == "34.71.05"
    for params in ({"q": ""}, {"q": "x", "kode_kab": "bad"}, {"q": "- ."}, {"q": "x", "limit": 0}):
        assert client.get("/api/v1/geocode/search", params=params).status_code == 422


def test_http_regions_and_geojson(client):
    regions = client.get("/api/v1/regions").json()
    assert "CC BY-IGO" in regions["attribution"]
    counts = {r["kode_kab"]: r["desa_count"] for r in regions["regions"]}
    assert counts["51.06"] == 72
    fc = client.get("/api/v1/regions/51.06/desa.geojson").json()
    assert len(fc["features"]) == 72 and "CC BY-IGO" in fc["attribution"]
    kec = client.get("/api/v1/regions/34.71/kecamatan.geojson").json()
    assert len(kec["features"]) == 14
    assert client.get("/api/v1/regions/99.99/desa.geojson").status_code == 404
    assert client.get("/api/v1/regions/abc/desa.geojson").status_code == 422
