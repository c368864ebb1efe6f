"""The registry over HTTP and the CLI: hand-made Bangli posts (GeoJSON) and fleet (CSV) imported,
used by ``GET /api/v1/incidents/{id}/recommendations``, exported back; bad files refused whole
with row numbers; roles and regencies enforced. Rows are committed (the app reads them through
its own connections) and removed afterwards; audit rows stay (the log is append-only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.auth import service as auth_service
from dispatch.config import load_config
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, Post, SlaRule, Unit
from dispatch.registry_io import parse_units
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import seed_region
from tracking.models import Device

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "registry"
KAB = "51.06"
IMPORTED = ("UJI-DAMKAR-KTM-1", "UJI-DAMKAR-BGL-2", "UJI-PSC-BGL-1")
GEOJSON = {"Content-Type": "application/geo+json"}
CSV = {"Content-Type": "text/csv"}


def _cleanup(engine, incident_ids: list[int]) -> None:
    with Session(engine) as s:
        s.execute(delete(Assignment).where(Assignment.incident_id.in_(incident_ids)))
        s.execute(delete(IncidentAgency).where(IncidentAgency.incident_id.in_(incident_ids)))
        s.execute(delete(Incident).where(Incident.id.in_(incident_ids)))
        s.execute(delete(Unit).where(Unit.kode_kab == KAB, Unit.call_sign.like("UJI-%")))
        s.execute(delete(Post).where(Post.kode_kab == KAB, Post.name.like("% Uji")))
        s.execute(delete(Device).where(Device.device_id.like("uji-imei-%")))
        s.commit()


@pytest.fixture
def bangli(engine, pilot_regions, client_as) -> Iterator[dict]:
    """Bangli's agencies (seeded if missing, removed again if this test added them)."""
    incident_ids: list[int] = []
    _cleanup(engine, incident_ids)
    with Session(engine) as s:
        had_agencies = s.scalar(select(func.count()).select_from(Agency)
                                .where(Agency.kode_kab == KAB)) > 0
        seed_region(s, load_config(), KAB)
        jogja_admin = f"uji-jogja-{uuid.uuid4().hex[:6]}"
        auth_service.create_user(session=s, username=jogja_admin, password="rahasia-uji-123",
                                 role="admin", kode_kabs=["34.71"], scope=EVERYTHING)
        jogja_token = auth_service.issue_api_token(session=s, username=jogja_admin,
                                                   name="uji", scope=EVERYTHING).token
        s.commit()
    try:
        yield {"incidents": incident_ids, "jogja_token": jogja_token}
    finally:
        _cleanup(engine, incident_ids)
        if not had_agencies:
            with Session(engine) as s:
                s.execute(delete(SlaRule).where(SlaRule.kode_kab == KAB))
                s.execute(delete(Agency).where(Agency.kode_kab == KAB,
                                               ~Agency.id.in_(select(Unit.agency_id))))
                s.commit()


def _import_both(admin) -> None:
    r = admin.post("/api/v1/registry/posts/import", headers=GEOJSON,
                   content=(FIXTURES / "bangli_posts.geojson").read_bytes())
    assert r.status_code == 200, r.text
    assert sorted(r.json()["created"]) == ["Pos Damkar Kintamani Uji",
                                           "Pos Terpadu Bangli Kota Uji"]
    r = admin.post("/api/v1/registry/units/import", headers=CSV,
                   content=(FIXTURES / "bangli_fleet.csv").read_bytes())
    assert r.status_code == 200, r.text
    assert sorted(r.json()["created"]) == sorted(IMPORTED)


def _ranked(dispatcher, incident_id: int) -> dict[str, list[tuple[str, str]]]:
    r = dispatcher.get(f"/api/v1/incidents/{incident_id}/recommendations")
    assert r.status_code == 200, r.text
    body = r.json()
    agencies = body["agencies"] if isinstance(body, dict) else body
    return {a["agency"]: [(u["call_sign"], u["position_source"]) for u in a["units"]
                          if u["call_sign"] in IMPORTED] for a in agencies}


def test_imported_fleet_is_ranked_by_the_recommendation(bangli, client_as):
    admin, dispatcher = client_as("admin"), client_as("dispatcher")
    _import_both(admin)
    units = {u["call_sign"]: u for u in admin.get(
        "/api/v1/registry/units", params={"kode_kab": KAB}).json()["units"]}
    assert units["UJI-DAMKAR-KTM-1"]["home_post"] == "Pos Damkar Kintamani Uji"
    assert units["UJI-PSC-BGL-1"]["protocol"] == "teltonika"
    ranked = {}
    for name, (lon, lat) in {"kintamani": (115.352, -8.292), "bangli": (115.354, -8.455)}.items():
        r = dispatcher.post("/api/v1/incidents", json={
            "category": "fire", "lon": lon, "lat": lat, "kode_kab": KAB,
            "description": f"Uji registri {name}"})
        assert r.status_code == 201, r.text
        bangli["incidents"].append(r.json()["id"])
        ranked[name] = _ranked(dispatcher, r.json()["id"])
    # each fire gets the imported pumper of the nearer post first, both placed at their posts
    assert ranked["kintamani"]["DAMKAR"] == [("UJI-DAMKAR-KTM-1", "post"),
                                             ("UJI-DAMKAR-BGL-2", "post")]
    assert ranked["bangli"]["DAMKAR"] == [("UJI-DAMKAR-BGL-2", "post"),
                                          ("UJI-DAMKAR-KTM-1", "post")]
    assert ranked["bangli"]["PSC119"] == [("UJI-PSC-BGL-1", "post")]


def test_export_reads_back_to_the_imported_rows(bangli, client_as):
    admin = client_as("admin")
    _import_both(admin)
    r = admin.get("/api/v1/registry/units/export", params={"format": "csv", "kode_kab": KAB})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    exported = {u.call_sign: u for u in parse_units(r.content, "csv")}
    for original in parse_units((FIXTURES / "bangli_fleet.csv").read_bytes(), "csv"):
        assert exported[original.call_sign].device_id == original.device_id
        assert exported[original.call_sign].home_post == original.home_post
        assert exported[original.call_sign].capabilities == original.capabilities
    geo = admin.get("/api/v1/registry/posts/export", params={"kode_kab": KAB}).json()
    names = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in geo["features"]}
    assert names["Pos Damkar Kintamani Uji"] == [115.3531, -8.2905]


def test_a_bad_file_is_refused_whole_with_row_numbers(bangli, client_as, engine):
    admin = client_as("admin")
    _import_both(admin)
    text = (FIXTURES / "bangli_fleet.csv").read_text().replace("UJI-PSC-BGL-1", "UJI-PSC-BGL-9")
    text = text.replace(",3,available,uji-imei", ",tiga,available,uji-imei") + \
        "51.06,UJI-BARU,DAMKAR,pumper,fire_truck,pumper,Pos Hilang,,,,\n"
    r = admin.post("/api/v1/registry/units/import", headers=CSV, content=text.encode())
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "registry_file_refused"
    assert "row 4" in error["message"] and "baris 4" in error["message"]
    r = admin.post("/api/v1/registry/units/import", headers=CSV, content=(
        text.replace(",tiga,", ",3,")).encode())
    assert r.status_code == 422 and "row 5" in r.json()["error"]["message"]
    assert "Pos Hilang" in r.json()["error"]["message"]
    with Session(engine) as s:  # nothing of either file was written
        assert s.scalar(select(func.count()).select_from(Unit).where(
            Unit.call_sign.in_(["UJI-PSC-BGL-9", "UJI-BARU"]))) == 0
    wrong_type = admin.post("/api/v1/registry/units/import", content=b"a,b",
                            headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


def test_roles_and_regencies(bangli, client_as, app_factory):
    from fastapi.testclient import TestClient

    admin, planner = client_as("admin"), client_as("planner")
    _import_both(admin)
    assert planner.get("/api/v1/registry/units").status_code == 200
    denied = planner.post("/api/v1/registry/posts/import", headers=GEOJSON,
                          content=(FIXTURES / "bangli_posts.geojson").read_bytes())
    assert denied.status_code == 403
    post_id = next(p["id"] for p in admin.get("/api/v1/registry/posts").json()["posts"]
                   if p["name"] == "Pos Damkar Kintamani Uji")
    with TestClient(app_factory(), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {bangli['jogja_token']}"}) as jogja:
        assert jogja.get(f"/api/v1/registry/posts/{post_id}").status_code == 404
        listed = jogja.get("/api/v1/registry/units").json()["units"]
        assert not [u for u in listed if u["kode_kab"] == KAB]
        refused = jogja.post("/api/v1/registry/posts/import", headers=GEOJSON,
                             content=(FIXTURES / "bangli_posts.geojson").read_bytes())
        assert refused.status_code == 422 and "outside your scope" in refused.text
        assert jogja.delete("/api/v1/registry/trackers/uji-imei-860000000000101"
                            ).status_code == 404
        assert jogja.post("/api/v1/registry/trackers", json={
            "device_id": "uji-imei-9", "kode_kab": KAB}).status_code == 404


def test_cli_imports_files_from_anywhere_and_exports(bangli, database_url, tmp_path):
    env = {**os.environ, "SIAGA_DATABASE_URL": database_url}
    elsewhere = tmp_path / "unduhan"
    elsewhere.mkdir()
    posts_file, fleet_file = elsewhere / "pos saya.geojson", elsewhere / "armada.csv"
    posts_file.write_bytes((FIXTURES / "bangli_posts.geojson").read_bytes())
    fleet_file.write_bytes((FIXTURES / "bangli_fleet.csv").read_bytes())

    def siaga(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)

    assert siaga("posts", "import", str(posts_file)).returncode == 0
    done = siaga("fleet", "import", str(fleet_file))
    assert done.returncode == 0, done.stderr
    assert '"total": 3' in done.stdout
    bad = elsewhere / "rusak.csv"
    bad.write_text(fleet_file.read_text().replace("fire_truck", "kapal_selam", 1))
    refused = siaga("fleet", "import", str(bad))
    assert refused.returncode == 1 and "row 2" in refused.stderr
    out = elsewhere / "ekspor.geojson"
    assert siaga("fleet", "export", str(out), "--region", KAB).returncode == 0
    assert {u.call_sign for u in parse_units(out.read_bytes(), "geojson")} >= set(IMPORTED)
    # the CLI-imported fleet answers a recommendation made through the CLI
    created = siaga("incidents", "create", "--category", "fire", "--lon", "115.354", "--lat",
                    "-8.455", "--kode-kab", KAB, "--description", "Uji registri CLI")
    assert created.returncode == 0, created.stderr
    incident_id = json.loads(created.stdout)["id"]
    bangli["incidents"].append(incident_id)
    recs = siaga("dispatch", "recommend", str(incident_id))
    assert recs.returncode == 0, recs.stderr
    damkar = next(a for a in json.loads(recs.stdout)["agencies"] if a["agency"] == "DAMKAR")
    ours = [(u["call_sign"], u["position_source"]) for u in damkar["units"]
            if u["call_sign"] in IMPORTED]
    assert ours == [("UJI-DAMKAR-BGL-2", "post"), ("UJI-DAMKAR-KTM-1", "post")]


def test_admin_page_lists_the_registry_in_both_languages(bangli, client_as):
    admin = client_as("admin")
    _import_both(admin)
    page = admin.get("/console/registry", params={"kode_kab": KAB})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for text in ("Registri armada", "Pos Damkar Kintamani Uji", "UJI-PSC-BGL-1",
                 "uji-imei-860000000000103", "/api/v1/registry/units/import", "registry.js"):
        assert text in page.text
    assert "Fleet registry" in admin.get("/console/registry", params={"lang": "en"}).text
    assert admin.get("/static/registry.js").status_code == 200
    assert client_as("planner").get("/console/registry").status_code == 403


def test_two_imports_of_one_new_file_at_once_both_succeed(bangli, engine):
    import threading
    from datetime import UTC, datetime

    from dispatch import posts as posts_service
    from dispatch.registry_io import parse_posts
    from dispatch.scope import Scope

    rows = parse_posts((FIXTURES / "bangli_posts.geojson").read_bytes(), "geojson")
    barrier, reports, errors = threading.Barrier(2), [], []

    def run() -> None:
        try:
            with Session(engine) as s:
                barrier.wait(10)
                reports.append(posts_service.import_posts(
                    s, rows, scope=Scope.of([KAB]), actor="uji", now=datetime.now(UTC)))
                s.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(len(r.created) for r in reports) == [0, 2]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Post).where(
            Post.kode_kab == KAB, Post.name.like("% Uji"))) == 2
