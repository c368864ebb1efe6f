"""Gi* per desa as CSV and GeoJSON downloads, equal to the JSON route's figures."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.integration.dispatch.test_analytics_http import KAB, incidents  # noqa: F401


def test_csv_and_geojson_match_the_json(app_factory, role_tokens, incidents):  # noqa: F811
    q = {"kode_kab": KAB, "category": "analytics_http_test", "permutations": 99}
    with TestClient(app_factory(),
                    headers={"Authorization": f"Bearer {role_tokens['planner']}"}) as c:
        js = c.get("/api/v1/analytics/hotspots/desa", params=q).json()
        r = c.get("/api/v1/analytics/hotspots/desa.csv", params=q)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        by_code = {d["kode_desa"]: d for d in js["desa"]}
        assert {row["kode_desa"] for row in rows} == set(by_code)
        for row in rows:
            assert int(row["count"]) == by_code[row["kode_desa"]]["count"]
            assert int(row["gi_bin"]) == by_code[row["kode_desa"]]["gi_bin"]
        assert sum(int(row["count"]) for row in rows) == 48
        r = c.get("/api/v1/analytics/hotspots/desa.geojson", params=q)
        assert r.status_code == 200
        fc = r.json()
        assert len(fc["features"]) == len(rows)
        assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in fc["features"])
        assert {f["properties"]["class"] for f in fc["features"]} <= {
            "hot_99", "hot_95", "hot_90", "not_significant", "cold_90", "cold_95", "cold_99"}
        assert c.get("/api/v1/analytics/hotspots/desa.csv",
                     params={**q, "kode_kab": "x"}).status_code == 422
