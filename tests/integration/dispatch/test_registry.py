"""The registry services on the real database: hand-made Bangli posts and fleet imported whole or
refused whole, scoped by regency, trackers registered with ``tracking``, units expected at their
home post without a fresh fix, and the recommendation ranking the imported units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dispatch import posts, registry, trackers
from dispatch.exceptions import UnitNotFound
from dispatch.incident_records import to_geom
from dispatch.models import Incident, Post, Unit
from dispatch.recommend_service import recommend, unit_positions
from dispatch.registry_errors import PostNotFound, RegistryConflict, TrackerNotFound
from dispatch.registry_io import RegistryFileError, parse_posts, parse_units
from dispatch.scope import Scope
from geo.routing.profiles import load_profiles
from geo.types import LonLat
from tests.fixtures.dispatch import make_fix, store_fixes
from tracking.models import Device

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registry"
BANGLI = Scope.of(["51.06"])
JOGJA = Scope.of(["34.71"])
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
HEADER = ("kode_kab,call_sign,agency,vehicle_type,profile,capabilities,home_post,crew_size,"
          "status,device_id,protocol\n")
PROFILES = set(load_profiles())


def _import_bangli(session, scope=BANGLI):
    post_rows = parse_posts((FIXTURES / "bangli_posts.geojson").read_bytes(), "geojson")
    posts.import_posts(session, post_rows, scope=scope, actor="uji", now=NOW)
    unit_rows = parse_units((FIXTURES / "bangli_fleet.csv").read_bytes(), "csv")
    return registry.import_units(session, unit_rows, scope=scope, actor="uji", now=NOW,
                                 profiles=PROFILES)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_hand_made_files_are_imported_and_re_import_updates_in_place(seeded):
    report = _import_bangli(seeded)
    assert sorted(report.created) == ["UJI-DAMKAR-BGL-2", "UJI-DAMKAR-KTM-1", "UJI-PSC-BGL-1"]
    units = {u.row.call_sign: u for u in registry.list_registry_units(seeded, scope=BANGLI)}
    ktm = units["UJI-DAMKAR-KTM-1"]
    assert ktm.row.home_post == "Pos Damkar Kintamani Uji" and ktm.row.crew_size == 5
    assert ktm.row.capabilities == ("pumper", "rescue") and ktm.row.protocol == "gt06"
    device = seeded.get(Device, "uji-imei-860000000000101")
    assert device.registered and device.kode_kab == "51.06" and device.protocol == "gt06"
    assert device.label == "UJI-DAMKAR-KTM-1"
    before = (_count(seeded, Unit), _count(seeded, Post))
    again = _import_bangli(seeded)
    assert again.created == [] and len(again.updated) == 3
    assert (_count(seeded, Unit), _count(seeded, Post)) == before


def test_a_bad_row_refuses_the_whole_file_and_writes_nothing(seeded):
    posts.import_posts(seeded, parse_posts((FIXTURES / "bangli_posts.geojson").read_bytes(),
                                           "geojson"), scope=BANGLI, actor="uji", now=NOW)
    before = _count(seeded, Unit)
    text = HEADER + ("51.06,OK-1,DAMKAR,pumper,fire_truck,pumper,Pos Damkar Kintamani Uji,,,,\n"
                     "51.06,BAD-2,DAMKARR,pumper,fire_truck,pumper,,,,,\n"
                     "51.06,BAD-3,DAMKAR,pumper,hovercraft,pumper,,,,,\n"
                     "51.06,BAD-4,DAMKAR,pumper,fire_truck,pumper,Pos Tidak Ada,,,,\n"
                     "51.06,BAD-5,DAMKAR,pumper,fire_truck,pumper,,,,bli-damkar-01,\n")
    with pytest.raises(RegistryFileError) as err:
        registry.import_units(seeded, parse_units(text, "csv"), scope=BANGLI, actor="uji",
                              now=NOW, profiles=PROFILES)
    assert [p[0] for p in err.value.problems] == [3, 4, 5, 6]
    message = str(err.value)
    for reason in ("DAMKARR", "hovercraft", "Pos Tidak Ada", "already on another unit"):
        assert reason in message
    assert _count(seeded, Unit) == before


def test_rows_of_another_regency_refuse_the_file(seeded):
    with pytest.raises(RegistryFileError, match="row 2: regency 51.06 is outside your scope"):
        _import_bangli(seeded, scope=JOGJA)
    assert seeded.scalar(select(func.count()).select_from(Post)
                         .where(Post.kode_kab == "51.06")) == 0
    desk = Scope.of(["51.06"], agency_code="PSC119")
    with pytest.raises(RegistryFileError, match="agency DAMKAR is not yours"):
        _import_bangli(seeded, scope=desk)


def test_reads_are_scoped_and_another_regencys_post_is_not_found(seeded):
    _import_bangli(seeded)
    [post, *_] = posts.list_posts(seeded, scope=BANGLI)
    assert posts.list_posts(seeded, scope=JOGJA) == []
    assert registry.list_registry_units(seeded, scope=JOGJA, kode_kab="51.06") == []
    with pytest.raises(PostNotFound):
        posts.get_post(seeded, post.id, scope=JOGJA)
    assert posts.get_post(seeded, post.id, scope=BANGLI).name == post.name
    with pytest.raises(TrackerNotFound):
        trackers.get_tracker(seeded, "uji-imei-860000000000101", scope=JOGJA)


def test_unit_is_expected_at_its_home_post_without_a_fresh_fix(seeded):
    _import_bangli(seeded)
    unit = seeded.scalars(select(Unit).where(Unit.call_sign == "UJI-DAMKAR-KTM-1")).one()
    post = posts.get_post(seeded, unit.post_id, scope=BANGLI)
    assert unit_positions(seeded, [unit], now=NOW)[unit.id][1] == "post"
    # a fix near the scene 30 minutes ago (before the assignment was cleared): the post wins
    store_fixes(seeded, [make_fix(unit.device_id, NOW - timedelta(minutes=30), 115.30, -8.40)])
    pos, source, _ = unit_positions(seeded, [unit], now=NOW)[unit.id]
    row = posts.post_row(post)
    assert source == "post" and (pos.lon, pos.lat) == (row.lon, row.lat)
    # a fresh fix places the unit where it is
    store_fixes(seeded, [make_fix(unit.device_id, NOW - timedelta(minutes=2), 115.31, -8.41)])
    pos, source, at = unit_positions(seeded, [unit], now=NOW)[unit.id]
    assert source == "gps" and (pos.lon, pos.lat) == (115.31, -8.41)


def test_recommendation_ranks_the_imported_units_from_their_posts(seeded, dispatch_config):
    _import_bangli(seeded)
    for unit in seeded.scalars(select(Unit).where(Unit.kode_kab == "51.06",
                                                  Unit.call_sign.like("BLI-%"))):
        unit.status = "out_of_service"  # only the imported fleet is available
    incident = Incident(kode_kab="51.06", received_at=NOW, channel="phone_112", category="fire",
                        status="new", geom=to_geom(LonLat(115.352, -8.292)))
    seeded.add(incident)
    seeded.flush()
    recs = {r.agency: r for r in recommend(seeded, incident.id, config=dispatch_config,
                                           scope=Scope.of(["51.06"]))}
    damkar = [(u.call_sign, u.position_source) for u in recs["DAMKAR"].units]
    assert damkar == [("UJI-DAMKAR-KTM-1", "post"), ("UJI-DAMKAR-BGL-2", "post")]
    assert [u.call_sign for u in recs["PSC119"].units] == ["UJI-PSC-BGL-1"]
    first, second = recs["DAMKAR"].units
    assert first.eta_s < second.eta_s


def test_trackers_register_on_a_unit_list_unknown_and_revoke(seeded, pilot_regions):
    _import_bangli(seeded)
    unit = seeded.scalars(select(Unit).where(Unit.call_sign == "UJI-DAMKAR-BGL-2")).one()
    # an unknown tracker reports from inside Bangli: Bangli sees it, Yogyakarta does not
    store_fixes(seeded, [make_fix("uji-baru-77", NOW, 115.354, -8.455)])
    unknown = trackers.list_trackers(seeded, scope=BANGLI, registered=False)
    assert "uji-baru-77" in [t.device_id for t in unknown]
    assert "uji-baru-77" not in [t.device_id for t in
                                 trackers.list_trackers(seeded, scope=JOGJA, registered=False)]
    info = trackers.register_tracker(seeded, "uji-baru-77", kode_kab="51.06", scope=BANGLI,
                                     actor="uji", now=NOW, protocol="osmand", unit_id=unit.id)
    assert (info.registered, info.kode_kab, info.protocol) == (True, "51.06", "osmand")
    assert info.unit_id == unit.id and info.call_sign == "UJI-DAMKAR-BGL-2"
    # the tracker is on that unit: another unit cannot take it; Yogyakarta cannot register it
    other = seeded.scalars(select(Unit).where(Unit.call_sign == "UJI-PSC-BGL-1")).one()
    with pytest.raises(RegistryConflict):
        trackers.register_tracker(seeded, "uji-baru-77", kode_kab="51.06", scope=BANGLI,
                                  actor="uji", now=NOW, unit_id=other.id)
    with pytest.raises(RegistryConflict):
        trackers.register_tracker(seeded, "uji-baru-77", kode_kab="34.71", scope=JOGJA,
                                  actor="uji", now=NOW)
    with pytest.raises(UnitNotFound):
        trackers.register_tracker(seeded, "uji-lain", kode_kab="34.71", scope=JOGJA,
                                  actor="uji", now=NOW, unit_id=unit.id)
    revoked = trackers.revoke_tracker(seeded, "uji-baru-77", scope=BANGLI, actor="uji", now=NOW,
                                      accounts=None)
    assert not revoked.registered and revoked.revoked_at == NOW and revoked.unit_id is None
    with pytest.raises(TrackerNotFound):
        trackers.revoke_tracker(seeded, "uji-baru-77", scope=JOGJA, actor="uji", now=NOW,
                                accounts=None)


def test_import_sets_service_status_but_never_ends_an_assignment(seeded):
    _import_bangli(seeded)
    text = (FIXTURES / "bangli_fleet.csv").read_text()
    off = text.replace("pumper;tanker,Pos Terpadu Bangli Kota Uji,4,available",
                       "pumper;tanker,Pos Terpadu Bangli Kota Uji,4,out_of_service")
    registry.import_units(seeded, parse_units(off, "csv"), scope=BANGLI, actor="uji", now=NOW,
                          profiles=PROFILES)
    units = {u.call_sign: u for u in seeded.scalars(select(Unit).where(
        Unit.call_sign.like("UJI-%")))}
    assert units["UJI-DAMKAR-BGL-2"].status == "out_of_service"
    units["UJI-DAMKAR-KTM-1"].status = "en_route"  # on an assignment
    seeded.flush()
    all_off = text.replace(",available,", ",out_of_service,")
    report = registry.import_units(seeded, parse_units(all_off, "csv"), scope=BANGLI,
                                   actor="uji", now=NOW, profiles=PROFILES)
    assert units["UJI-DAMKAR-KTM-1"].status == "en_route"
    assert any("UJI-DAMKAR-KTM-1" in n and "kept" in n for n in report.notes)
    assert units["UJI-PSC-BGL-1"].status == "out_of_service"
