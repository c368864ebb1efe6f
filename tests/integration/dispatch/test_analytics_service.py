"""Planner analytics against real PostGIS: filters (cancelled, duplicates, kind, category,
agency, dates), no cap on large histories, a hot desa cluster built in, time matrices, emerging
hot spots and siting demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import text

from dispatch import analytics_service as svc
from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.models import Agency, Incident, IncidentAgency
from dispatch.scoping import EVERYTHING
from dispatch.siting_inputs import existing_posts, incident_demand
from geo.population import PopulationRow
from geo.population_store import import_population

KAB = "34.71"
#: Every incident of every regency (the operator's view).
NO_FILTER = svc.IncidentFilter(scope=EVERYTHING)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB
SURYATMAJAN = "34.71.04.1001"


def _point_in(session, kode_desa: str) -> tuple[float, float]:
    row = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM desa "
            "WHERE kode_desa = :k) s"
        ),
        {"k": kode_desa},
    ).one()
    return float(row[0]), float(row[1])


def _neighbours(session, kode_desa: str) -> list[str]:
    return list(
        session.scalars(
            text(
                "SELECT b.kode_desa FROM desa a JOIN desa b ON ST_Touches(a.geom, b.geom) "
                "WHERE a.kode_desa = :k ORDER BY b.kode_desa"
            ),
            {"k": kode_desa},
        )
    )


def _add(
    session,
    kode_desa,
    n=1,
    *,
    at=T0,
    category="fire",
    kind="emergency",
    status="new",
    duplicate_of=None,
    agency=None,
):
    lon, lat = _point_in(session, kode_desa)
    made = []
    for _ in range(n):
        inc = Incident(
            kode_kab=KAB,
            received_at=at,
            channel="phone_112",
            category=category,
            kind=kind,
            status=status,
            kode_desa=kode_desa,
            duplicate_of=duplicate_of,
            geom=f"SRID=4326;POINT({lon} {lat})",
        )
        session.add(inc)
        made.append(inc)
    session.flush()
    if agency is not None:
        for inc in made:
            session.add(
                IncidentAgency(
                    kode_kab=KAB,
                    incident_id=inc.id,
                    agency_id=agency.id,
                    role="dispatch",
                    ack_min=1.0,
                    on_scene_min=10.0,
                )
            )
        session.flush()
    return made


@pytest.fixture
def db(db_session, pilot_regions):
    """The test session, with the incidents other tests committed for this regency moved out of
    it for the duration of the test (the outer transaction is rolled back), so counts are exact."""
    db_session.execute(
        text("UPDATE incident SET kode_kab = '00.00' WHERE kode_kab = :k"), {"k": KAB}
    )
    return db_session


def test_filters_exclude_cancelled_and_duplicates_by_default(db):
    agency = Agency(kode_kab=KAB, code="TESTDAMKAR", name="Damkar uji")
    db.add(agency)
    db.flush()
    first = _add(db, SURYATMAJAN, 3, agency=agency)[0]
    _add(db, SURYATMAJAN, 2, status="cancelled")
    _add(db, SURYATMAJAN, 1, duplicate_of=first.id)
    _add(db, SURYATMAJAN, 4, category="flood", kind="public_service", at=T0 + timedelta(days=40))
    flt = NO_FILTER

    def total(f):
        return int(svc.desa_counts(session=db, kode_kab=KAB, flt=f).count.sum())

    assert total(flt) == 7
    assert total(svc.IncidentFilter(include_cancelled=True, scope=EVERYTHING)) == 9
    assert total(svc.IncidentFilter(include_cancelled=True, include_duplicates=True,
                                    scope=EVERYTHING)) == 10
    assert total(svc.IncidentFilter(kind="complaint", scope=EVERYTHING)) == 4
    assert total(svc.IncidentFilter(category="fire", scope=EVERYTHING)) == 3
    assert total(svc.IncidentFilter(agency="TESTDAMKAR", scope=EVERYTHING)) == 3
    assert total(svc.IncidentFilter(start=T0 + timedelta(days=1), scope=EVERYTHING)) == 4
    assert total(svc.IncidentFilter(end=T0 + timedelta(days=1), scope=EVERYTHING)) == 3


def test_no_silent_cap_on_large_histories(db):
    lon, lat = _point_in(db, SURYATMAJAN)
    db.execute(
        text(
            "INSERT INTO incident (kode_kab, received_at, channel, category, kind, status, "
            "kode_desa, geom, description, triage_overridden) "
            "SELECT :kab, :t0 + (g || ' minutes')::interval, 'phone_112', 'fire', "
            "'emergency', 'new', "
            ":desa, ST_SetSRID(ST_MakePoint(:lon + (g % 50) * 1e-5, :lat), 4326), '', false "
            "FROM generate_series(1, 25000) g"
        ),
        {"kab": KAB, "t0": T0, "desa": SURYATMAJAN, "lon": lon, "lat": lat},
    )
    flt = NO_FILTER
    assert svc.desa_counts(session=db, kode_kab=KAB, flt=flt).count.sum() == 25000
    assert svc.hour_of_week(session=db, kode_kab=KAB, flt=flt).sum() == 25000
    _, weights = incident_demand(session=db, kode_kab=KAB, flt=flt, cell_m=100.0)
    assert weights.sum() == 25000
    grid = svc.grid_hotspots(session=db, kode_kab=KAB, flt=flt, cell_m=500.0, permutations=99)
    assert grid.grid.count.sum() == 25000


def test_hot_desa_cluster_found_where_it_was_built(db):
    cluster = [SURYATMAJAN, *_neighbours(db, SURYATMAJAN)]
    for kode in cluster:
        _add(db, kode, 25)
    for kode in db.scalars(text("SELECT kode_desa FROM desa WHERE kode_kab = :k"), {"k": KAB}):
        if kode not in cluster:
            _add(db, kode, 1)
    res = svc.desa_hotspots(session=db, kode_kab=KAB, flt=NO_FILTER, seed=3)
    assert res.measure == "density_per_km2"
    bins = dict(zip(res.desa.kode_desa, res.gi.gi_bin.tolist(), strict=True))
    assert bins[SURYATMAJAN] > 0
    assert all(
        b <= 0
        for k, b in bins.items()
        if k not in cluster and not set(_neighbours(db, k)) & set(cluster)
    )
    # with a population for every desa the measure is a rate per 1,000
    pop = dict.fromkeys(res.desa.kode_desa, 2000.0)
    rate = svc.desa_hotspots(
        session=db, kode_kab=KAB, flt=NO_FILTER, population=pop, permutations=99
    )
    assert rate.measure == "rate_per_1000"
    assert rate.values[res.desa.kode_desa.index(SURYATMAJAN)] == pytest.approx(12.5)
    # desa figures imported into the population table are used by default
    rows = [PopulationRow(level="desa", kode=k, nama="", penduduk=4000, tahun=2024, sumber="t")
            for k in res.desa.kode_desa]
    import_population(db, rows)
    imported = svc.desa_hotspots(session=db, kode_kab=KAB, flt=NO_FILTER,
                                 permutations=99)
    assert imported.measure == "rate_per_1000"
    assert imported.values[res.desa.kode_desa.index(SURYATMAJAN)] == pytest.approx(6.25)


def test_hour_of_week_and_monthly_series_in_local_time(db):
    _add(db, SURYATMAJAN, 2)  # Monday 08:00 WIB
    _add(db, SURYATMAJAN, 1, at=T0 + timedelta(days=62, hours=16), category="flood")
    m = svc.hour_of_week(session=db, kode_kab=KAB, flt=NO_FILTER)
    assert m.shape == (7, 24) and m[0, 8] == 2 and m.sum() == 3
    months, series = svc.monthly_by_category(session=db, kode_kab=KAB, flt=NO_FILTER)
    assert months == ["2026-03", "2026-04", "2026-05"]
    assert series == {"fire": [2, 0, 0], "flood": [0, 0, 1]}


def test_emerging_new_hot_desa(db):
    cluster = [SURYATMAJAN, *_neighbours(db, SURYATMAJAN)]
    codes = list(db.scalars(text("SELECT kode_desa FROM desa WHERE kode_kab = :k"), {"k": KAB}))
    for month in range(6):
        at = datetime(2026, 1 + month, 10, 3, tzinfo=UTC)
        for kode in codes:
            _add(db, kode, 1, at=at)
        if month == 5:
            for kode in cluster:
                _add(db, kode, 20, at=at)
    desa, steps, res = svc.desa_emerging_hotspots(
        session=db, kode_kab=KAB, flt=NO_FILTER, step="month"
    )
    assert steps == [f"2026-{m:02d}-01" for m in range(1, 7)]
    assert res.category[desa.kode_desa.index(SURYATMAJAN)] == "new_hot"


def test_bad_inputs_are_typed_bilingual_errors(db):
    with pytest.raises(AnalyticsInputError, match=" / "):
        svc.IncidentFilter(start=datetime(2026, 1, 1), scope=EVERYTHING)
    with pytest.raises(AnalyticsInputError, match=" / "):
        svc.IncidentFilter(kind="drill", scope=EVERYTHING)
    with pytest.raises(AnalyticsInputError, match=" / "):
        svc.hour_of_week(session=db, kode_kab=KAB, flt=NO_FILTER, tz="Mars/Olympus")
    with pytest.raises(AnalyticsInputError, match=" / "):
        svc.desa_hotspots(session=db, kode_kab=KAB, flt=NO_FILTER)  # no incidents
    with pytest.raises(AnalyticsInputError, match=" / "):
        svc.grid_hotspots(session=db, kode_kab="99.99", flt=NO_FILTER)
    assert np.asarray(existing_posts(session=db, kode_kab="99.99", scope=EVERYTHING)).size == 0
