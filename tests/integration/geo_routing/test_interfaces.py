"""The routing CLI (``siaga roads``, ``siaga route``) and HTTP API on the pilot graphs."""

from __future__ import annotations

import csv
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.fixtures.routing import BALIKPAPAN, ROAD_SOURCES, TEST_ROADS_DIR, YOGYAKARTA
from tests.integration.geo_routing._helpers import long_edges, point_on_edge


@pytest.fixture(scope="module")
def points(road_networks):
    index = road_networks.get(YOGYAKARTA, "ambulance")
    edges = long_edges(index, oneway=False)
    return [point_on_edge(index, e, 0.5) for e in (edges[3], edges[40], edges[400])]


@pytest.fixture
def client(app_factory, road_networks, role_tokens):
    """The app over the pilot road networks, as a dispatcher; a 500 shows as a status code."""
    headers = {"Authorization": f"Bearer {role_tokens['dispatcher']}"}
    app = app_factory(roads_dir=TEST_ROADS_DIR)
    with TestClient(app, headers=headers, raise_server_exceptions=False) as c:
        yield c


def _cli(args, roads_dir=TEST_ROADS_DIR):
    from api.cli import app

    return CliRunner().invoke(app, args, env={"SIAGA_ROADS_DIR": str(roads_dir)})


def test_http_table_returns_every_origin(client, points, road_networks):
    dest, a, b = points
    body = {
        "region": YOGYAKARTA, "profile": "fire_truck",
        "destination": {"lat": dest.lat, "lon": dest.lon},
        "origins": [{"lat": a.lat, "lon": a.lon, "id": "pmk-1"},
                    {"lat": b.lat, "lon": b.lon, "id": "pmk-2"},
                    {"lat": a.lat, "lon": a.lon + 0.5, "id": "far"}],
        "horizon_s": 1800,
    }
    res = client.post("/api/v1/routing/table", json=body)
    assert res.status_code == 200, res.text
    results = res.json()["results"]
    assert [r["id"] for r in results] == ["pmk-1", "pmk-2", "far"]
    expected = road_networks.get(YOGYAKARTA, "fire_truck").table([a, b], dest, horizon_s=1800)
    for got, want in zip(results[:2], expected, strict=True):
        assert got["reachable"] is want.reachable
        assert got["eta_s"] == pytest.approx(want.eta_s, abs=0.001)
    assert results[2] == {"origin_index": 2, "reachable": False, "eta_s": None,
                          "distance_m": None, "reason": "off_network", "id": "far"}


def test_http_route_is_geojson(client, points):
    dest, a, _ = points
    res = client.get("/api/v1/routing/route", params={
        "region": YOGYAKARTA, "profile": "ambulance", "from_lat": a.lat, "from_lon": a.lon,
        "to_lat": dest.lat, "to_lon": dest.lon})
    assert res.status_code == 200, res.text
    feature = res.json()
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["eta_s"] > 0 and feature["properties"]["steps"]


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"profile": "rocket"}, 422, "unknown_profile"),
    ({"region": "51.06"}, 404, "no_road_network"),
    ({"region": "3471"}, 422, "invalid_request"),
    ({"destination": {"lat": -7.8, "lon": 111.5}}, 422, "outside_road_network"),
    ({"destination": {"lat": 95.0, "lon": 110.36}}, 422, "invalid_request"),
    ({"origins": []}, 422, "invalid_request"),
    ({"horizon_s": -5}, 422, "invalid_request"),
])
def test_http_bad_input_is_a_clear_error(client, points, change, status, code):
    dest, a, _ = points
    body = {"region": YOGYAKARTA, "profile": "ambulance",
            "destination": {"lat": dest.lat, "lon": dest.lon},
            "origins": [{"lat": a.lat, "lon": a.lon}], **change}
    res = client.post("/api/v1/routing/table", json=body)
    assert res.status_code == status, res.text
    assert res.json()["error"]["code"] == code
    assert res.json()["error"]["message"]


def test_http_route_far_origin_and_profiles_listing(client, points):
    dest, _, _ = points
    res = client.get("/api/v1/routing/route", params={
        "region": YOGYAKARTA, "profile": "ambulance", "from_lat": -6.2, "from_lon": 106.8,
        "to_lat": dest.lat, "to_lon": dest.lon})
    assert res.status_code == 422 and res.json()["error"]["code"] == "outside_road_network"
    profiles = client.get("/api/v1/routing/profiles").json()["profiles"]
    names = {p["name"] for p in profiles}
    assert {"fire_truck", "ambulance", "motorcycle", "pickup_4x4", "heavy_equipment"} <= names
    assert all(p["label_id"] and p["label_en"] for p in profiles)
    networks = client.get("/api/v1/routing/networks").json()["networks"]
    assert {(n["region"], n["profile"]) for n in networks} >= {(YOGYAKARTA, "ambulance")}
    assert all(n["nodes"] > 0 and n["source_sha256"] for n in networks)
    assert not any({"path", "source", "bytes"} & set(n) for n in networks)  # no server paths


def test_cli_route_table_and_path_print_json(points):
    dest, a, b = points
    res = _cli(["route", "table", "--region", YOGYAKARTA, "--profile", "motorcycle",
                f"--to={dest.lat},{dest.lon}", f"--from={a.lat},{a.lon}",
                f"--from={b.lat},{b.lon}"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["reachable"] for r in out["results"]] == [True, True]
    res = _cli(["route", "path", "--region", YOGYAKARTA, "--profile", "motorcycle",
                f"--from={a.lat},{a.lon}", f"--to={dest.lat},{dest.lon}"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["geometry"]["type"] == "LineString"
    bad = _cli(["route", "path", "--region", YOGYAKARTA, "--profile", "rocket",
                f"--from={a.lat},{a.lon}", f"--to={dest.lat},{dest.lon}"])
    assert bad.exit_code != 0 and "rocket" in bad.output


def test_cli_roads_import_list_export(tmp_path):
    roads = tmp_path / "roads"
    res = _cli(["roads", "import", str(ROAD_SOURCES[BALIKPAPAN]), "--region", BALIKPAPAN,
                "--profile", "ambulance", "--profile", "fire_truck"], roads)
    assert res.exit_code == 0, res.output
    assert [i["profile"] for i in json.loads(res.stdout)["indexes"]] == ["ambulance", "fire_truck"]
    listed = json.loads(_cli(["roads", "list"], roads).stdout)
    assert {(x["region"], x["profile"]) for x in listed} == {
        (BALIKPAPAN, "ambulance"), (BALIKPAPAN, "fire_truck")}
    assert all(x["path"].endswith(".npz") and x["bytes"] > 0 for x in listed)  # operator view
    out = tmp_path / "edges.csv"
    res = _cli(["roads", "export", "--region", BALIKPAPAN, "--profile", "ambulance",
                "-o", str(out)], roads)
    assert res.exit_code == 0, res.output
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["u", "v", "u_lon", "u_lat", "v_lon", "v_lat", "length_m",
                             "travel_s"]
    assert len(rows) == listed[0]["edges"]
    assert all(float(r["travel_s"]) > 0 for r in rows)
    bad = _cli(["roads", "import", str(tmp_path / "nothing.osm"), "--region", BALIKPAPAN], roads)
    assert bad.exit_code != 0 and "not found" in bad.output
