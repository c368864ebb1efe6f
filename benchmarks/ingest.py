"""Ingest benchmark: Siaga's batch/COPY worker vs a naive single-row-insert subscriber.

Starts a private Mosquitto (own port, persistence in a tmp dir) and uses a scratch database
``siaga_bench_ingest`` on the configured PostgreSQL (created and migrated here). A separate
publisher process sends native v1 batch payloads at QoS 1 from many simulated devices and reports
the wall-clock time of each publish, so latencies are measured from the publish (not from the
fixes' device timestamps, which are earlier).

Phases (one run):
1. burst: N fixes (100-fix messages) as fast as the publisher can send; positions/s stored from
   the first committed batch to the last (the worker's capacity; latencies include the backlog).
2. steady: the burst's stream (100-fix messages) paced at 20,000 fixes/s for 10 s; the worker
   keeps up if publish->stored latency stays low.
3. arrival: a stream paced at 5,000 fixes/s with 50 of 100 devices parking at a synthetic scene;
   a hook runs ``detect_arrival``; latency from the publish of the in-geofence fix completing the
   dwell to the ``events/arrival`` message received by a separate subscriber.
4. baseline: the burst stream into a naive subscriber (auto-ack, one INSERT + commit per fix);
   the ratio of stored positions/s (burst / naive) is printed.

    .venv/bin/python benchmarks/ingest.py [--fixes 200000] [--devices 500] [--naive-fixes 20000]
        [--steady-rate 20000] [--steady-fixes 200000] [--paced-rate 5000] [--paced-fixes 20000]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy import make_url, text

from api import migrate
from api.db import make_engine, make_sessionmaker
from api.settings import load_settings
from geo.types import LonLat
from tracking.arrival import ArrivalRule, detect_arrival
from tracking.ingest import IngestConfig, IngestWorker

TARGET = LonLat(110.3650, -7.8010)
M_PER_DEG = 6_371_008.8 * math.pi / 180.0
PER_MESSAGE = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Persistence lines of the shipped configuration (``deploy/mosquitto/mosquitto.conf``;
#: ``scripts/services.sh`` writes the same, a test checks it).
SHIPPED_AUTOSAVE = "".join(
    line + "\n"
    for line in (Path(__file__).resolve().parents[1] / "deploy/mosquitto/mosquitto.conf")
    .read_text()
    .splitlines()
    if line.startswith(("autosave_interval", "autosave_on_changes"))
)


def start_broker(workdir: Path, autosave: str = "") -> tuple[subprocess.Popen, int]:
    port = free_port()
    (workdir / "data").mkdir(parents=True)
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {workdir / 'data'}/\nmax_queued_messages 0\n"
                    "max_queued_bytes 0\nmax_inflight_messages 0\nmax_packet_size 1048576\n"
                    f"user {__import__('getpass').getuser()}\n" + autosave)
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def publisher(port: int, prefix: str, total: int, devices: int, rate: float | None,
              parkers: int, sent_at: mp.Queue | None = None) -> None:
    """Publish ``total`` fixes, ``rate`` fixes/s or as fast as possible.

    Messages carry PER_MESSAGE fixes of one device, 10 in the arrival run (``parkers`` > 0).

    Each device is a tracker flushing its buffer: a message carries the fixes sampled since its
    previous message, evenly spaced up to the publish time (0.1 s apart in the burst; when paced,
    ``devices / rate`` apart, so the fix times of a device never overlap between messages). The
    wall-clock time of each publish (after ``publish()`` returned) is sent back on ``sent_at`` as
    ``{(device, message_index): epoch_s}`` (message_index = seq // per_msg).
    """
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{prefix}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    per_msg = PER_MESSAGE if rate is None or not parkers else 10
    spacing_s = 0.1 if rate is None else devices / rate
    seq = defaultdict(int)
    sent, start, infos = 0, time.time(), []
    published: dict[tuple[str, int], float] = {}
    while sent < total:
        for d in range(devices):
            if sent >= total:
                break
            dev = f"{prefix}-{d:04d}"
            fixes = []
            now = time.time()
            first = seq[dev]
            for k in range(per_msg):
                s = seq[dev]
                seq[dev] += 1
                if d < parkers:  # drive in (reported 10 m/s) then park 20 m from the scene
                    dist = max(20.0, 80.0 - 0.5 * s)
                    speed = 10.0 if dist > 20.0 else 0.0
                else:
                    dist, speed = 2000.0 + d, 8.0
                lat = TARGET.lat + dist / M_PER_DEG
                fix_time = iso(now - spacing_s * (per_msg - 1 - k))
                fixes.append({"v": 1, "device_id": dev, "seq": s, "fix_time": fix_time,
                              "lat": lat, "lon": TARGET.lon + s * 1e-7, "speed_mps": speed})
            infos.append(client.publish(f"{prefix}/siaga/v1/pos/{dev}",
                                        json.dumps(fixes, separators=(",", ":")), qos=1))
            published[(dev, first // per_msg)] = time.time()
            sent += len(fixes)
            if rate is not None:
                ahead = sent / rate - (time.time() - start)
                if ahead > 0:
                    time.sleep(ahead)
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    if sent_at is not None:
        sent_at.put(published)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_siaga(engine, port: int, prefix: str, total: int, devices: int, rate: float | None,
              parkers: int) -> dict:
    """The Siaga worker (default batching) with an arrival-detection hook.

    Latencies are measured from the publish of the message carrying a fix: to the end of the
    commit of its batch (the hook runs right after the commit), and, for the in-geofence fix
    whose arrival makes a parking unit's dwell qualify (the fix the hook was looking at), to the
    receipt of the ``events/arrival`` message by a separate MQTT subscriber.
    """
    per_msg = PER_MESSAGE if rate is None or not parkers else 10
    committed: list[tuple[float, list[tuple[str, int]]]] = []
    buffers: dict[str, list] = defaultdict(list)
    arrived: set[str] = set()
    parking = {f"{prefix}-{d:04d}" for d in range(parkers)}
    rule = ArrivalRule()
    state = {"stored": 0, "first": None, "first_n": 0, "last": None}
    received: list[tuple[float, dict]] = []

    def hook(session, fixes):
        now = time.time()
        if state["first"] is None:
            state["first"], state["first_n"] = now, len(fixes)
        state["last"] = now
        state["stored"] += len(fixes)
        committed.append((now, [(f.device_id, f.seq) for f in fixes]))
        events = []
        for f in fixes:
            if f.device_id not in parking or f.device_id in arrived:
                continue
            buf = buffers[f.device_id]
            buf.append(f)
            arrival = detect_arrival(buf[-20:], TARGET, rule)
            if arrival is not None:
                arrived.add(f.device_id)
                # the worker publishes a hook's events under its own topic prefix
                events.append(("siaga/v1/events/arrival",
                               {"device_id": f.device_id, "seq": f.seq,
                                "detected_at": time.time(),
                                "arrived_at": iso(arrival.arrived_at.timestamp())}))
        return events

    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-arr-{prefix}",
                           protocol=mqtt.MQTTv5)
    listener.on_message = lambda c, u, m: received.append((time.time(), json.loads(m.payload)))
    listener.connect("127.0.0.1", port)
    listener.subscribe(f"{prefix}/siaga/v1/events/arrival", qos=1)
    listener.loop_start()
    config = IngestConfig(mqtt_url=f"mqtt://127.0.0.1:{port}", client_id=f"bench-{prefix}",
                          topic_prefix=f"{prefix}/", session_expiry_s=600,
                          stats_interval_s=3600, stale_check_interval_s=3600)
    worker = IngestWorker(make_sessionmaker(engine), config, hooks=[hook],
                          on_duty=lambda s: set())
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    worker.ready.wait(10)
    t0 = time.time()
    sent_at: mp.Queue = mp.Queue()
    pub = mp.Process(target=publisher, args=(port, prefix, total, devices, rate, parkers, sent_at))
    pub.start()
    published = sent_at.get(timeout=600)
    pub.join()
    while state["stored"] < total and time.time() - t0 < 600:
        time.sleep(0.05)
    time.sleep(0.3 if parkers else 0.0)  # last arrival events in flight to the listener
    worker.stop()
    thread.join(30)
    listener.loop_stop()
    listener.disconnect()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM position WHERE device_id LIKE :p"),
                            {"p": prefix + "-%"}).scalar_one()
    latencies = [at - published[(dev, seq // per_msg)]
                 for at, batch in committed for dev, seq in batch]
    arrivals = [at - published[(ev["device_id"], ev["seq"] // per_msg)] for at, ev in received]
    detected = [ev["detected_at"] - published[(ev["device_id"], ev["seq"] // per_msg)]
                for at, ev in received]
    # sustained rate: from the first committed batch to the last one
    elapsed = max(1e-9, (state["last"] or time.time()) - (state["first"] or t0))
    return {"rows": rows, "elapsed_s": elapsed, "rate": (rows - state["first_n"]) / elapsed,
            "batches": len(committed),
            "p50": pct(latencies, 50), "p95": pct(latencies, 95), "p99": pct(latencies, 99),
            "arrivals": len(arrivals), "arr_p50": pct(arrivals, 50),
            "arr_p95": pct(arrivals, 95), "arr_p99": pct(arrivals, 99),
            "arr_max": max(arrivals, default=float("nan")),
            "det_p50": pct(detected, 50), "det_p99": pct(detected, 99)}


def run_naive(engine, port: int, prefix: str, total: int, devices: int) -> dict:
    """A straightforward subscriber: auto-ack, one INSERT and one commit per fix."""
    raw = engine.raw_connection()
    cur = raw.cursor()
    stored = {"n": 0, "last": None}
    done = threading.Event()

    def on_message(client, userdata, msg):
        for fx in json.loads(msg.payload):
            cur.execute(
                "INSERT INTO position (device_id, fix_time, seq, geom, speed_mps, source, "
                "received_at) VALUES (%s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, "
                "'native', now()) ON CONFLICT DO NOTHING",
                (fx["device_id"], fx["fix_time"], fx["seq"], fx["lon"], fx["lat"],
                 fx["speed_mps"]))
            raw.commit()
            stored["n"] += 1
        stored["last"] = time.time()
        if stored["n"] >= total:
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"naive-{prefix}",
                         protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(f"{prefix}/siaga/v1/pos/+", qos=1)
    client.loop_start()
    time.sleep(0.5)
    t0 = time.time()
    pub = mp.Process(target=publisher, args=(port, prefix, total, devices, None, 0))
    pub.start()
    done.wait(600)
    pub.join()
    client.loop_stop()
    client.disconnect()
    raw.close()
    elapsed = stored["last"] - t0
    return {"rows": stored["n"], "elapsed_s": elapsed, "rate": stored["n"] / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixes", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--steady-rate", type=float, default=20_000.0)
    parser.add_argument("--steady-fixes", type=int, default=200_000)
    parser.add_argument("--paced-rate", type=float, default=5000.0)
    parser.add_argument("--paced-fixes", type=int, default=20_000)
    parser.add_argument("--naive-fixes", type=int, default=20_000)
    parser.add_argument("--broker-autosave", choices=("shipped", "default"), default="shipped",
                        help="shipped: the autosave lines of deploy/mosquitto/mosquitto.conf; "
                             "default: Mosquitto's default (every 30 min), the upper bound")
    args = parser.parse_args()

    settings = load_settings()
    base = make_url(settings.owner_database_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "siaga_bench_ingest" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "siaga_bench_ingest"'))
    admin.dispose()
    url = base.set(database="siaga_bench_ingest").render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = make_engine(url)
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="siaga-bench-ingest-"))
    broker, port = start_broker(workdir / "broker",
                                SHIPPED_AUTOSAVE if args.broker_autosave == "shipped" else "")
    try:
        burst = run_siaga(engine, port, "burst", args.fixes, args.devices, None, 0)
        steady = run_siaga(engine, port, "steady", args.steady_fixes, args.devices,
                           args.steady_rate, 0)
        paced = run_siaga(engine, port, "paced", args.paced_fixes, 100, args.paced_rate, 50)
        naive = run_naive(engine, port, "naive", args.naive_fixes, args.devices)
    finally:
        broker.send_signal(signal.SIGTERM)
        broker.wait(20)
        shutil.rmtree(workdir, ignore_errors=True)
        engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = burst["rate"] / naive["rate"]
    persistence = SHIPPED_AUTOSAVE if args.broker_autosave == "shipped" else "autosave 1800 s"
    print(f"\nbroker persistence: {args.broker_autosave} ({' '.join(persistence.split())})")
    print(f"\nIngest benchmark ({args.devices} devices, QoS 1, batch payloads of "
          f"{PER_MESSAGE} fixes for burst, steady and naive; 10-fix messages from 100 devices in "
          f"the arrival run)")
    print(f"{'run':<34}{'fixes':>9}{'stored':>9}{'pos/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}")
    print(f"{'siaga burst (batch COPY)':<34}{args.fixes:>9}{burst['rows']:>9}"
          f"{burst['rate']:>10.0f}{burst['p50'] * 1e3:>9.0f}{burst['p95'] * 1e3:>9.0f}"
          f"{burst['p99'] * 1e3:>9.0f}")
    print(f"{f'siaga steady {args.steady_rate:.0f}/s':<34}{args.steady_fixes:>9}"
          f"{steady['rows']:>9}{steady['rate']:>10.0f}{steady['p50'] * 1e3:>9.0f}"
          f"{steady['p95'] * 1e3:>9.0f}{steady['p99'] * 1e3:>9.0f}")
    print(f"{f'siaga paced {args.paced_rate:.0f}/s':<34}{args.paced_fixes:>9}{paced['rows']:>9}"
          f"{paced['rate']:>10.0f}{paced['p50'] * 1e3:>9.0f}{paced['p95'] * 1e3:>9.0f}"
          f"{paced['p99'] * 1e3:>9.0f}")
    print(f"{'naive (INSERT+commit per fix)':<34}{args.naive_fixes:>9}{naive['rows']:>9}"
          f"{naive['rate']:>10.0f}{'':>9}{'':>9}{'':>9}")
    print(f"arrival events (paced, {paced['arrivals']} of 50 parking units): publish of the "
          f"in-geofence fix completing the dwell -> event received by a subscriber: p50 "
          f"{paced['arr_p50'] * 1e3:.0f} ms, p95 {paced['arr_p95'] * 1e3:.0f} ms, p99 "
          f"{paced['arr_p99'] * 1e3:.0f} ms, max {paced['arr_max'] * 1e3:.0f} ms (publish -> "
          f"detected in the hook: p50 {paced['det_p50'] * 1e3:.0f} ms, p99 "
          f"{paced['det_p99'] * 1e3:.0f} ms)")
    print(f"batches: burst {burst['batches']} (mean {burst['rows'] / max(1, burst['batches']):.0f}"
          f" fixes), paced {paced['batches']} (mean "
          f"{paced['rows'] / max(1, paced['batches']):.0f} fixes)")
    print(f"ratio siaga/naive: {ratio:.1f}x   peak RSS (worker process): {peak_mb:.0f} MiB")
    print(f"all fixes stored: {burst['rows'] == args.fixes and paced['rows'] == args.paced_fixes}"
          f" (steady {steady['rows']}/{args.steady_fixes})"
          f" (naive {naive['rows']}/{args.naive_fixes})")
    load_after = os.getloadavg()
    print(f"load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/"
          f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/"
          f"{load_after[2]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
