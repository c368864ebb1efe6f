"""A bounded burst against a real uvicorn server: 100 concurrent clients asking for
recommendations, the incident list and the units (what the console polls) get no errors, and
``/api/v1/health`` keeps answering fast during the burst. Real figures: benchmarks/api_load.py."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy.orm import Session

from dispatch import incident_service as svc
from dispatch.scoping import EVERYTHING
from geo.types import LonLat
from tests.integration.api.live_server import serve
from tests.integration.api.test_commit_before_response import KODE, bearer, served_app, world

__all__ = ["world"]  # the fixture, shared with the commit tests

CLIENTS = 100


def test_burst_of_reads_has_no_errors_and_health_stays_fast(world, app_factory, engine):
    with Session(engine) as s:
        incident = svc.create_incident(s, config=world["config"], geocoder=None, kode_kab=KODE,
                                       category="fire", actor="load",
                                       location=LonLat(121.003, -5.004), scope=EVERYTHING).value
        svc.triage_incident(s, incident.id, config=world["config"], actor="load", scope=EVERYTHING)
        s.commit()
        incident_id = incident.id
    paths = [f"/api/v1/incidents/{incident_id}/recommendations",
             f"/api/v1/incidents?kode_kab={KODE}&limit=50", f"/api/v1/units?kode_kab={KODE}"]
    app = served_app(app_factory, world["config"])
    statuses: list[int] = []
    health_s: list[float] = []
    lock = threading.Lock()
    with serve(app) as base:
        barrier = threading.Barrier(CLIENTS + 1)
        done = threading.Event()

        def client(n: int) -> None:
            with httpx.Client(base_url=base, timeout=60,
                              headers=bearer(world["tokens"]["dispatcher"])) as c:
                barrier.wait()
                for k in range(3):
                    try:
                        code = c.get(paths[(n + k) % 3]).status_code
                    except httpx.HTTPError:
                        code = -1
                    with lock:
                        statuses.append(code)

        def health() -> None:
            with httpx.Client(base_url=base, timeout=30) as c:
                barrier.wait()
                while not done.is_set():
                    t0 = time.perf_counter()
                    r = c.get("/api/v1/health")
                    health_s.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                    time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        poller = threading.Thread(target=health)
        for t in [*threads, poller]:
            t.start()
        for t in threads:
            t.join(timeout=120)
        done.set()
        poller.join(timeout=30)
    assert len(statuses) == CLIENTS * 3
    assert [s for s in statuses if s != 200] == []
    assert len(health_s) >= 1
    # Generous bound (shared 2-core machine): the probe itself gives up after 0.8 s.
    assert max(health_s) < 2.0, sorted(health_s)[-5:]


def test_health_says_503_within_a_second_when_the_database_hangs(app_factory):
    """A database that accepts the connection and never answers: 503 with the reason, fast."""
    import socket

    from api.health_probe import DatabaseProbe

    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(8)
        port = blackhole.getsockname()[1]
        app = app_factory()
        with serve(app) as base, httpx.Client(base_url=base, timeout=30) as c:
            assert c.get("/api/v1/health").status_code == 200
            app.state.siaga.health_probe = DatabaseProbe(
                f"postgresql://siaga@127.0.0.1:{port}/siaga")
            t0 = time.perf_counter()
            r = c.get("/api/v1/health")
            elapsed = time.perf_counter() - t0
    assert r.status_code == 503 and r.json()["database"] == "timeout", r.text
    assert r.headers.get("Retry-After")
    assert elapsed < 3.0  # the probe gives up after 0.8 s; generous bound for a shared machine
