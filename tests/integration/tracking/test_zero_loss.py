"""Zero loss: kill -9 of the worker, and a broker restart, in the middle of 50,000 QoS 1 fixes."""

from __future__ import annotations

import re
import time

import pytest

from tests.fixtures.tracking import native_batch
from tests.integration.tracking.helpers import Publisher, position_counts, scalar, wait_for

TOTAL = 50_000
DEVICES = 10
PER_MESSAGE = 50  # batch payloads: 1,000 messages of 50 fixes


def messages(prefix: str, token: str, t0: float):
    per_device = TOTAL // DEVICES
    for start in range(0, per_device, PER_MESSAGE):
        for d in range(DEVICES):
            device = f"{token}-{d:02d}"
            yield f"{prefix}siaga/v1/pos/{device}", native_batch(device, start, PER_MESSAGE, t0)


#: Message index (of 1,000) at which the publisher pauses until the worker has stored at least
#: 5,000 fixes, then the worker is killed / the broker restarted: 700 messages are still to come,
#: so the interruption is mid-stream whatever the machine's speed.
MID_STREAM = 300


def stored_at_least(engine, token: str, rows: int, timeout_s: float = 90.0) -> int:
    wait_for(lambda: position_counts(engine, token)[0] >= rows, timeout_s,
             f"{rows} rows stored for {token} before the interruption")
    return position_counts(engine, token)[0]


def settle(engine, token: str, timeout_s: float = 40.0) -> tuple[int, int]:
    """Wait until all fixes are stored, then a little longer to catch any extra row."""
    wait_for(lambda: position_counts(engine, token)[0] >= TOTAL, timeout_s,
             f"{TOTAL} rows for {token}")
    time.sleep(1.5)
    return position_counts(engine, token)


@pytest.mark.slow
def test_kill_9_of_the_worker_mid_stream_loses_and_duplicates_nothing(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    client_id = f"ingest-{token}"
    worker = ingest_process(mqtt_url, client_id, topic_prefix)
    worker.wait_subscribed()
    publisher = Publisher(mqtt_url, f"pub-{token}")
    t0 = time.time() - 2 * 3600
    killed = {"at": None}

    def maybe_kill(i: int) -> None:
        if killed["at"] is None and i == MID_STREAM:
            killed["at"] = stored_at_least(engine, token, 5_000)
            worker.kill9()  # SIGKILL: no flush, no disconnect, uncommitted batch lost

    try:
        publisher.publish_all(messages(topic_prefix, token, t0), between=maybe_kill)
        publisher.wait_all()
    finally:
        publisher.close()
    assert killed["at"] is not None and killed["at"] < TOTAL, "the worker was not killed mid-stream"
    restarted = ingest_process(mqtt_url, client_id, topic_prefix)  # same client id: same session
    restarted.wait_subscribed()
    rows, distinct = settle(engine, token)
    assert (rows, distinct) == (TOTAL, TOTAL)
    assert scalar(engine, "SELECT count(*) FROM latest_position WHERE device_id LIKE :p",
                  p=token + "%") == DEVICES
    assert restarted.terminate() == 0  # SIGTERM: graceful


@pytest.mark.slow
def test_broker_restart_mid_stream_loses_and_duplicates_nothing(
        engine, private_broker, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    worker = ingest_process(private_broker.url, f"ingest-{token}", topic_prefix)
    worker.wait_subscribed()
    publisher = Publisher(private_broker.url, f"pub-{token}")
    t0 = time.time() - 2 * 3600
    restarted = {"at": None}

    def maybe_restart(i: int) -> None:
        if restarted["at"] is None and i == MID_STREAM:
            restarted["at"] = stored_at_least(engine, token, 5_000)
            private_broker.restart()

    try:
        publisher.publish_all(messages(topic_prefix, token, t0), between=maybe_restart)
        publisher.wait_all()
    finally:
        publisher.close()
    assert restarted["at"] is not None and restarted["at"] < TOTAL
    rows, distinct = settle(engine, token)
    assert (rows, distinct) == (TOTAL, TOTAL)
    assert worker.proc.poll() is None  # the worker rode through the restart
    assert worker.terminate() == 0


def test_two_workers_in_a_shared_subscription_split_the_load(
        engine, mqtt_url, topic_prefix, ingest_process):
    token = topic_prefix.strip("/")
    group = {"SIAGA_INGEST_SHARED_GROUP": f"g-{token}"}
    workers = [ingest_process(mqtt_url, f"ingest-{token}-{n}", topic_prefix, **group)
               for n in range(2)]
    for worker in workers:
        worker.wait_subscribed()
    publisher = Publisher(mqtt_url, f"pub-{token}")
    t0 = time.time() - 3600
    try:
        publisher.publish_all(
            (f"{topic_prefix}siaga/v1/pos/{token}-{d}", native_batch(f"{token}-{d}", s, 20, t0))
            for s in range(0, 400, 20) for d in range(10))
        publisher.wait_all()
    finally:
        publisher.close()
    wait_for(lambda: position_counts(engine, token)[0] >= 4000, 30, "4000 rows")
    assert position_counts(engine, token) == (4000, 4000)
    for worker in workers:
        assert worker.terminate() == 0
    stored = [int(re.findall(r"'stored': (\d+)", w.log_path.read_text())[-1]) for w in workers]
    assert sum(stored) == 4000 and min(stored) > 0, stored
