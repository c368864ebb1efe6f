"""Storage service against the real PostGIS: dedup, latest-if-newer, partitions, retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tracking import service
from tracking.contract import Rejection
from tracking.exceptions import InvalidTimeRangeError
from tracking.fix import Fix

NOW = datetime.now(UTC).replace(microsecond=0)


def mk(dev: str, t: datetime, seq: int | None, lat: float = -7.8) -> Fix:
    return Fix(device_id=dev, fix_time=t, lon=110.36, lat=lat, seq=seq, speed_mps=1.0,
               received_at=NOW)


@pytest.fixture
def dev() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"


def test_duplicates_are_absorbed_including_null_seq(db_session, dev):
    fixes = [mk(dev, NOW - timedelta(seconds=10), 1), mk(dev, NOW - timedelta(seconds=5), None)]
    first = service.write_batch(db_session, fixes + fixes[:1])
    assert (first.stored, first.duplicates) == (2, 1)
    again = service.write_batch(db_session, fixes)
    assert (again.stored, again.duplicates) == (0, 2)
    assert len(service.fixes_between(db_session, dev, NOW - timedelta(minutes=1), NOW)) == 2


def test_latest_position_moves_only_forward(db_session, dev):
    service.write_batch(db_session, [mk(dev, NOW - timedelta(seconds=5), 2, lat=-7.81)])
    late = service.write_batch(db_session, [mk(dev, NOW - timedelta(hours=2), 1, lat=-7.9)])
    assert late.stored == 1 and late.latest == {}
    assert service.latest_positions(db_session, [dev])[dev].lat == pytest.approx(-7.81)
    newer = service.write_batch(db_session, [mk(dev, NOW, 3, lat=-7.82)])
    assert newer.latest[dev].seq == 3
    assert service.latest_positions(db_session, [dev])[dev].seq == 3


def test_rejections_and_unknown_devices_are_recorded(db_session, dev):
    rej = Rejection("null_island", "pesan", "message", f"siaga/v1/pos/{dev}", b'{"lat":0}',
                    NOW, dev)
    service.write_batch(db_session, [mk(dev, NOW, 1)], [rej])
    (record,) = service.rejects(db_session, device_id=dev)
    assert (record.reason, record.payload_text) == ("null_island", '{"lat":0}')
    assert service.reject_counts(db_session, since=NOW)["null_island"] >= 1
    (info,) = [d for d in service.list_devices(db_session) if d.device_id == dev]
    assert info.registered is False
    registered = service.register_device(db_session, dev, kode_kab="34.71", label="Damkar 1")
    assert (registered.registered, registered.kode_kab, registered.first_seen_at) == (
        True, "34.71", info.first_seen_at)
    assert dev in service.registered_device_ids(db_session)


def test_partitions_are_created_on_demand_and_rows_move_out_of_default(db_session, dev):
    day = (NOW - timedelta(days=40)).replace(hour=12, minute=0, second=0)
    part = f"position_p{day:%Y%m%d}"
    db_session.execute(text(
        "INSERT INTO position_default (device_id, fix_time, seq, geom, received_at) VALUES "
        "(:d, :t, 0, ST_SetSRID(ST_MakePoint(110.36, -7.8), 4326), now())"),
        {"d": dev, "t": day})
    if part in service.position_partitions(db_session):
        pytest.skip("partition already exists in this database")
    service.write_batch(db_session, [mk(dev, day + timedelta(minutes=1), 1)])
    assert part in service.position_partitions(db_session)
    rows = db_session.execute(text(
        "SELECT tableoid::regclass::text FROM position WHERE device_id = :d"), {"d": dev}).all()
    assert [r[0] for r in rows] == [part, part]


def test_prune_drops_old_partitions(db_session, dev):
    old = (NOW - timedelta(days=30)).replace(hour=6)
    service.write_batch(db_session, [mk(dev, old, 1), mk(dev, NOW, 2)])
    result = service.prune(db_session, older_than_days=20, now=NOW)
    assert f"position_p{old:%Y%m%d}" in result.dropped_partitions
    assert f"position_p{NOW:%Y%m%d}" not in result.dropped_partitions
    remaining = service.fixes_between(db_session, dev, old - timedelta(days=1), NOW)
    assert [f.seq for f in remaining] == [2]


def test_bad_time_range_is_a_domain_error(db_session, dev):
    with pytest.raises(InvalidTimeRangeError):
        service.fixes_between(db_session, dev, NOW, NOW - timedelta(seconds=1))
