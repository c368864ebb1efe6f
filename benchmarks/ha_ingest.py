"""High-availability ingest benchmark: NATS JetStream cluster (1, 2, 3 workers) vs single Mosquitto.

Starts the three-node cluster with ``scripts/cluster.sh up broker`` (own state directory) and a
private Mosquitto, and uses a scratch database ``siaga_bench_ha`` on the configured PostgreSQL.
The shape is the one trackers produce: one fix per MQTT QoS 1 message.

Phases:
1. publish: ``--fixes`` messages from ``--devices`` MQTT 3.1.1 clients while no worker runs (the
   backlog is kept: the workers' durable consumer, or the MQTT worker's persistent session,
   already exists); fixes/s acknowledged (PUBACK) by the broker.
2. drain: N ingest workers (N = 1, 2, 3 on the cluster; 1 on Mosquitto, one persistent session)
   start against the backlog; fixes/s stored from the start to the last commit.
3. failover: devices publish paced fixes to the cluster and the node leading ``$MQTT_msgs`` is
   killed with SIGKILL; the window is the longest time a device waited for its next PUBACK
   (kill to the first PUBACK on a surviving node, reconnection included), over ``--runs`` runs.

    .venv/bin/python benchmarks/ha_ingest.py [--fixes 20000] [--devices 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy import make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api import migrate  # noqa: E402
from api.db import make_engine, make_sessionmaker  # noqa: E402
from api.settings import load_settings  # noqa: E402
from benchmarks.ingest import start_broker  # noqa: E402
from tests.integration.ha.test_ha_broker import Device, _stream_leader  # noqa: E402
from tracking.ingest import IngestConfig, IngestWorker  # noqa: E402
from tracking.transport_jetstream import JetStreamTransport  # noqa: E402


def payloads(prefix: str, fixes: int, devices: int) -> list[tuple[str, bytes]]:
    per = fixes // devices
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5 * per + 60)
    out = []
    for k in range(per):
        for d in range(devices):
            dev = f"{prefix}-{d:04d}"
            out.append((f"siaga/v1/pos/{dev}", json.dumps({
                "v": 1, "device_id": dev, "seq": k,
                "fix_time": (t0 + timedelta(seconds=5 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "lat": -7.70 - 0.001 * d, "lon": 110.30 + 0.00002 * k, "speed_mps": 1.0}).encode()))
    return out


def publish(ports: list[int], messages: list[tuple[str, bytes]], devices: int) -> float:
    """Publish from ``devices`` clients spread over ``ports``; fixes/s acknowledged."""
    clients = []
    for d in range(devices):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}",
                        protocol=mqtt.MQTTv311, clean_session=True)
        c.max_inflight_messages_set(20)
        c.connect("127.0.0.1", ports[d % len(ports)])
        c.loop_start()
        clients.append(c)
    start = time.monotonic()
    infos = [clients[i % devices].publish(topic, payload, qos=1)
             for i, (topic, payload) in enumerate(messages)]
    for info in infos:
        info.wait_for_publish(300)
    elapsed = time.monotonic() - start
    for c in clients:
        c.disconnect()
        c.loop_stop()
    return len(messages) / elapsed


def count(engine, prefix: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM position WHERE device_id LIKE :p"),
                            {"p": f"{prefix}-%"}).scalar_one()


def drain(engine, make_transport, n: int, prefix: str, total: int) -> float:
    """Start ``n`` workers on the backlog; fixes/s stored until the last row."""
    config = IngestConfig(mqtt_url=make_transport.url, client_id=make_transport.client_id,
                          stats_interval_s=3600)
    workers = [IngestWorker(make_sessionmaker(engine), config, transport=make_transport(config))
               for _ in range(n)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    start = time.monotonic()
    for t in threads:
        t.start()
    while count(engine, prefix) < total and time.monotonic() - start < 600:
        time.sleep(0.1)
    elapsed = time.monotonic() - start
    stored = count(engine, prefix)
    for w in workers:
        w.stop()
    for t in threads:
        t.join(30)
    if stored != total:
        raise RuntimeError(f"{stored} of {total} stored")
    return total / elapsed


def prepare(engine, make_transport) -> None:
    """Create the consumer / persistent session (then stop), so the backlog is kept."""
    config = IngestConfig(mqtt_url=make_transport.url, client_id=make_transport.client_id)
    worker = IngestWorker(make_sessionmaker(engine), config, transport=make_transport(config))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    worker.ready.wait(30)
    time.sleep(0.5)
    worker.stop()
    thread.join(30)


def failover_window(cluster: dict, devices: int) -> float:
    """Kill the $MQTT_msgs leader under paced traffic; the longest PUBACK gap of a device."""
    ports = [int(u.rsplit(":", 1)[1]) for u in cluster["mqtt"]]
    prefix = f"fo{uuid.uuid4().hex[:6]}"
    devs = [Device(f"{prefix}-{i:03d}", ports, i % 3) for i in range(devices)]
    for d in devs:
        d.connect()
    for d in devs:
        d.connected.wait(20)
    leader = asyncio.run(_stream_leader(cluster["nats"], "$MQTT_msgs"))
    gaps: list[float] = []
    acks: dict[str, list[float]] = {d.device_id: [] for d in devs}
    for d in devs:
        original = d.client.on_publish

        def on_publish(client, userdata, mid, rc, props, d=d, original=original):
            acks[d.device_id].append(time.monotonic())
            original(client, userdata, mid, rc, props)
        d.client.on_publish = on_publish
    done = [threading.Event() for _ in devs]
    msgs = [[json.dumps({"k": k}).encode() for k in range(200)] for _ in devs]
    threads = [threading.Thread(target=d.run, args=(msgs[i], 0.05, done[i]), daemon=True)
               for i, d in enumerate(devs)]
    for t in threads:
        t.start()
    time.sleep(3)
    killed = time.monotonic()
    subprocess.run([str(ROOT / "scripts/cluster-broker.sh"), "kill", leader.removeprefix(
        "siaga-n")], env=cluster["env"], check=True)
    for e in done:
        e.wait(120)
    for d in devs:
        after = [t for t in acks[d.device_id] if t > killed]
        if after:
            gaps.append(after[0] - killed)
        d.close()
    subprocess.run([str(ROOT / "scripts/cluster-broker.sh"), "up"], env=cluster["env"],
                   check=True, capture_output=True)
    return max(gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixes", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    settings = load_settings()
    base = make_url(settings.owner_database_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "siaga_bench_ha" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "siaga_bench_ha"'))
    admin.dispose()
    url = base.set(database="siaga_bench_ha").render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = make_engine(url)
    state = Path(tempfile.mkdtemp(prefix="siaga-bench-ha-"))
    env = {**os.environ, "SIAGA_STATE_DIR": str(state)}
    subprocess.run([str(ROOT / "scripts/cluster.sh"), "up", "broker"], env=env, check=True,
                   capture_output=True)
    settings_ha = dict(line.split("=", 1) for line in (state / "cluster.env").read_text()
                       .splitlines() if "=" in line and not line.startswith("#"))
    cluster = {"env": env, "nats": settings_ha["SIAGA_NATS_URLS"].split(","),
               "mqtt": settings_ha["SIAGA_CLUSTER_MQTT_URLS"].split(",")}
    cluster_ports = [int(u.rsplit(":", 1)[1]) for u in cluster["mqtt"]]
    broker, mosq_port = start_broker(state / "mosquitto")
    rows = []
    try:
        def jetstream(config):
            return JetStreamTransport(config, cluster["nats"])
        jetstream.url, jetstream.client_id = "mqtt://unused", "siaga-ingest"

        def mosquitto(config):
            from tracking.transport_mqtt import MqttTransport
            return MqttTransport(config)
        mosquitto.url, mosquitto.client_id = f"mqtt://127.0.0.1:{mosq_port}", "bench-mosq"

        prepare(engine, mosquitto)
        prefix = f"m{uuid.uuid4().hex[:6]}"
        pub = publish([mosq_port], payloads(prefix, args.fixes, args.devices), args.devices)
        rows.append(("Mosquitto (single)", 1, pub, drain(engine, mosquitto, 1, prefix,
                                                         args.fixes)))
        prepare(engine, jetstream)
        for n in (1, 2, 3):
            prefix = f"j{n}{uuid.uuid4().hex[:6]}"
            pub = publish(cluster_ports, payloads(prefix, args.fixes, args.devices),
                          args.devices)
            rows.append(("NATS JetStream x3", n, pub, drain(engine, jetstream, n, prefix,
                                                            args.fixes)))
        windows = sorted(failover_window(cluster, 30) for _ in range(args.runs))
    finally:
        broker.send_signal(signal.SIGTERM)
        broker.wait(20)
        subprocess.run([str(ROOT / "scripts/cluster.sh"), "clean", "broker"], env=env,
                       capture_output=True)
        shutil.rmtree(state, ignore_errors=True)
        engine.dispose()
    base_rate = rows[0][3]
    print(f"\n{args.fixes} fixes, one per QoS 1 message, {args.devices} devices; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'broker':<20} {'workers':>7} {'publish fixes/s':>16} {'stored fixes/s':>15} "
          f"{'vs Mosquitto':>13}")
    for name, n, pub, rate in rows:
        print(f"{name:<20} {n:>7} {pub:>16.0f} {rate:>15.0f} {rate / base_rate:>12.2f}x")
    p50 = windows[len(windows) // 2]
    print(f"broker node loss ($MQTT_msgs leader, SIGKILL), longest wait for a PUBACK: "
          f"p50 {p50:.1f} s, max {windows[-1]:.1f} s over {len(windows)} runs; all stored "
          f"exactly once in every drain")


if __name__ == "__main__":
    main()
