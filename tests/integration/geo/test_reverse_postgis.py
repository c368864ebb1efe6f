"""The in-process geocoder agrees with the PostGIS reference on the pilot regions."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from geo.service import reverse_postgis, reverse_postgis_many

MULTIPART = {"51.06.04.2020": "Abangsongan", "51.06.04.2022": "Abang Batudinding",
             "51.06.04.2023": "Terunyan"}


def _same(ours, ref) -> None:
    assert ours.match == ref.match
    assert ours.area == ref.area
    if ours.match == "nearest":
        assert ours.distance_m == pytest.approx(ref.distance_m, abs=0.05)


def _shared_vertices(session, limit: int = 20) -> list[tuple[float, float]]:
    rows = session.execute(text(
        "SELECT ST_X(p.geom), ST_Y(p.geom) FROM desa a JOIN desa b"
        " ON a.kode_desa < b.kode_desa AND ST_Touches(a.geom, b.geom),"
        " LATERAL (SELECT (ST_DumpPoints(ST_Intersection(ST_Boundary(a.geom),"
        " ST_Boundary(b.geom)))).geom) p WHERE GeometryType(p.geom) = 'POINT'"
        " ORDER BY a.kode_desa, b.kode_desa LIMIT :n"), {"n": limit}).all()
    return [(float(x), float(y)) for x, y in rows]


def test_named_points_agree(geocoder, db_session):
    inside = [(110.3695, -7.8014), (115.35, -8.45), (116.83, -1.27)]
    for lon, lat in inside:
        ours = geocoder.reverse(lon, lat)
        assert ours.match == "exact"
        _same(ours, reverse_postgis(db_session, lon, lat))
    assert geocoder.reverse(110.3695, -7.8014).area.nama_kab == "Kota Yogyakarta"
    outside = geocoder.reverse(106.8, -6.2)  # Jakarta: no region loaded there
    assert outside.match == "outside"
    _same(outside, reverse_postgis(db_session, 106.8, -6.2))


def test_edges_agree_and_are_deterministic(geocoder, db_session):
    vertices = _shared_vertices(db_session)
    assert len(vertices) >= 10
    for lon, lat in vertices:
        ours = geocoder.reverse(lon, lat)
        assert ours.match == "exact"
        _same(ours, reverse_postgis(db_session, lon, lat))
        covering = db_session.execute(text(
            "SELECT min(kode_desa) FROM desa WHERE ST_Covers(geom, ST_SetSRID("
            "ST_MakePoint(:x, :y), 4326))"), {"x": lon, "y": lat}).scalar()
        assert ours.area.kode_desa == covering


def test_near_and_outside_points_agree(geocoder, db_session):
    # Points 50 m .. 1.5 km outward from the regency boundaries.
    rng = np.random.default_rng(3)
    boundary = shapely.get_coordinates(
        shapely.boundary(shapely.union_all(geocoder.geometries)))
    pick = boundary[rng.integers(0, len(boundary), 600)]
    lons = pick[:, 0] + rng.uniform(-0.012, 0.012, 600)
    lats = pick[:, 1] + rng.uniform(-0.012, 0.012, 600)
    batch = geocoder.reverse_many(lons, lats)
    kode, match, dist = reverse_postgis_many(db_session, lons, lats, 500.0)
    assert set(np.unique(batch.match).tolist()) == {0, 1, 2}
    np.testing.assert_array_equal(batch.match, match)
    ours_kode = [geocoder.areas[i].kode_desa if i >= 0 else None for i in batch.area_index]
    assert ours_kode == kode
    near = batch.match == 1
    np.testing.assert_allclose(batch.distance_m[near], dist[near], atol=0.05)


def test_multipart_desa_each_part(geocoder, db_session):
    rows = db_session.execute(text(
        "SELECT d.kode_desa, d.nama_desa, ST_X(p), ST_Y(p) FROM desa d,"
        " LATERAL (SELECT ST_PointOnSurface((ST_Dump(d.geom)).geom) AS p) parts"
        " WHERE d.kode_desa = ANY(:k) ORDER BY 1"), {"k": list(MULTIPART)}).all()
    assert len(rows) == 6  # two parts each
    for kode, nama, lon, lat in rows:
        ours = geocoder.reverse(lon, lat)
        assert (ours.match, ours.area.kode_desa, ours.area.nama_desa) == ("exact", kode, nama)
        assert MULTIPART[kode] == nama
        _same(ours, reverse_postgis(db_session, lon, lat))


def test_invalid_points_marked_in_both(geocoder, db_session):
    lons, lats = [np.nan, 200.0, 110.37], [-7.8, -7.8, -95.0]
    assert geocoder.reverse_many(lons, lats).match.tolist() == [3, 3, 3]
    assert reverse_postgis_many(db_session, lons, lats)[1].tolist() == [3, 3, 3]
