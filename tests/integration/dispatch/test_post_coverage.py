"""Coverage of desa from posts against real PostGIS and the real road engine.

Checked by hand: the Bangli figures (no road network: straight-line estimates) against the
formula applied point by point with the scalar haversine, the population rule against the census
figures; the Balikpapan figures (road network) against one independent 1×1 road table per demand
point (a different search direction from the matrix's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.coverage_service import post_coverage
from dispatch.exceptions import RegionNotFound
from dispatch.models import Post
from dispatch.recommend_service import profile_speeds
from dispatch.scope import Scope
from geo.geodesy import haversine_m
from geo.models import Desa
from geo.population import parse_population_csv
from geo.population_store import import_population
from geo.routing.profiles import load_profiles
from geo.sampling import grid_points

REPO = Path(__file__).resolve().parents[3]
SPEEDS = profile_speeds(load_profiles())
EVERYTHING = Scope.everything()


def _add_post(session, kode_kab: str, name: str, lon: float, lat: float) -> None:
    session.add(Post(kode_kab=kode_kab, agency_code="DAMKAR", name=name, kind="fire_station",
                     geom=from_shape(Point(lon, lat), srid=4326), address=""))
    session.flush()


@pytest.fixture
def bangli(db_session, pilot_regions):
    rows = parse_population_csv((REPO / "data/bangli/population.csv").read_bytes())
    import_population(db_session, rows)
    desa = db_session.scalars(select(Desa).where(Desa.kode_desa.like("51.06.02.%"))
                              .order_by(Desa.kode_desa)).first()
    home = to_shape(desa.geom).representative_point()
    _add_post(db_session, "51.06", "Pos Uji Bangli", home.x, home.y)
    return db_session, (home.x, home.y)


def test_bangli_without_roads_gets_estimates_by_hand(bangli):
    session, _home = bangli
    rep = post_coverage(session, None, SPEEDS, scope=EVERYTHING, kode_kab="51.06",
                        profile="fire_truck", sla_minutes=15, agency="DAMKAR", spacing_m=500)
    assert rep.eta_kind == "estimate"
    assert rep.population_rule == "kecamatan_by_area"
    # the census figures of 2020 spread by area: each kecamatan keeps its total
    by_kec: dict[str, float] = {}
    for r in rep.rows:
        by_kec[r.kode_kec] = by_kec.get(r.kode_kec, 0.0) + r.population
        assert r.population_estimated
    assert by_kec == pytest.approx({"51.06.01": 48682, "51.06.02": 54438, "51.06.03": 43138,
                                    "51.06.04": 112463}, abs=1.0)
    assert rep.total_population == pytest.approx(258721, abs=1.0)
    # by hand: a point is covered when haversine × detour / speed ≤ 15 min
    speed = SPEEDS["fire_truck"]
    desa = session.execute(select(Desa.kode_desa, Desa.geom).where(Desa.kode_kab == "51.06")
                           .order_by(Desa.kode_desa)).all()
    pts = grid_points([to_shape(g) for _, g in desa], 500.0)
    # every DAMKAR post the service used (ours, and any other test's committed ones)
    assert "Pos Uji Bangli" in {p.name for p in rep.posts}
    hand = np.array([min(haversine_m(p.lon, p.lat, x, y) for p in rep.posts)
                     * speed.detour_factor / (speed.speed_kmh / 3.6) <= 900.0
                     for x, y in pts.lonlat])
    share = np.bincount(pts.owner, weights=hand) / np.bincount(pts.owner)
    got = {r.kode_desa: r.covered_share for r in rep.rows}
    assert [got[c] for c, _ in desa] == pytest.approx(share.tolist(), abs=1e-4)
    assert 0 < rep.covered_population < rep.total_population
    # the gap list: uncovered population, largest first, fully covered desa left out
    unc = [g.uncovered_population for g in rep.gaps]
    assert unc == sorted(unc, reverse=True) and all(g.covered_share < 1 for g in rep.gaps)
    assert rep.gaps[0].serving_post in {p.name for p in rep.posts}


def test_balikpapan_by_road_matches_one_table_per_point(db_session, pilot_regions, road_networks):
    kec = db_session.scalars(select(Desa).where(Desa.kode_kab == "64.71")
                             .order_by(Desa.kode_desa)).first()
    home = to_shape(kec.geom).representative_point()
    _add_post(db_session, "64.71", "Pos Uji Balikpapan", home.x, home.y)
    rep = post_coverage(db_session, road_networks, SPEEDS, scope=EVERYTHING, kode_kab="64.71",
                        profile="fire_truck", sla_minutes=5, agency="DAMKAR", spacing_m=300)
    assert rep.eta_kind == "road" and rep.population_rule == "unknown"
    assert all(r.population is None for r in rep.rows)
    index = road_networks.get("64.71", "fire_truck")
    desa = db_session.execute(select(Desa.kode_desa, Desa.geom).where(Desa.kode_kab == "64.71")
                              .order_by(Desa.kode_desa)).all()
    pts = grid_points([to_shape(g) for _, g in desa], 300.0)
    posts = np.array([[p.lon, p.lat] for p in rep.posts])  # ours, and any committed ones
    eta = np.array([np.nanmin(index.table_arrays(posts, (x, y)).eta_s) for x, y in pts.lonlat])
    for limit_min, got in [(5, {r.kode_desa: r.covered_share for r in rep.rows}),
                           (10, {r.kode_desa: r.bands[10] for r in rep.rows})]:
        within = np.where(np.isfinite(eta), eta, np.inf) <= limit_min * 60 + 1e-3
        share = np.bincount(pts.owner, weights=within) / np.bincount(pts.owner)
        assert [got[c] for c, _ in desa] == pytest.approx(share.tolist(), abs=0.02)
    assert any(0 < r.covered_share for r in rep.rows)


def test_scope_and_inputs(bangli):
    session, _ = bangli
    with pytest.raises(RegionNotFound):
        post_coverage(session, None, SPEEDS, scope=Scope.of(["34.71"]), kode_kab="51.06",
                      profile="fire_truck", sla_minutes=15)
    for kwargs in ({"profile": "hovercraft"}, {"sla_minutes": 0}, {"sla_minutes": 1e9},
                   {"spacing_m": 1.0}):
        args = {"profile": "fire_truck", "sla_minutes": 15} | kwargs
        with pytest.raises(AnalyticsInputError):
            post_coverage(session, None, SPEEDS, scope=EVERYTHING, kode_kab="51.06", **args)


def test_no_post_means_nothing_covered(db_session, pilot_regions):
    rep = post_coverage(db_session, None, SPEEDS, scope=EVERYTHING, kode_kab="51.06",
                        profile="ambulance", sla_minutes=30, agency="NOSUCH", spacing_m=1000)
    assert rep.posts == () and rep.covered_area_km2 == 0
    assert all(r.covered_share == 0 and r.serving_post is None for r in rep.rows)
