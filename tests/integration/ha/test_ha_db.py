"""Database primary loss and two API instances on the high-availability PostgreSQL pair
(issue #17, database; docs/deployment-ha.md).

The pg_auto_failover monitor + primary + standby come from the package's fixtures
(``conftest.py``: started from nothing by ``scripts/cluster.sh up db``, removed afterwards). The
application connects with the libpq multi-host URL the script writes
(``target_session_attrs=read-write``).

* Primary loss: the ingest writer streams position batches while an API instance takes incident
  writes; the primary's keeper and PostgreSQL are killed with SIGKILL mid-stream. The writer
  retries its failed batch on the new primary (the unique key absorbs a batch committed before
  the connection broke); afterwards every acknowledged fix is stored exactly once and every
  incident answered 201 exists. The API answers 503 (never 500) while there is no primary and
  201 again after a measured window. Two ``siaga worker`` schedulers run on the pair meanwhile:
  one leads (advisory lock) before the loss; the leader loses its lock with the primary, both
  processes live on, and exactly one leads again on the new primary.
* Two ``siaga serve`` processes on the pair: a dispatcher on each assigns the same unit at the same
  moment (exactly one 201); a console WebSocket on instance A sees the event of a write made
  through instance B (the events go through the broker: the private Mosquitto).

Scaled for a 2-core CI machine: ``SIAGA_HA_DB_BATCHES`` batches of 100 fixes (default 300).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db import make_engine, make_sessionmaker
from dispatch.scoping import EVERYTHING
from tests.fixtures.scheduler import lead_count, schedulers
from tests.integration.api.live_server import free_port, serve
from tests.integration.ha.conftest import wait_until

ROOT = Path(__file__).resolve().parents[3]
BATCHES = int(os.environ.get("SIAGA_HA_DB_BATCHES", "300"))
BATCH = 100
DEVICES = 50
KILL_AFTER = BATCHES // 4
KODE = "34.71"  # Kota Yogyakarta: a pilot region the default dispatch configuration knows
FLEET = {"kode_kab": KODE, "illustrative": True,
         "stations": [{"code": "HA1", "agency": "DAMKAR", "name": "Pos HA", "lon": 110.37,
                       "lat": -7.80}],
         "units": [{"call_sign": "HA-01", "agency": "DAMKAR", "vehicle_type": "pumper",
                    "profile": "fire_truck", "capabilities": ["pumper"], "station": "HA1"}]}

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def ha_world(ha_url):
    """Kota Yogyakarta with one unit; two dispatchers (one per API instance) and their tokens."""
    from api.auth import service as auth
    from dispatch.config import load_config
    from dispatch.seed_service import seed_region
    from geo.service import import_region
    from tests.fixtures.console import ensure_user
    from tests.fixtures.geo import PILOT_DIRS

    engine = make_engine(ha_url)
    config = load_config()
    folder = PILOT_DIRS[KODE]
    with Session(engine) as s:
        import_region(s, folder / "desa.geojson", kecamatan_path=folder / "kecamatan.geojson",
                      kabupaten_path=folder / "kabupaten.geojson")
        seed_region(s, config, KODE, fleet=FLEET)
        s.commit()
    tokens = {}
    for who in ("a", "b"):
        ensure_user(engine, f"ha_dispatcher_{who}", "dispatcher", kode_kabs=[KODE])
        with Session(engine) as s:
            tokens[who] = auth.issue_api_token(session=s, username=f"ha_dispatcher_{who}",
                                               name="ha", scope=EVERYTHING).token
            s.commit()
    unit_id = engine.connect().execute(text("SELECT id FROM unit WHERE call_sign = 'HA-01'")
                                       ).scalar_one()
    yield {"engine": engine, "config": config, "tokens": tokens, "unit_id": unit_id}
    engine.dispose()


#: This run's devices (another HA test's rows, even left by a failure, are not counted).
DEVICE_PREFIX = f"ha-db-{uuid.uuid4().hex[:8]}-"


def _fixes(batch: int):
    from tracking.fix import Fix

    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return [Fix(device_id=f"{DEVICE_PREFIX}{n % DEVICES:03d}",
                fix_time=base + timedelta(seconds=batch * BATCH + n),
                lon=110.37 + n * 1e-5, lat=-7.80, seq=batch * BATCH + n, source="native",
                received_at=datetime.now(UTC))
            for n in range(BATCH)]


def test_primary_loss_keeps_every_acknowledged_write_once_and_the_api_comes_back(
        pg_pair, ha_url, ha_world, settings, mqtt_url, tmp_path):
    # two schedulers (escalation pass every second): one leads by the advisory lock
    env = {**os.environ, "SIAGA_DATABASE_URL": ha_url, "SIAGA_MIGRATE_DATABASE_URL": "",
           "SIAGA_MQTT_URL": mqtt_url, "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    with schedulers(env, logs) as workers:
        _primary_loss(pg_pair, ha_url, ha_world, settings, logs, workers)


def _lead_count(logs: list[Path]) -> int:
    """How many times a worker took the lead, over both logs."""
    return sum(lead_count(p) for p in logs)


def _primary_loss(pg_pair, ha_url, ha_world, settings, logs, workers) -> None:
    from api.app import create_app
    from tracking.writer import BatchWriter

    assert wait_until(lambda: _lead_count(logs) >= 1, 240), [p.read_text() for p in logs]
    time.sleep(2)  # two more ticks: one leader
    assert _lead_count(logs) == 1, [p.read_text() for p in logs]
    [leader] = [i for i, p in enumerate(logs) if lead_count(p)]
    first = pg_pair.db("primary")
    stop = threading.Event()
    counters: Counter[str] = Counter()
    writer_engine = make_engine(ha_url)
    writer = BatchWriter(make_sessionmaker(writer_engine), topic_for=lambda f: "siaga/v1/pos",
                         retry_delay_s=0.2, stop=stop, counters=counters)
    acked: list[int] = []
    stored = duplicates = 0
    killed_at: list[float] = []

    def stream() -> None:
        nonlocal stored, duplicates
        for b in range(BATCHES):
            if b == KILL_AFTER:
                pg_pair.db("kill", first)
                killed_at.append(time.monotonic())
            result = writer.write(_fixes(b), [])
            assert result is not None
            acked.append(b)  # acknowledged only now: every fix committed
            stored += result.outcome.stored
            duplicates += result.outcome.duplicates
            time.sleep(0.02)

    cfg = settings.model_copy(update={"database_url": ha_url, "db_pool_timeout_s": 2.0})
    app = create_app(cfg)
    app.state.siaga.dispatch_config = ha_world["config"]
    app.state.siaga.publish_events = lambda events: None
    answers: list[tuple[float, int, int | None]] = []
    headers = {"Authorization": f"Bearer {ha_world['tokens']['a']}"}
    with serve(app) as base, httpx.Client(base_url=base, timeout=30, headers=headers) as c:
        t = threading.Thread(target=stream)
        t.start()
        n = 0
        while t.is_alive() or not answers or answers[-1][1] != 201:
            r = c.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KODE,
                                                  "lon": 110.37 + n * 1e-5, "lat": -7.80,
                                                  "description": f"ha {n}"})
            answers.append((time.monotonic(), r.status_code,
                            r.json()["id"] if r.status_code == 201 else None))
            n += 1
            time.sleep(0.05)
        t.join()
    writer_engine.dispose()

    assert killed_at and len(acked) == BATCHES
    assert pg_pair.db("primary") not in ("", first)  # the standby was promoted
    assert counters["db_errors"] >= 1  # the writer did meet the failure and retried
    with Session(ha_world["engine"]) as s:
        total, distinct = s.execute(text(
            "SELECT count(*), count(DISTINCT (device_id, fix_time)) FROM position "
            "WHERE device_id LIKE :p"), {"p": f"{DEVICE_PREFIX}%"}).one()
        created = [a[2] for a in answers if a[1] == 201]
        found = s.execute(text("SELECT count(*) FROM incident WHERE id = ANY(:ids)"),
                          {"ids": created}).scalar_one()
    assert total == distinct == BATCHES * BATCH  # every acknowledged fix, exactly once
    assert stored + duplicates == BATCHES * BATCH
    assert found == len(created)

    codes = Counter(a[1] for a in answers)
    assert set(codes) <= {201, 503}, codes  # no primary: 503 with Retry-After, never 500
    kill = killed_at[0]
    failed = [a[0] for a in answers if a[1] != 201 and a[0] >= kill]
    back = next(a[0] for a in answers if a[1] == 201 and a[0] > (failed[-1] if failed else kill))
    window_s = back - kill
    print(f"\nprimary {first} killed: API writes failed for {window_s:.1f} s "
          f"({codes[503]} x 503); writer retried {counters['db_errors']} time(s), "
          f"{duplicates} duplicate fix(es) absorbed")
    assert window_s < 45
    # the schedulers outlived the failover: the leader lost its lock with the primary
    # ("follows") and exactly one of the two leads again, on the new primary
    assert wait_until(lambda: "follows" in logs[leader].read_text(), 60), logs[leader].read_text()
    assert wait_until(lambda: _lead_count(logs) > 1, 60), [p.read_text() for p in logs]
    time.sleep(3)  # three more ticks: still one leader, both processes alive
    assert _lead_count(logs) == 2 and all(w.poll() is None for w in workers), \
        [p.read_text() for p in logs]
    pg_pair.db("start", first)  # the old primary rejoins as standby (pg_rewind)
    pg_pair.db("wait")




def _serve_process(ha_url: str, mqtt_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "SIAGA_DATABASE_URL": ha_url, "SIAGA_MIGRATE_DATABASE_URL": "",
           "SIAGA_MQTT_URL": mqtt_url, "SIAGA_API_HOST": "127.0.0.1", "SIAGA_API_PORT": str(port),
           "SIAGA_API_WORKERS": "1"}  # one process per instance: two instances, two processes
    return subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_healthy(base: str, proc: subprocess.Popen, timeout_s: float = 240) -> None:
    """Until /api/v1/health answers 200 (the first start imports a lot: slow on a busy machine)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"siaga serve exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"siaga serve at {base} did not become healthy")


def test_two_api_instances_one_assignment_wins_and_events_cross_instances(
        pg_pair, ha_url, ha_world, mqtt_url):
    from websockets.sync.client import connect

    from dispatch import incident_service as svc
    from geo.types import LonLat

    engine, config, tokens = ha_world["engine"], ha_world["config"], ha_world["tokens"]
    with Session(engine) as s:
        incidents = []
        for n in range(2):
            i = svc.create_incident(s, config=config, geocoder=None, kode_kab=KODE,
                                    category="fire", actor="ha", scope=EVERYTHING,
                                    location=LonLat(110.37 + n / 1000, -7.80)).value
            svc.triage_incident(s, i.id, config=config, actor="ha", scope=EVERYTHING)
            incidents.append(i.id)
        s.commit()
    ports = [free_port(), free_port()]
    procs = [_serve_process(ha_url, mqtt_url, p) for p in ports]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for base, proc in zip(bases, procs, strict=True):
            _wait_healthy(base, proc)
        with connect(f"ws://127.0.0.1:{ports[0]}/api/v1/live?token={tokens['a']}",
                     open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
            barrier = threading.Barrier(2)
            results: dict[int, httpx.Response] = {}

            def dispatcher(k: int) -> None:
                with httpx.Client(base_url=bases[k], timeout=30,
                                  headers={"Authorization": f"Bearer {tokens['ab'[k]]}"}) as c:
                    c.get("/api/v1/attribution")  # connected before the barrier
                    barrier.wait()
                    results[k] = c.post("/api/v1/assignments", json={
                        "incident_id": incidents[k], "unit_id": ha_world["unit_id"]})

            threads = [threading.Thread(target=dispatcher, args=(k,)) for k in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            codes = sorted(r.status_code for r in results.values())
            assert codes == [201, 409], {k: r.text for k, r in results.items()}
            loser = next(r for r in results.values() if r.status_code == 409)
            assert loser.json()["error"]["code"] == "unit_unavailable"

            # a write through instance B reaches the console connected to instance A
            time.sleep(1.0)  # A's MQTT subscription (SUBACK) after start
            with httpx.Client(base_url=bases[1], timeout=30,
                              headers={"Authorization": f"Bearer {tokens['b']}"}) as c:
                r = c.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KODE,
                                                      "lon": 110.371, "lat": -7.801,
                                                      "description": "lewat instans B"})
                assert r.status_code == 201, r.text
                new_id = r.json()["id"]
            deadline, seen = time.monotonic() + 20, []
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
                if msg.get("type") == "events":
                    seen += msg["events"]
                    if any(e["data"].get("incident_id") == new_id for e in seen):
                        break
            assert any(e["data"].get("incident_id") == new_id for e in seen), seen[-5:]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
