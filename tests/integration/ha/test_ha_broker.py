"""Broker-node then database-primary loss on the high-availability cluster (issue #17;
docs/ha-messaging.md, docs/deployment-ha.md).

The three-node NATS JetStream cluster is started from nothing by ``scripts/cluster.sh up broker``
(module fixture) and removed afterwards. 200 simulated devices publish MQTT 3.1.1 QoS 1 fixes to
the cluster's three MQTT listeners (a third on each); nats-server stores each publication in its
replicated ``$MQTT_msgs`` stream before PUBACK; two ingest workers share one durable consumer of
that stream (competing consumers) and write into PostGIS through the usual writer and arrival
hook into the test database on the PostgreSQL pair (the package's fixture, ``conftest.py``).
Mid-stream the node leading ``$MQTT_msgs`` (the worst case) is killed with SIGKILL: the
other nodes time out storing until a new leader is elected and drop their MQTT connections, so
every device reconnects (to the next node), re-sends what was not acknowledged and, as
``siaga-bridge`` does, replays its last acknowledged messages; a device left without PUBACK for
8 s reconnects too. The workers fail over to the surviving nodes. Then, while the stream still
flows, the PostgreSQL primary is killed (keeper and server, SIGKILL): the workers retry their
batches and the arrival hook on the promoted standby, and the unit's tracker reports its arrival
during that failover. Afterwards: every fix stored exactly once and the arrival verified.

``SIAGA_HA_FIXES`` (default 50,000, the issue's figure: about 95 s of stream on the quiet 2-core
machine, 300 s under a load average of 30) over ``SIAGA_HA_DEVICES`` (default 200), each device
publishing every ``SIAGA_HA_SPACING_S`` (0.2 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import service_missing
from tests.integration.ha.conftest import env_file, wait_until
from tests.integration.ha.mqtt_device import Device, stall_report

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = ROOT / "scripts" / "cluster.sh"
BROKER = ROOT / "scripts" / "cluster-broker.sh"
FIXES = int(os.environ.get("SIAGA_HA_FIXES", "50000"))
DEVICES = int(os.environ.get("SIAGA_HA_DEVICES", "200"))
SPACING_S = float(os.environ.get("SIAGA_HA_SPACING_S", "0.2"))  # between a device's fixes

pytestmark = pytest.mark.timeout(600)  # 50,000 fixes: 300 s on the 2-core machine, load 30


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory):
    """A fresh three-node cluster in a directory of its own, removed afterwards."""
    if shutil.which("nats-server") is None and not Path("/usr/sbin/nats-server").exists():
        service_missing("nats-server is not installed (scripts/system-deps.sh test)")
    state = tmp_path_factory.mktemp("ha-broker-state")
    env = {**os.environ, "SIAGA_STATE_DIR": str(state)}
    up = subprocess.run([str(CLUSTER), "up", "broker"], env=env, capture_output=True, text=True,
                        timeout=120)
    try:
        if up.returncode != 0:
            service_missing(f"the NATS cluster did not start: {up.stderr[-800:]}")
        settings = env_file(state / "cluster.env")
        yield {"env": env, "nats": settings["SIAGA_NATS_URLS"].split(","),
               "mqtt": settings["SIAGA_CLUSTER_MQTT_URLS"].split(",")}
    finally:
        subprocess.run([str(CLUSTER), "clean", "broker"], env=env, capture_output=True,
                       timeout=120)


def _ports(urls: list[str]) -> list[int]:
    return [int(u.rsplit(":", 1)[1]) for u in urls]


def _fix(device_id: str, seq: int, at: datetime, lon: float, lat: float) -> bytes:
    return json.dumps({"v": 1, "device_id": device_id, "seq": seq,
                       "fix_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "lat": lat, "lon": lon,
                       "speed_mps": 1.0}).encode()


@pytest.fixture(scope="module")
def ha_engine(ha_url):
    """The test database on the PostgreSQL pair (the package's fixture), whichever is primary."""
    from api.db import make_engine

    engine = make_engine(ha_url)
    yield engine
    engine.dispose()


@pytest.fixture
def arrival_scene(ha_engine):
    """An incident with one assigned unit whose tracker will dwell at the scene: its fixes, and
    ``arrived()``: the assignment's arrival was verified by GPS (the ingest hook)."""
    from sqlalchemy.orm import Session

    from dispatch.models import Assignment
    from tests.fixtures.dispatch import assigned_truck

    token = uuid.uuid4().hex[:8]
    engine = ha_engine
    with assigned_truck(engine, kode="99.17", call_sign=f"HA-{token}",
                        device=f"ha-scene-{token}") as world:

        def arrived() -> bool:
            with Session(engine) as s:
                return s.get(Assignment, world.assignment_id).arrival_source == "gps"

        now, scene = world.now, world.scene
        fixes = [_fix(world.device, k, now - timedelta(seconds=60 - 10 * k),
                      scene.lon + 0.0002 * (k % 2), scene.lat) for k in range(5)]
        yield {"config": world.config, "device": world.device, "fixes": fixes,
               "arrived": arrived}


async def _stream_leader(servers: list[str], stream: str) -> str:
    import nats

    nc = await nats.connect(servers)
    try:
        info = await nc.jetstream().stream_info(stream)
        return info.cluster.leader
    finally:
        await nc.close()


def test_node_kill_loses_and_duplicates_nothing(nats_cluster, pg_pair, ha_engine,
                                                arrival_scene):
    from api.db import make_sessionmaker
    from api.ingest_hooks import arrival_verification_hook
    from tracking.ingest import IngestConfig, IngestWorker
    from tracking.transport_jetstream import JetStreamTransport

    token = uuid.uuid4().hex[:8]
    per_device = FIXES // DEVICES
    total = per_device * DEVICES
    ports = _ports(nats_cluster["mqtt"])
    config = IngestConfig(mqtt_url="mqtt://unused", client_id="siaga-ingest",
                          batch_max_delay_s=0.05, stats_interval_s=3600)
    engine = ha_engine
    sessions = make_sessionmaker(engine)
    workers = [IngestWorker(sessions, config, hooks=[arrival_verification_hook(
                   arrival_scene["config"])],
                   transport=JetStreamTransport(config, nats_cluster["nats"], ack_wait_s=15.0,
                                                max_held=5000))
               for _ in range(2)]
    runners = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for r in runners:
        r.start()
    devices = [Device(f"ha-{token}-{i:03d}", ports, i % len(ports)) for i in range(DEVICES)]

    last = [0]

    def stored() -> int:
        """Positions of this run (the last count while the database fails over)."""
        try:
            with engine.connect() as conn:
                last[0] = conn.execute(text(
                    "SELECT count(*) FROM position WHERE device_id LIKE :p"),
                    {"p": f"ha-{token}-%"}).scalar_one()
        except DBAPIError:
            pass
        return last[0]
    first_primary, db_killed_at = pg_pair.db("primary"), None
    threads: list[threading.Thread] = []
    scene_device: Device | None = None
    try:
        for d in devices:  # the first MQTT connections also create the server's MQTT streams
            d.connect()
        assert all(d.connected.wait(20) for d in devices), "devices could not connect"
        assert all(w.ready.wait(30) for w in workers), "the workers did not bind the consumer"
        # worst case: the node leading the stream that holds the QoS 1 publications
        leader = asyncio.run(_stream_leader(nats_cluster["nats"], "$MQTT_msgs"))
        victim = int(leader.removeprefix("siaga-n"))
        t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5 * per_device + 60)
        started = time.monotonic()
        done = [threading.Event() for _ in devices]
        threads = [threading.Thread(target=d.run, daemon=True, args=(
            [_fix(d.device_id, k, t0 + timedelta(seconds=5 * k),
                  110.30 + 0.01 * (i % 20) + 0.00002 * k, -7.70 - 0.01 * (i // 20))
             for k in range(per_device)], SPACING_S, done[i]))
            for i, d in enumerate(devices)]
        for t in threads:
            t.start()
        assert wait_until(lambda: stored() >= total * 2 // 5, 120, 0.05), "the stream did not flow"
        crash = subprocess.run([str(BROKER), "kill", str(victim)], env=nats_cluster["env"],
                               capture_output=True, text=True, timeout=30)
        assert crash.returncode == 0, crash.stderr
        killed_at = stored()
        assert killed_at < total, "killed too late to matter"
        # the arrival: the unit's tracker dwells at the scene (a surviving node)
        scene_device = Device(arrival_scene["device"], [p for n, p in enumerate(ports, 1)
                                                        if n != victim], 0)
        scene_device.connect()
        assert scene_device.connected.wait(30)
        # then the PostgreSQL primary, while the stream still flows (workers retry their batch)
        assert wait_until(lambda: stored() >= killed_at + (total - killed_at) // 4, 240, 0.05), \
            stall_report("the stream did not flow after the broker failover", stored(), devices,
                     workers)
        pg_pair.db("kill", first_primary)
        db_killed_at = last[0]
        assert db_killed_at < total, "the database primary was killed too late to matter"
        for payload in arrival_scene["fixes"]:  # arrives while the database fails over
            scene_device.publish(f"siaga/v1/pos/{arrival_scene['device']}", payload)
        deadline = time.monotonic() + 300
        assert all(e.wait(max(0.0, deadline - time.monotonic())) for e in done), \
            "devices still wait for acknowledgements"
        errors = [(d.device_id, repr(e)) for d in devices for e in d.errors]
        assert not errors, f"devices failed: {errors[:5]}"
        assert all(d.idle() for d in devices), "unacknowledged publications remain"
        assert wait_until(lambda: stored() >= total, 120), f"{stored()} of {total} stored"
        time.sleep(16)  # one more ack_wait: a late redelivery must not add a row either
        with engine.connect() as conn:
            count, distinct = conn.execute(text(
                "SELECT count(*), count(DISTINCT (device_id, seq)) FROM position "
                "WHERE device_id LIKE :p"), {"p": f"ha-{token}-%"}).one()
        elapsed_s = time.monotonic() - started
        assert (count, distinct) == (total, total), (count, distinct)
        moved = sum(d.reconnects for d in devices)
        assert moved >= DEVICES // len(ports) - 1, moved  # the killed node's devices moved
        assert all(w.counters["stored"] > 0 for w in workers), "one worker got nothing"
        assert wait_until(arrival_scene["arrived"], 30), "no GPS arrival after the failover"
        scene_device.close()
        assert pg_pair.db("primary") not in ("", first_primary)  # the standby took over
        assert sum(w.counters["db_errors"] for w in workers) >= 1  # the workers met the loss
        print(f"\nnode siaga-n{victim} (leader of $MQTT_msgs) killed at {killed_at} stored, "
              f"PostgreSQL primary {first_primary} at {db_killed_at}; "
              f"{total} stored, 0 duplicated in {elapsed_s:.0f} s; {moved} device reconnects; "
              f"per worker {[w.counters['stored'] for w in workers]}; duplicates absorbed "
              f"{sum(w.counters['duplicates'] for w in workers)}")
    finally:  # stop everything this test started, even after a failure: nothing leaks
        for d in devices:
            d.stopping.set()
        for t in threads:
            t.join(timeout=30)
        for d in [*devices, *([scene_device] if scene_device is not None else [])]:
            d.close()
        for w in workers:
            w.stop()
        for r in runners:
            r.join(timeout=20)
        subprocess.run([str(BROKER), "up"], env=nats_cluster["env"], capture_output=True,
                       timeout=120)
        if db_killed_at is not None:  # the old primary rejoins as standby
            pg_pair.db("start", first_primary)
            pg_pair.db("wait")
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM latest_position WHERE device_id LIKE :p"),
                         {"p": f"ha-{token}-%"})
            conn.execute(text("DELETE FROM position WHERE device_id LIKE :p"),
                         {"p": f"ha-{token}-%"})
