"""Fixes published by an independent client reach PostGIS; every bad input lands in rejects."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import text

from api.db import make_sessionmaker
from tests.fixtures.tracking import mqtt_host_port
from tests.integration.tracking.helpers import mosquitto_pub, scalar, wait_for
from tracking import service
from tracking.ingest import IngestConfig, IngestWorker


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def running(worker: IngestWorker, mqtt_url: str, topic: str):
    """``worker`` running in a thread and a listener on ``topic``; yields the ``(topic,
    payload)`` pairs received, then stops both (the worker's thread must end)."""
    received: list[tuple[str, dict]] = []
    host, port = mqtt_host_port(mqtt_url)
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    listener.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    listener.connect(host, port)
    listener.subscribe(topic, qos=1)
    listener.loop_start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.ready.wait(10)
        yield received
    finally:
        worker.stop()
        thread.join(10)
        listener.loop_stop()
        listener.disconnect()
    assert not thread.is_alive()


def test_native_and_owntracks_from_mosquitto_pub_are_stored(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    worker = ingest_process(mqtt_url, f"ingest-{token}", topic_prefix)
    worker.wait_subscribed()
    now = datetime.now(UTC).replace(microsecond=0)
    dev = f"{token}-DMK1"
    single = {"v": 1, "device_id": dev, "seq": 1, "fix_time": iso(now - timedelta(seconds=20)),
              "lat": -7.801389, "lon": 110.364722, "speed_mps": 12.5, "heading_deg": 87.0,
              "hdop": 0.9, "accuracy_m": 4.5, "satellites": 11, "battery_pct": 96.0,
              "ignition": True, "source": "gt06"}
    batch = [{**single, "seq": s, "fix_time": iso(now - timedelta(seconds=20 - s)),
              "lat": -7.801389 + s * 1e-5} for s in (2, 3)]
    mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/{dev}", json.dumps(single).encode())
    mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/{dev}", json.dumps(batch).encode())
    mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/{dev}", json.dumps(single).encode())
    owntracks = {"_type": "location", "tst": int(now.timestamp()) - 5, "lat": -7.7956,
                 "lon": 110.3695, "vel": 18, "cog": 270, "acc": 9, "batt": 55, "tid": "bd"}
    mosquitto_pub(mqtt_url, f"{topic_prefix}owntracks/{token}/hp1",
                  json.dumps(owntracks).encode())
    mosquitto_pub(mqtt_url, f"{topic_prefix}owntracks/{token}/hp1",
                  json.dumps({"_type": "transition", "tst": 1}).encode())
    ot_dev = f"owntracks:{token}:hp1"
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM position WHERE device_id IN (:a, :b)",
                            a=dev, b=ot_dev) >= 4, 20, "4 fixes")
    time.sleep(0.5)
    with make_sessionmaker(engine)() as session:
        track = service.fixes_between(session, dev, now - timedelta(minutes=5), now)
        assert [f.seq for f in track] == [1, 2, 3]  # the repeated message was absorbed
        assert (track[0].speed_mps, track[0].satellites, track[0].source) == (12.5, 11, "gt06")
        latest = service.latest_positions(session, [dev, ot_dev])
        assert latest[dev].seq == 3
        assert latest[ot_dev].source == "owntracks"
        assert abs(latest[ot_dev].speed_mps - 5.0) < 1e-9 and latest[ot_dev].heading_deg == 270
        devices = {d.device_id: d for d in service.list_devices(session)}
        assert devices[dev].registered is False and devices[dev].first_seen_at is not None
        assert ot_dev in devices
    assert worker.terminate() == 0


def test_every_bad_input_lands_in_rejects_with_its_reason(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    worker = ingest_process(mqtt_url, f"ingest-{token}", topic_prefix)
    worker.wait_subscribed()
    now = datetime.now(UTC).replace(microsecond=0)
    dev = f"{token}-BAD"
    topic = f"{topic_prefix}siaga/v1/pos/{dev}"
    good = {"v": 1, "device_id": dev, "seq": 1, "fix_time": iso(now - timedelta(seconds=60)),
            "lat": -7.8, "lon": 110.36}
    cases = {
        "malformed_json": b'{"v": 1, "lat": ',
        "invalid_structure": b"[]",
        "missing_field": json.dumps({k: v for k, v in good.items() if k != "lat"}).encode(),
        "unknown_field": json.dumps({**good, "speed_kmh": 3}).encode(),
        "unsupported_version": json.dumps({**good, "v": 9}).encode(),
        "lat_out_of_range": json.dumps({**good, "lat": 123.0}).encode(),
        "lon_out_of_range": json.dumps({**good, "lon": 200.0}).encode(),
        "null_island": json.dumps({**good, "lat": 0.0, "lon": 0.0}).encode(),
        "not_finite": json.dumps(good).replace("-7.8", "NaN").encode(),
        "fix_time_future": json.dumps({**good, "fix_time": iso(now + timedelta(hours=3))}).encode(),
        "fix_time_too_old": json.dumps({**good, "fix_time": "2019-04-06T00:00:00Z"}).encode(),
        "invalid_fix_time": json.dumps({**good, "fix_time": "kemarin"}).encode(),
        "device_mismatch": json.dumps({**good, "device_id": "SOMEONE-ELSE"}).encode(),
        "invalid_type": json.dumps({**good, "seq": "satu"}).encode(),
    }
    for payload in cases.values():
        mosquitto_pub(mqtt_url, topic, payload)
    # a good fix, then an impossible 50 km jump 10 s later
    mosquitto_pub(mqtt_url, topic, json.dumps(good).encode())
    jump = {**good, "seq": 2, "fix_time": iso(now - timedelta(seconds=50)), "lat": -7.35}
    mosquitto_pub(mqtt_url, topic, json.dumps(jump).encode())
    mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/", json.dumps(good).encode())
    expected = set(cases) | {"implied_speed", "invalid_topic"}
    sql = "SELECT count(DISTINCT reason) FROM position_reject WHERE topic LIKE :p"
    wait_for(lambda: scalar(engine, sql, p=topic_prefix + "%") >= len(expected), 20,
             "all reject reasons")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT reason, message, message_en, payload, topic FROM position_reject "
            "WHERE topic LIKE :p"), {"p": topic_prefix + "%"}).all()
    by_reason = {r.reason: r for r in rows}
    assert set(by_reason) == expected
    for reason, payload in cases.items():
        assert bytes(by_reason[reason].payload) == payload, reason
        assert by_reason[reason].message and by_reason[reason].message_en
    assert scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d", d=dev) == 1
    assert worker.proc.poll() is None  # bad input never stops ingestion
    assert worker.terminate() == 0


def test_events_are_published_and_a_failing_hook_loses_nothing(
        engine, mqtt_url, topic_prefix):
    token = topic_prefix.strip("/")
    calls: list[int] = []

    def broken_hook(session, fixes):
        calls.append(len(fixes))
        raise RuntimeError("dispatch is down")

    def arrival_hook(session, fixes):
        count = session.execute(text("SELECT count(*) FROM position WHERE device_id = :d"),
                                {"d": fixes[0].device_id}).scalar_one()
        return [("siaga/v1/events/arrival", {"stored": count})]  # the worker adds its prefix

    config = IngestConfig(mqtt_url=mqtt_url, client_id=f"ingest-{token}",
                          topic_prefix=topic_prefix, session_expiry_s=60,
                          stale_after_s=1.0, stale_check_interval_s=0.3)
    registered = {f"{token}-SILENT"}
    worker = IngestWorker(make_sessionmaker(engine), config,
                          hooks=[broken_hook, arrival_hook], on_duty=lambda s: registered)
    with running(worker, mqtt_url, f"{topic_prefix}siaga/v1/events/#") as received:
        dev = f"{token}-H1"
        now = datetime.now(UTC).replace(microsecond=0)
        fix = {"v": 1, "device_id": dev, "seq": 5, "fix_time": iso(now), "lat": -7.8,
               "lon": 110.36}
        mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/{dev}", json.dumps(fix).encode())
        wait_for(lambda: {t.rsplit("/", 1)[1] for t, _ in received} >= {"position", "arrival",
                                                                          "stale"}, 15, "events")
        # every event under the worker's prefix, the hook's too (once)
        assert all(t.startswith(f"{topic_prefix}siaga/v1/events/") for t, _ in received)
    assert calls == [1] and worker.counters["hook_errors"] == 1
    assert scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d", d=dev) == 1
    payloads = {t.rsplit("/", 1)[1]: p for t, p in received}
    assert payloads["position"]["fixes"][0]["device_id"] == dev
    assert payloads["arrival"] == {"stored": 1}
    assert payloads["stale"]["device_id"] == f"{token}-SILENT"
    assert payloads["stale"]["state"] == "stale"


def test_a_hook_meeting_the_database_unreachable_is_retried_not_skipped(
        engine, mqtt_url, topic_prefix):
    """A failover while the arrival hook runs: the database's connection failure is retried (the
    batch's arrival is still verified); only other failures count as hook errors."""
    import psycopg
    import sqlalchemy.exc

    token = topic_prefix.strip("/")
    attempts: list[int] = []

    def hook_during_failover(session, fixes):
        attempts.append(len(fixes))
        if len(attempts) < 3:  # the first two attempts meet the database going away
            raise sqlalchemy.exc.OperationalError(
                "SELECT 1", {}, psycopg.OperationalError("server closed the connection"))
        n = session.execute(text("SELECT count(*) FROM position WHERE device_id = :d"),
                            {"d": fixes[0].device_id}).scalar_one()
        return [("siaga/v1/events/arrival", {"stored": n})]

    config = IngestConfig(mqtt_url=mqtt_url, client_id=f"ingest-{token}",
                          topic_prefix=topic_prefix, session_expiry_s=60, retry_delay_s=0.1)
    worker = IngestWorker(make_sessionmaker(engine), config, hooks=[hook_during_failover])
    with running(worker, mqtt_url, f"{topic_prefix}siaga/v1/events/arrival") as received:
        dev = f"{token}-R1"
        fix = {"v": 1, "device_id": dev, "seq": 1,
               "fix_time": iso(datetime.now(UTC).replace(microsecond=0)), "lat": -7.8,
               "lon": 110.36}
        mosquitto_pub(mqtt_url, f"{topic_prefix}siaga/v1/pos/{dev}", json.dumps(fix).encode())
        wait_for(lambda: received, 15, "the hook's event after the retries")
    assert attempts == [1, 1, 1] and [p for _, p in received] == [{"stored": 1}]
    assert worker.counters["hook_retries"] == 2 and worker.counters["hook_errors"] == 0
