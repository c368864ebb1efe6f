"""HTTP routes of tracking against the test database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api.db import make_sessionmaker, unit_of_work
from tracking import service
from tracking.contract import Rejection
from tracking.fix import Fix


def seed(engine) -> tuple[str, datetime]:
    dev = f"http-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    fixes = [Fix(device_id=dev, fix_time=now - timedelta(seconds=30 - 10 * i),
                 lon=110.36 + i * 1e-4, lat=-7.8, seq=i, received_at=now) for i in range(3)]
    rej = Rejection("null_island", "Posisi (0, 0)", "Position (0, 0)", f"siaga/v1/pos/{dev}",
                    b"{}", now, dev)
    with unit_of_work(make_sessionmaker(engine)) as session:
        service.write_batch(session, fixes, [rej])
    return dev, now


def test_latest_devices_track_and_rejects(api_client, engine):
    dev, now = seed(engine)
    latest = api_client.get("/api/v1/tracking/latest", params={"device_id": dev}).json()
    (feature,) = latest["features"]
    assert feature["properties"]["seq"] == 2
    assert feature["geometry"]["coordinates"] == [110.3602, -7.8]
    devices = api_client.get("/api/v1/tracking/devices", params={"registered": False}).json()
    assert dev in {d["device_id"] for d in devices["devices"]}
    track = api_client.get(f"/api/v1/tracking/devices/{dev}/track",
                           params={"start": (now - timedelta(minutes=5)).isoformat(),
                                   "end": now.isoformat()}).json()
    assert track["properties"]["fixes"] == 3
    assert track["features"][0]["geometry"]["type"] == "LineString"
    rejects = api_client.get("/api/v1/tracking/rejects", params={"device_id": dev}).json()
    assert [r["reason"] for r in rejects["rejects"]] == ["null_island"]
    assert rejects["counts"]["null_island"] >= 1


def test_bad_requests_are_clear_errors_not_500(api_client):
    missing = api_client.get("/api/v1/tracking/devices/nope-xyz/track")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "device_not_found"
    bad_time = api_client.get("/api/v1/tracking/rejects", params={"since": "kemarin"})
    assert bad_time.status_code == 422
    dev = f"http-{uuid.uuid4().hex[:8]}"
    with unit_of_work(api_client.app.state.siaga.sessionmaker) as session:
        service.register_device(session, dev)
    backwards = api_client.get(f"/api/v1/tracking/devices/{dev}/track",
                               params={"start": "2026-11-23T02:00:00Z",
                                       "end": "2026-11-23T01:00:00Z"})
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "invalid_time_range"
    too_long = api_client.get(f"/api/v1/tracking/devices/{dev}/track",
                              params={"start": "2026-10-01T00:00:00Z",
                                      "end": "2026-11-23T01:00:00Z"})
    assert too_long.status_code == 422
    assert api_client.get("/api/v1/tracking/rejects", params={"limit": 0}).status_code == 422


def test_devices_show_last_fix_and_a_tracker_alive_without_fix(api_client, engine):
    from tracking.status import Cell, StatusReport

    dev, now = seed(engine)  # last fix at now - 10 s
    never = f"http-{uuid.uuid4().hex[:8]}"
    later = now + timedelta(minutes=7)
    statuses = [
        StatusReport(dev, later, later, "gps_invalid", later, (Cell(510, 10, 500, 161, -70),), 2,
                     "gt06"),
        StatusReport(dev, now, now, "no_gps", None, (), 0, "gt06"),  # older: ignored
        StatusReport(never, now, now, "no_satellites", None, (), 0, "teltonika"),
    ]
    with unit_of_work(make_sessionmaker(engine)) as session:
        outcome = service.write_batch(session, [], [], statuses=statuses)
    assert (outcome.stored, outcome.statuses) == (0, 3)
    body = api_client.get("/api/v1/tracking/devices", params={"registered": False}).json()
    devices = {d["device_id"]: d for d in body["devices"]}
    alive = devices[dev]
    assert alive["last_fix_at"] == (now - timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert alive["last_status_at"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert alive["last_seen_at"] == alive["last_status_at"]
    assert alive["last_status_reason"] == "gps_invalid"
    assert alive["last_cells"] == [{"mcc": 510, "mnc": 10, "lac": 500, "cid": 161, "rssi": -70}]
    assert alive["last_wifi_count"] == 2 and alive["alive_without_fix"] is True
    assert devices[never]["last_fix_at"] is None and devices[never]["alive_without_fix"] is True
    assert service.latest_positions(make_sessionmaker(engine)(), [never]) == {}
    # a newer fix: no longer "alive without a fix"
    fix = Fix(device_id=dev, fix_time=later + timedelta(seconds=30), lon=110.36, lat=-7.8, seq=9,
              received_at=later + timedelta(seconds=31))
    with unit_of_work(make_sessionmaker(engine)) as session:
        service.write_batch(session, [fix], [])
    body = api_client.get("/api/v1/tracking/devices", params={"registered": False}).json()
    again = next(d for d in body["devices"] if d["device_id"] == dev)
    assert again["alive_without_fix"] is False and again["last_status_reason"] == "gps_invalid"
