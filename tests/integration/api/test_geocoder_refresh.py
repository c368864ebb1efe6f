"""Incident intake and the geocode routes share one geocoder that follows the regions table: a
region imported by ``siaga regions import`` while the app runs is used by the next incident."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Incident
from geo.exceptions import RegionNotFoundError
from geo.service import delete_region
from tests.integration.dispatch.test_http_api import REGION

KODE = "99.07"
DESA = {"kode_desa": "99.07.01.2001", "nama_desa": "Desa Uji Impor", "jenis": "desa",
        "kode_kec": "99.07.01", "nama_kec": "Kecamatan Uji", "kode_kab": KODE,
        "nama_kab": "Kabupaten Uji Impor", "kode_prov": "99", "nama_prov": "Provinsi Uji"}
#: A 1 km square around (121.005, -4.005), far from every other test region.
SQUARE = [[[121.0, -4.0], [121.01, -4.0], [121.01, -4.01], [121.0, -4.01], [121.0, -4.0]]]


def _region_files(folder: Path) -> Path:
    folder.mkdir()

    def write(name: str, props: dict) -> None:
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": props,
             "geometry": {"type": "Polygon", "coordinates": SQUARE}}]}
        (folder / f"{name}.geojson").write_text(json.dumps(doc), encoding="utf-8")

    write("desa", DESA)
    write("kecamatan", {k: DESA[k] for k in ("kode_kec", "nama_kec", "kode_kab", "nama_kab")})
    write("kabupaten", {k: DESA[k] for k in ("kode_kab", "nama_kab", "kode_prov", "nama_prov")})
    return folder


def _cleanup(engine) -> None:
    with Session(engine) as s:
        s.execute(delete(Incident).where(Incident.kode_kab == KODE))
        try:
            delete_region(s, KODE)
        except RegionNotFoundError:
            pass
        s.commit()


@pytest.fixture
def no_region(engine) -> Iterator[None]:
    _cleanup(engine)
    try:
        yield
    finally:
        _cleanup(engine)


def test_intake_geocodes_with_a_region_imported_while_running(no_region, app_factory,
                                                              role_tokens, database_url,
                                                              tmp_path, engine, monkeypatch):
    from api.cli import app as cli

    body = {"category": "fire", "lon": 121.005, "lat": -4.005, "caller_phone": "08123456789",
            "description": "Gudang terbakar"}
    headers = {"Authorization": f"Bearer {role_tokens['dispatcher']}"}
    with TestClient(app_factory(), headers=headers, raise_server_exceptions=False) as client:
        doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
        services = client.app.state.siaga
        services.dispatch_config = parse_config([doc, {"regions": {KODE: REGION}}])
        services.publish_events = lambda events: None
        before = client.post("/api/v1/incidents", json=body)  # the geocoder is loaded by now
        assert before.status_code in (201, 422), before.text
        assert before.status_code == 422 or before.json().get("kode_desa") is None

        monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
        r = CliRunner().invoke(cli, ["regions", "import", str(_region_files(tmp_path / "r"))])
        assert r.exit_code == 0, r.output

        r = client.post("/api/v1/incidents", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert (created["kode_desa"], created["nama_desa"], created["kode_kab"]) == (
            DESA["kode_desa"], DESA["nama_desa"], KODE)
        # The geocode routes answer from the same geocoder.
        r = client.get("/api/v1/geocode/reverse", params={"lat": -4.005, "lon": 121.005})
        assert r.status_code == 200 and r.json()["kode_desa"] == DESA["kode_desa"]
    with Session(engine) as s:
        assert s.scalar(select(Incident.kode_desa).where(Incident.id == created["id"])) == (
            DESA["kode_desa"])
