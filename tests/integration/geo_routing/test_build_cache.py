"""Building road networks from every supported format, the cache key, and failure safety."""

from __future__ import annotations

import bz2
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from geo.exceptions import RoadNetworkError
from geo.routing.profiles import load_profiles
from geo.routing.store import RoadNetworks, build_networks, index_path, read_meta
from tests.fixtures.routing import BALIKPAPAN, ROAD_SOURCES, YOGYAKARTA

# A few blocks around the Kraton of Yogyakarta (lon/lat degrees).
_BBOX = (110.355, -7.815, 110.372, -7.800)


def _crop_osm(source: Path, target: Path) -> None:
    """Write the ways of ``source`` lying wholly inside ``_BBOX`` (and their nodes) to ``target``
    with osmium; the format follows the file name (.osm.pbf, .osm.bz2, .osm)."""
    import osmium

    west, south, east, north = _BBOX
    inside: set[int] = set()
    for obj in osmium.FileProcessor(str(source), osmium.osm.NODE):
        if west <= obj.location.lon <= east and south <= obj.location.lat <= north:
            inside.add(obj.id)
    keep_ways, keep_nodes = set(), set()
    for obj in osmium.FileProcessor(str(source), osmium.osm.WAY):
        refs = [n.ref for n in obj.nodes]
        if refs and all(r in inside for r in refs):
            keep_ways.add(obj.id)
            keep_nodes.update(refs)
    writer = osmium.SimpleWriter(str(target))
    try:
        for obj in osmium.FileProcessor(str(source)):
            if (obj.is_node() and obj.id in keep_nodes) or (obj.is_way() and obj.id in keep_ways):
                writer.add(obj)
    finally:
        writer.close()


@pytest.fixture(scope="module")
def cropped(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("osm")
    pbf = folder / "kraton.osm.pbf"
    _crop_osm(ROAD_SOURCES[YOGYAKARTA], pbf)
    xml = folder / "kraton.osm"
    _crop_osm(ROAD_SOURCES[YOGYAKARTA], xml)
    packed = folder / "kraton.osm.bz2"
    packed.write_bytes(bz2.compress(xml.read_bytes()))
    return {"pbf": pbf, "xml": xml, "bz2": packed}


def test_pbf_bz2_and_xml_give_the_same_index(cropped, tmp_path):
    arrays = {}
    for kind, source in cropped.items():
        out = tmp_path / kind
        report = build_networks(source, YOGYAKARTA, out, only=["ambulance"])
        assert not report.indexes[0].reused and report.indexes[0].nodes > 50
        index = RoadNetworks(out).get(YOGYAKARTA, "ambulance")
        arrays[kind] = (index.node_osmid, index.edge_u, index.edge_v, index.edge_travel_s)
    for kind in ("pbf", "bz2"):
        for a, b in zip(arrays[kind], arrays["xml"], strict=True):
            np.testing.assert_array_equal(a, b)


def test_index_is_reused_until_source_or_profile_changes(tmp_path):
    source = tmp_path / "roads.graphml"
    shutil.copy(ROAD_SOURCES[BALIKPAPAN], source)
    roads = tmp_path / "roads"
    profiles = load_profiles()
    only = ["ambulance", "motorcycle"]
    first = build_networks(source, BALIKPAPAN, roads, profiles=profiles, only=only)
    assert [i.reused for i in first.indexes] == [False, False]
    stamp = index_path(roads, BALIKPAPAN, "ambulance").stat().st_mtime_ns
    second = build_networks(source, BALIKPAPAN, roads, profiles=profiles, only=only)
    assert [i.reused for i in second.indexes] == [True, True]
    assert index_path(roads, BALIKPAPAN, "ambulance").stat().st_mtime_ns == stamp
    # A regency edits one profile: only that index is rebuilt, with the new speeds.
    amb = profiles["ambulance"]
    slower = dict(amb.speeds_kmh, residential=10.0)
    profiles["ambulance"] = dataclasses.replace(amb, speeds_kmh=slower)
    third = build_networks(source, BALIKPAPAN, roads, profiles=profiles, only=only)
    assert [i.reused for i in third.indexes] == [False, True]
    meta = read_meta(index_path(roads, BALIKPAPAN, "ambulance"))
    assert meta["profile_fingerprint"] == profiles["ambulance"].fingerprint()
    # The source file changes: everything is rebuilt.
    with source.open("a", encoding="utf-8") as fh:
        fh.write("<!-- edited -->\n")
    fourth = build_networks(source, BALIKPAPAN, roads, profiles=profiles, only=only)
    assert [i.reused for i in fourth.indexes] == [False, False]
    assert fourth.source_sha256 != first.source_sha256


def test_pilot_fixture_built_every_profile_for_both_regions(road_build_reports, road_networks):
    for kode in (YOGYAKARTA, BALIKPAPAN):
        built = {i.profile for i in road_build_reports[kode].indexes}
        assert set(road_networks.profiles) <= built
        for profile in road_networks.profiles:
            assert road_networks.has(kode, profile)
    heavy = road_networks.get(YOGYAKARTA, "heavy_equipment")
    moto = road_networks.get(YOGYAKARTA, "motorcycle")
    assert heavy.n_edges < moto.n_edges  # main roads only
    assert "residential" not in set(heavy.highways[heavy.edge_highway])


_NO_ROADS = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="-7.80" lon="110.36"/>
  <node id="2" lat="-7.80" lon="110.37"/>
  <node id="3" lat="-7.81" lon="110.37"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="building" v="yes"/></way>
</osm>
"""

_FOOTWAY_ONLY = _NO_ROADS.replace('<tag k="building" v="yes"/>', '<tag k="highway" v="footway"/>')


@pytest.mark.parametrize("text", [_NO_ROADS, _FOOTWAY_ONLY, "this is not xml"])
def test_file_without_drivable_roads_is_refused_and_writes_nothing(tmp_path, text):
    source = tmp_path / "empty.osm"
    source.write_text(text, encoding="utf-8")
    roads = tmp_path / "roads"
    with pytest.raises(RoadNetworkError):
        build_networks(source, YOGYAKARTA, roads)
    assert not roads.exists() or not any(roads.rglob("*"))


def test_unsupported_or_missing_file_and_bad_region_code(tmp_path):
    other = tmp_path / "roads.shp"
    other.write_bytes(b"\0")
    with pytest.raises(RoadNetworkError, match="unsupported"):
        build_networks(other, YOGYAKARTA, tmp_path / "roads")
    with pytest.raises(RoadNetworkError, match="not found"):
        build_networks(tmp_path / "missing.osm", YOGYAKARTA, tmp_path / "roads")
    with pytest.raises(RoadNetworkError, match="NN.NN"):
        build_networks(ROAD_SOURCES[BALIKPAPAN], "6471", tmp_path / "roads")


def test_failed_write_leaves_previous_index_intact(tmp_path, monkeypatch):
    roads = tmp_path / "roads"
    build_networks(ROAD_SOURCES[BALIKPAPAN], BALIKPAPAN, roads, only=["ambulance"])
    path = index_path(roads, BALIKPAPAN, "ambulance")
    before = path.read_bytes()
    profiles = load_profiles()
    profiles["ambulance"] = dataclasses.replace(profiles["ambulance"], signal_penalty_s=30.0)

    def broken_savez(fh, **arrays):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        build_networks(ROAD_SOURCES[BALIKPAPAN], BALIKPAPAN, roads, profiles=profiles,
                       only=["ambulance"])
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["ambulance.npz"]
