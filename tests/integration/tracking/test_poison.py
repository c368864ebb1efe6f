"""One poison message or row never stalls nor crashes ingestion (real PostGIS and Mosquitto).

* The writer: a batch mixing good rows and rows PostgreSQL refuses stores every good row and
  keeps each refused row as a reject, in bounded time (no retry loop on a data error).
* The worker: hostile payloads (3,000-deep nesting, ``seq`` 2**63, NUL and lone surrogates,
  oversized numbers) are rejected with their reason and acknowledged; the stream after them goes
  on; a worker started with such a message queued in its session does not crash-loop.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from api.db import make_sessionmaker
from tests.fixtures.tracking import mqtt_host_port
from tests.integration.tracking.helpers import mosquitto_pub, scalar, wait_for
from tracking.contract import Rejection
from tracking.fix import Fix
from tracking.writer import BatchWriter


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_connected(worker, times: int) -> None:
    """Wait for the ``times``-th connection in the log (restarts of one client id share it)."""
    wait_for(lambda: worker.log_path.read_text(errors="replace").count("MQTT connected") >= times
             or worker.proc.poll() is not None, 30, f"connection {times}")
    time.sleep(0.3)  # the SUBACK follows the CONNACK


def make_writer(engine) -> BatchWriter:
    return BatchWriter(make_sessionmaker(engine),
                       topic_for=lambda f: f"t/siaga/v1/pos/{f.device_id}",
                       retry_delay_s=0.05, stop=threading.Event(), counters=Counter())


def test_a_batch_mixing_good_and_poison_rows_stores_the_good_and_rejects_the_poison(engine):
    token = f"w{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    good = [Fix(f"{token}-{i % 3}", now - timedelta(seconds=100 - i), 110.36 + i * 1e-5, -7.8,
                seq=i, received_at=now) for i in range(40)]
    poison = {
        7: Fix(f"{token}-P", now, 110.36, -7.8, seq=2**63, received_at=now),  # int8 overflow
        19: Fix(f"{token}-P", now, 110.36, -7.8, seq=1, source="gt\x0006", received_at=now),
        23: Fix(f"{token}-P", now, 110.36, -7.8, seq=2, source="\ud800", received_at=now),
        31: Fix(f"{token}-P", now, 110.36, -7.8, seq=3, satellites=2**31, received_at=now),
    }
    fixes = list(good)
    for index, fix in sorted(poison.items()):
        fixes.insert(index, fix)
    parser_reject = Rejection("unknown_field", "Kolom tidak dikenal: 'a\x00'.",
                              "Unknown fields: 'a\x00'.", f"t/siaga/v1/pos/{token}-0",
                              b'{"a\\u0000":1}', now, f"{token}-0")
    writer = make_writer(engine)
    started = time.monotonic()
    result = writer.write(fixes, [parser_reject])
    assert time.monotonic() - started < 30
    assert result is not None
    assert result.outcome.stored == len(good)
    assert sorted(id(f) for f in result.refused) == sorted(id(f) for f in poison.values())
    assert writer.counters["db_errors"] == 0  # a refused row is never "the database is down"
    assert scalar(engine, "SELECT count(*) FROM position WHERE device_id LIKE :p",
                  p=f"{token}-%") == len(good)
    assert scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d",
                  d=f"{token}-P") == 0
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT reason, message, message_en, payload FROM position_reject "
            "WHERE device_id LIKE :p ORDER BY id"), {"p": f"{token}-%"}).all()
    reasons = Counter(r.reason for r in rows)
    assert reasons == {"storage_rejected": 4, "unknown_field": 1}
    stored_seqs = sorted(json.loads(bytes(r.payload))["seq"] for r in rows
                         if r.reason == "storage_rejected")
    assert stored_seqs == [1, 2, 3, 2**63]
    assert all(r.message and r.message_en for r in rows)
    unknown = next(r for r in rows if r.reason == "unknown_field")
    assert unknown.message_en == "Unknown fields: 'a\\x00'."  # NUL escaped, row stored
    assert scalar(engine, "SELECT count(*) FROM latest_position WHERE device_id LIKE :p",
                  p=f"{token}-%") == 3


def hostile_payloads(dev: str, now: datetime) -> dict[str, list[bytes]]:
    good = {"v": 1, "device_id": dev, "seq": 1, "fix_time": iso(now - timedelta(seconds=60)),
            "lat": -7.8, "lon": 110.36}
    raw = json.dumps(good)
    return {
        "nesting_too_deep": [b"[" * 3000 + b"]" * 3000, b'{"a":' * 3000 + b"1" + b"}" * 3000],
        "invalid_value": [
            raw.replace('"seq": 1', '"seq": 9223372036854775808').encode(),
            raw.replace('"seq": 1', '"seq": 1e20').encode(),
            json.dumps({**good, "satellites": 2**31}).encode(),
            json.dumps({**good, "source": "gt\x0006"}).encode(),
            raw.replace('"lon": 110.36', '"lon": 110.36, "source": "\\ud800"').encode(),
        ],
        "unknown_field": [
            json.dumps({**good, "a\x00b": 1}).encode(),
            raw.replace('"lon": 110.36', '"lon": 110.36, "\\udc00": 1').encode(),
        ],
        "not_finite": [raw.replace('"lon": 110.36', '"lon": 110.36, "speed_mps": 1'
                                   + "0" * 400).encode()],
        "malformed_json": [raw.replace('"seq": 1', '"seq": ' + "9" * 5000).encode(),
                           b'{"v":1,"\xff":2}'],
    }


def test_hostile_messages_are_rejected_acknowledged_and_the_stream_goes_on(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    worker = ingest_process(mqtt_url, f"ingest-{token}", topic_prefix)
    worker.wait_subscribed()
    now = datetime.now(UTC).replace(microsecond=0)
    dev = f"{token}-HOST"
    topic = f"{topic_prefix}siaga/v1/pos/{dev}"
    cases = hostile_payloads(dev, now)
    for seq, payloads in enumerate(cases.values()):
        for payload in payloads:
            mosquitto_pub(mqtt_url, topic, payload)
        after = {"v": 1, "device_id": dev, "seq": 100 + seq,
                 "fix_time": iso(now - timedelta(seconds=30 - seq)), "lat": -7.8, "lon": 110.36}
        mosquitto_pub(mqtt_url, topic, json.dumps(after).encode())
    host, port = mqtt_host_port(mqtt_url)  # clearing a retained message: ignored, not a reject
    subprocess.run(["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1", "-t", topic, "-r",
                    "-n"], check=True, timeout=20)
    total = sum(len(p) for p in cases.values())
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d",
                            d=dev) >= len(cases), 30, "the good fixes after the poison")
    wait_for(lambda: scalar(engine, "SELECT count(*) FROM position_reject WHERE topic = :t",
                            t=topic) >= total, 30, "every hostile message rejected")
    with engine.connect() as conn:
        reasons = Counter(r[0] for r in conn.execute(text(
            "SELECT reason FROM position_reject WHERE topic = :t"), {"t": topic}))
    assert reasons == {reason: len(p) for reason, p in cases.items()}
    assert worker.proc.poll() is None
    assert worker.terminate() == 0
    log = worker.log_path.read_text(errors="replace")
    assert "'ignored:empty_payload': 1" in log
    assert "retrying" not in log and "Traceback" not in log
    # everything was acknowledged: a new worker on the same session receives nothing again
    again = ingest_process(mqtt_url, f"ingest-{token}", topic_prefix)
    wait_connected(again, 2)
    time.sleep(2)
    assert again.terminate() == 0
    assert scalar(engine, "SELECT count(*) FROM position_reject WHERE topic = :t",
                  t=topic) == total


def test_a_poison_message_queued_while_the_worker_was_down_does_not_crash_loop(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    client_id = f"ingest-{token}"
    first = ingest_process(mqtt_url, client_id, topic_prefix)  # creates the persistent session
    first.wait_subscribed()
    assert first.terminate() == 0
    now = datetime.now(UTC).replace(microsecond=0)
    dev = f"{token}-Q"
    topic = f"{topic_prefix}siaga/v1/pos/{dev}"
    mosquitto_pub(mqtt_url, topic, b"[" * 3000 + b"]" * 3000)  # queued in the session
    good = {"v": 1, "device_id": dev, "seq": 1, "fix_time": iso(now - timedelta(seconds=5)),
            "lat": -7.8, "lon": 110.36}
    mosquitto_pub(mqtt_url, topic, json.dumps(good).encode())
    for start in (2, 3):  # each start would crash on the queued message if it were not acked
        worker = ingest_process(mqtt_url, client_id, topic_prefix)
        wait_connected(worker, start)
        wait_for(lambda: scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d",
                                d=dev) == 1, 20, "the fix behind the poison message")
        time.sleep(1)
        assert worker.proc.poll() is None, worker.log_path.read_text()[-2000:]
        assert worker.terminate() == 0
    assert scalar(engine, "SELECT count(*) FROM position_reject WHERE topic = :t AND "
                  "reason = 'nesting_too_deep'", t=topic) == 1


def test_a_lost_connection_is_retried_and_the_batch_then_stored(engine, database_url):
    from api.db import make_engine

    own = make_engine(database_url, pool_pre_ping=False, pool_size=1)
    try:
        writer = make_writer(own)
        token = f"c{uuid.uuid4().hex[:8]}"
        now = datetime.now(UTC).replace(microsecond=0)
        first = [Fix(f"{token}-1", now - timedelta(seconds=10), 110.36, -7.8, seq=1,
                     received_at=now)]
        assert writer.write(first, []) is not None
        with own.connect() as conn:  # the pooled connection the writer will use again
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        second = [Fix(f"{token}-1", now - timedelta(seconds=5), 110.36, -7.8, seq=2,
                      received_at=now)]
        result = writer.write(second, [])
        assert result is not None and result.outcome.stored == 1 and result.refused == []
        assert writer.counters["db_errors"] >= 1  # retried as "database unreachable"
        assert writer.counters["db_refusals"] == 0  # not split, not turned into rejects
        assert scalar(engine, "SELECT count(*) FROM position WHERE device_id = :d",
                      d=f"{token}-1") == 2
    finally:
        own.dispose()


def test_an_unreachable_database_is_retried_until_stopped_and_nothing_is_rejected(engine):
    from api.db import make_engine
    from tests.fixtures.tracking import free_port

    down = make_engine(f"postgresql+psycopg://siaga@127.0.0.1:{free_port()}/siaga")
    stop = threading.Event()
    writer = BatchWriter(make_sessionmaker(down), topic_for=lambda f: "t",
                         retry_delay_s=0.05, stop=stop, counters=Counter())
    token = f"u{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    threading.Timer(1.0, stop.set).start()
    result = writer.write([Fix(f"{token}-1", now, 110.36, -7.8, seq=1, received_at=now)], [])
    down.dispose()
    assert result is None  # stopped before it could be stored: not acknowledged
    assert writer.counters["db_errors"] >= 2 and writer.counters["db_refusals"] == 0
    assert scalar(engine, "SELECT count(*) FROM position_reject WHERE device_id = :d",
                  d=f"{token}-1") == 0
