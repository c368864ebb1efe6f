"""``siaga roads import --clip``: a regency's roads cut out of a larger OSM PBF extract (like a
Geofabrik province file) using the boundary loaded by ``siaga regions import``, on the synthetic
regency 52.99 of a two-regency extract; clear errors for a region not loaded or a wrong file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import osmium
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo.models import Region
from tests.integration.geo.national_files import (
    ID_OFFSET,
    SYNTH_KAB,
    write_island,
    write_national,
    write_synthetic_roads,
)


@pytest.fixture
def cli(database_url, pilot_regions, monkeypatch, engine, tmp_path):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    monkeypatch.setenv("SIAGA_ROADS_DIR", str(tmp_path / "roads"))
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    from geo.service import delete_region

    with Session(engine) as s:
        if s.get(Region, SYNTH_KAB) is not None:
            delete_region(s, SYNTH_KAB)
            s.commit()


def test_clip_keeps_only_the_regencys_roads_of_a_larger_extract(cli, tmp_path):
    national = write_national(tmp_path / "national")
    island = write_island(tmp_path / "pulau.osm.pbf")
    result = cli("regions", "import", national["desa"], "--province", "52")
    assert result.exit_code == 0, result.output
    result = cli("roads", "import", island, "--region", SYNTH_KAB, "--clip",
                 "--profile", "ambulance")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    clipped = Path(report["clip"]["target"])
    assert clipped == tmp_path / "roads" / SYNTH_KAB / "clipped.osm.pbf"
    synthetic_ways = {w.id + ID_OFFSET for w in osmium.FileProcessor(
        str(write_synthetic_roads(tmp_path / "synthetic.osm.pbf")), osmium.osm.WAY)
        if "highway" in w.tags}
    kept = {w.id for w in osmium.FileProcessor(str(clipped), osmium.osm.WAY)}
    assert kept == synthetic_ways  # every road of 52.99, none of Kota Yogyakarta
    assert report["clip"]["ways_read"] == 2 * len(synthetic_ways)
    [index] = report["indexes"]
    assert report["source"] == str(clipped) and index["edges"] > 1000
    with np.load(index["path"]) as arrays:
        lon = arrays["node_lon"]
    assert lon.min() > 116.0  # all in 52.99 (116.3 E), none at Kota Yogyakarta (110.4 E)


def test_clip_errors_name_what_to_do(cli, tmp_path):
    roads = write_synthetic_roads(tmp_path / "uji.osm.pbf")
    not_loaded = cli("roads", "import", roads, "--region", SYNTH_KAB, "--clip")
    assert not_loaded.exit_code == 1
    assert "region 52.99 is not loaded" in not_loaded.output
    assert "siaga regions import" in not_loaded.output
    wrong = cli("roads", "import", roads, "--region", "34.71", "--clip", "--profile", "ambulance")
    assert wrong.exit_code == 1
    assert "no highway of uji.osm.pbf lies in this region (+3000 m)" in wrong.output
    graphml = tmp_path / "roads.graphml"
    graphml.write_text("<graphml/>")
    bad = cli("roads", "import", graphml, "--region", "34.71", "--clip")
    assert bad.exit_code == 1 and "--clip needs an OSM file" in bad.output
    assert "Traceback" not in not_loaded.output + wrong.output + bad.output
