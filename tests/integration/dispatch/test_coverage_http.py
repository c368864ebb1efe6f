"""The coverage routes through the real app: JSON, CSV, GeoJSON, what-if, population import,
roles and regency scope, clear 422s."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.routing import TEST_ROADS_DIR

REPO = Path(__file__).resolve().parents[3]
KAB = "64.71"


@pytest.fixture
def posts(engine, pilot_regions, road_build_reports) -> Iterator[tuple[float, float]]:
    with Session(engine) as s:
        lon, lat = s.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM desa "
            "WHERE kode_kab = :k ORDER BY kode_desa LIMIT 1) q"), {"k": KAB}).one()
        s.execute(text(
            "INSERT INTO post (kode_kab, agency_code, name, kind, geom) VALUES (:k, 'DAMKAR', "
            "'Pos Uji Cakupan', 'fire_station', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
            {"k": KAB, "x": lon, "y": lat})
        s.commit()
    try:
        yield lon, lat
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM post WHERE name = 'Pos Uji Cakupan'"))
            s.execute(text("DELETE FROM population WHERE sumber = 'uji cakupan'"))
            s.commit()


@pytest.fixture
def client(app_factory, role_tokens) -> Iterator:
    clients = []

    def make(role: str) -> TestClient:
        c = TestClient(app_factory(roads_dir=TEST_ROADS_DIR),
                       headers={"Authorization": f"Bearer {role_tokens[role]}"},
                       raise_server_exceptions=False)
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


Q = {"kode_kab": KAB, "agency": "DAMKAR", "profile": "fire_truck", "sla_minutes": 5,
     "spacing_m": 300}


def test_table_csv_geojson_and_population(client, posts):
    admin = client("admin")
    kel = admin.get("/api/v1/regions").json()
    assert any(r["kode_kab"] == KAB for r in (kel if isinstance(kel, list) else kel["regions"]))
    body = "level,kode,kode_bps,nama,penduduk,laki_laki,perempuan,tahun,sumber\n" + "".join(
        f"kecamatan,64.71.06,,Balikpapan Kota,{n},,,{y},uji cakupan\n"
        for n, y in ((90000, 2020), (100000, 2024)))
    r = admin.post(f"/api/v1/regions/{KAB}/population", content=body,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"kode_kab": KAB, "rows": 2, "levels": {"kecamatan": 2}}

    viewer = client("viewer")
    r = viewer.get("/api/v1/analytics/coverage", params=Q)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["eta_kind"] == "road" and out["population_rule"] == "kecamatan_by_area"
    assert out["total_population"] == pytest.approx(100000, abs=1)  # the newest figure
    assert [p["name"] for p in out["posts"]] == ["Pos Uji Cakupan"]
    assert 0 < out["covered_population"] < out["total_population"]
    assert out["gaps"] and all(g["covered_share"] < 1 for g in out["gaps"])

    r = viewer.get("/api/v1/analytics/coverage.csv", params=Q)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["kode_desa"] for row in rows} == {d["kode_desa"] for d in out["desa"]}
    first = next(d for d in out["desa"] if d["kode_desa"] == rows[0]["kode_desa"])
    assert float(rows[0]["covered_share"]) == first["covered_share"]
    assert float(rows[0]["within_30_min"]) == first["bands"]["30"]

    r = viewer.get("/api/v1/analytics/coverage.geojson", params=Q)
    assert r.status_code == 200
    fc = r.json()
    polys = [f for f in fc["features"] if f["geometry"]["type"] in ("Polygon", "MultiPolygon")]
    assert len(polys) == len(out["desa"]) and fc["eta_kind"] == "road"


def test_what_if_moves_a_post(client, posts):
    lon, lat = posts
    planner = client("planner")
    body = {"kode_kab": KAB, "agency": "DAMKAR", "profile": "fire_truck", "sla_minutes": 5,
            "spacing_m": 300, "add": [{"name": "Pos Baru", "lon": lon, "lat": lat}]}
    r = planner.post("/api/v1/analytics/coverage/what-if", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    # a second post on the same spot changes nothing
    assert out["covered_area_km2_change"] == 0
    body["remove"] = ["Pos Uji Cakupan"]
    body["add"] = []
    out = planner.post("/api/v1/analytics/coverage/what-if", json=body).json()
    assert out["after"]["covered_area_km2"] == 0 and out["covered_area_km2_change"] < 0
    assert len(out["after"]["gaps"]) == len(out["after"]["desa"])
    body["remove"] = ["Tidak Ada"]
    r = planner.post("/api/v1/analytics/coverage/what-if", json=body)
    assert r.status_code == 422 and " / " in r.json()["error"]["message"]
    assert client("viewer").post("/api/v1/analytics/coverage/what-if",
                                 json=body).status_code == 403


def test_bad_requests_are_clear_4xx(client, posts):
    admin = client("admin")
    r = admin.post(f"/api/v1/regions/{KAB}/population",
                   content="level,kode,penduduk,tahun\nkecamatan,51.06.01,5,2020\n",
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "51.06.01" in r.json()["error"]["message"]
    r = admin.post(f"/api/v1/regions/{KAB}/population", content=b"level,kode\n\x00",
                   headers={"Content-Type": "text/csv"})
    assert r.status_code in (400, 422)
    r = admin.get("/api/v1/analytics/coverage", params={**Q, "profile": "hovercraft"})
    assert r.status_code == 422
    r = admin.get("/api/v1/analytics/coverage", params={**Q, "sla_minutes": 0})
    assert r.status_code == 422
    r = admin.get("/api/v1/analytics/coverage", params={**Q, "kode_kab": "99.99"})
    assert r.status_code in (404, 422)
    assert client("agency").get("/api/v1/analytics/coverage", params=Q).status_code == 403


def test_siting_with_population_demand(client, posts):
    admin = client("admin")
    body = ("level,kode,penduduk,tahun,sumber\n"
            "kecamatan,64.71.06,100000,2024,uji cakupan\n")
    assert admin.post(f"/api/v1/regions/{KAB}/population", content=body,
                      headers={"Content-Type": "text/csv"}).status_code == 200
    req = {"kode_kab": KAB, "profile": "fire_truck", "problem": "mclp", "minutes": 4, "p": 1,
           "sample_candidates": 40, "demand": "population", "demand_cell_m": 300,
           "existing_agency": "DAMKAR"}
    r = client("planner").post("/api/v1/analytics/siting", json=req)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["total_weight"] == pytest.approx(100000, rel=1e-6)  # people, not incidents
    assert out["optimal"] and len(out["new_posts"]) == 1
    assert out["covered_weight"] <= out["total_weight"]
