"""API load benchmark: concurrent dispatcher consoles and a 50-way assignment race, over HTTP.

    .venv/bin/python benchmarks/api_load.py [--levels 10,50,200,500] [--seconds 15]
                                            [--workers 1,2] [--baseline e9e2cc6]
                                            [--skip-baseline]

Servers run one after the other in one run, each from its own source tree with the same
virtual environment, on its own port and its own database (created, migrated and seeded by that
tree's code; the road index is built by that tree's code too):

* Siaga: the working tree (``siaga serve`` settings), once per ``--workers`` value (1: one
  process, ``siaga serve --workers 1``; 2: ``siaga serve --workers 2``, which is what
  ``siaga serve`` runs by default on a 2-core machine: one process per core);
* baseline: commit ``--baseline`` checked out with ``git worktree add`` into a temporary
  directory and served from there (``PYTHONPATH=<worktree>``).

At each level, ``N`` clients (asyncio + httpx, loopback only) each loop for ``--seconds`` over
what the console polls: recommendations for a triaged incident (road ETAs on the Kota Yogyakarta
network), the incident list, the units and ``/api/v1/tracking/latest``; a separate client polls
``/api/v1/health`` every 250 ms. Reported per level: requests per second, p50 / p99 latency,
errors (anything but 200, timeouts included) and the health latency during the load. Then 50
clients POST ``/api/v1/assignments`` with the same unit and 50 different incidents at once:
exactly one 201 and 49 × 409 are expected. Ratios Siaga / baseline are printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REQUEST_TIMEOUT_S = 120.0
KODE = "34.71"

#: Run inside each tree (PYTHONPATH=tree): migrate, seed, build roads, print the fixtures.
_SEED = r"""
import json, sys
from pathlib import Path
from sqlalchemy import select
from sqlalchemy.orm import Session
from api import migrate
from api.db import make_engine
from api.auth import service as auth
from dispatch import incident_service as svc
from dispatch.config import load_config
from dispatch.models import Unit
from dispatch.seed_service import fleet_path, seed_region
from geo.routing.store import build_networks
from geo.types import LonLat

url, roads_dir, root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
migrate.upgrade(url)
build_networks(root / "data" / "kota-yogyakarta" / "roads_drive.osm", "34.71", roads_dir)
config = load_config()
engine = make_engine(url)
def scoped(fn, **kw):
    # The same seed runs in both trees: newer code takes an explicit scope and requires a
    # dispatcher to name its regencies; the baseline's code takes neither.
    import inspect
    params = inspect.signature(fn).parameters
    if "scope" in params:
        from dispatch.scoping import EVERYTHING
        kw["scope"] = EVERYTHING
    if "kode_kabs" in params and fn.__name__ == "create_user":
        kw["kode_kabs"] = ["34.71"]
    return kw


with Session(engine) as s:
    from geo.service import import_region
    base = root / "data" / "kota-yogyakarta"
    import_region(s, base / "desa.geojson", kecamatan_path=base / "kecamatan.geojson",
                  kabupaten_path=base / "kabupaten.geojson")
    seed_region(s, config, "34.71", fleet=fleet_path("34.71"))
    auth.create_user(session=s, **scoped(auth.create_user, username="bench",
                                         password="bench-api-123", role="dispatcher"))
    s.commit()
    token = auth.issue_api_token(session=s, **scoped(auth.issue_api_token, username="bench",
                                                     name="bench")).token
    points = [LonLat(110.355 + 0.004 * (k % 10), -7.815 + 0.004 * (k // 10)) for k in range(70)]
    ids = []
    for p in points:
        i = svc.create_incident(s, **scoped(svc.create_incident, config=config, geocoder=None,
                                            kode_kab="34.71", category="fire", actor="bench",
                                            location=p)).value
        svc.triage_incident(s, i.id, **scoped(svc.triage_incident, config=config,
                                              actor="bench"))
        ids.append(i.id)
    unit = s.scalars(select(Unit.id).where(Unit.kode_kab == "34.71").order_by(Unit.id)).first()
    s.commit()
print(json.dumps({"token": token, "incidents": ids[:20], "race": ids[20:70], "unit": unit}))
"""

_SERVE = r"""
import sys, uvicorn
from api.app import create_app
from api.settings import load_settings
port, workers = int(sys.argv[1]), int(sys.argv[2])
if workers == 1:
    uvicorn.run(create_app(load_settings()), host="127.0.0.1", port=port, log_level="error",
                backlog=4096, timeout_keep_alive=30)
else:  # as `siaga serve --workers N`: each process builds its app from the environment
    uvicorn.run("api.app:create_app", factory=True, workers=workers, host="127.0.0.1",
                port=port, log_level="error", backlog=4096, timeout_keep_alive=30)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_db(name: str) -> str:
    from sqlalchemy import make_url, text

    from api.db import make_engine
    from api.settings import load_settings

    base = make_url(load_settings().owner_database_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


class Server:
    """One tree's API in a subprocess, with its database and road index."""

    def __init__(self, label: str, tree: Path, db: str, work: Path, workers: int = 1) -> None:
        self.label, self.tree, self.workers = label, tree, workers
        self.url = _fresh_db(db)
        self.roads = work / f"roads-{db}"
        from api.settings import load_settings

        self.env = {**os.environ, "PYTHONPATH": str(tree), "SIAGA_DATABASE_URL": self.url,
                    "SIAGA_MQTT_URL": load_settings().mqtt_url,
                    "SIAGA_ROADS_DIR": str(self.roads)}
        out = subprocess.run([sys.executable, "-c", _SEED, self.url, str(self.roads), str(tree)],
                             env=self.env, cwd=str(tree), capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            raise SystemExit(f"{label}: seeding failed\n{out.stderr[-3000:]}")
        self.fixtures = json.loads(out.stdout.strip().splitlines()[-1])
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        import httpx

        self.proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(self.port),
                                      str(self.workers)],
                                     env=self.env, cwd=str(self.tree),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.label}: server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _level(server: Server, clients: int, seconds: float) -> dict:
    import httpx

    fx = server.fixtures
    headers = {"Authorization": f"Bearer {fx['token']}"}
    paths = ["/api/v1/incidents/{}/recommendations?limit=5",
             f"/api/v1/incidents?kode_kab={KODE}&limit=50",
             f"/api/v1/units?kode_kab={KODE}", "/api/v1/tracking/latest"]
    lat: list[float] = []
    errors: dict[str, int] = {}
    health: list[float] = []
    health_errors = 0
    done = threading.Event()

    async def client(n: int, c: httpx.AsyncClient) -> None:
        k = n
        while time.perf_counter() < stop_at:
            path = paths[k % len(paths)].format(fx["incidents"][k % len(fx["incidents"])])
            k += 1
            t0 = time.perf_counter()
            try:
                r = await c.get(path)
                code = str(r.status_code)
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            lat.append(time.perf_counter() - t0)
            if code != "200":
                errors[code] = errors.get(code, 0) + 1

    def poll_health() -> None:
        # Its own thread and connection: the clients' busy event loop must not delay it.
        nonlocal health_errors
        with httpx.Client(base_url=server.base, timeout=REQUEST_TIMEOUT_S) as h:
            while not done.is_set():
                t0 = time.perf_counter()
                try:
                    ok = h.get("/api/v1/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                health.append(time.perf_counter() - t0)
                health_errors += 0 if ok else 1
                done.wait(0.25)

    # One connection per console, as browsers polling the API have (no shared pool); the
    # clients are built and connected before the clock starts (building one costs CPU).
    pool = [httpx.AsyncClient(base_url=server.base, headers=headers, timeout=REQUEST_TIMEOUT_S,
                              limits=httpx.Limits(max_connections=1)) for _ in range(clients)]
    try:
        await asyncio.gather(*(c.get("/api/v1/attribution") for c in pool),
                             return_exceptions=True)
        started = time.perf_counter()
        stop_at = started + seconds
        poller = threading.Thread(target=poll_health, daemon=True)
        poller.start()
        await asyncio.gather(*(client(n, c) for n, c in enumerate(pool)))
        elapsed = time.perf_counter() - started
        done.set()
        poller.join(timeout=REQUEST_TIMEOUT_S)
    finally:
        await asyncio.gather(*(c.aclose() for c in pool), return_exceptions=True)
    return {"clients": clients, "requests": len(lat), "rps": len(lat) / elapsed,
            "p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99), "errors": sum(errors.values()),
            "error_kinds": errors, "health_p50": _pct(health, 0.5),
            "health_max": max(health) if health else float("nan"),
            "health_errors": health_errors, "elapsed": elapsed}


async def _race(server: Server, n: int = 50) -> dict:
    import httpx

    fx = server.fixtures
    headers = {"Authorization": f"Bearer {fx['token']}"}
    gate = asyncio.Event()
    clients = [httpx.AsyncClient(base_url=server.base, headers=headers, timeout=REQUEST_TIMEOUT_S)
               for _ in range(n)]
    try:
        # Connect first (a collapsed server may not answer even this: then it counts as errors).
        await asyncio.gather(*(c.get("/api/v1/attribution") for c in clients),
                             return_exceptions=True)

        async def one(c: httpx.AsyncClient, incident_id: int) -> tuple[str, float]:
            await gate.wait()
            t0 = time.perf_counter()
            try:
                r = await c.post("/api/v1/assignments",
                                 json={"incident_id": incident_id, "unit_id": fx["unit"]})
                code = str(r.status_code)
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            return code, time.perf_counter() - t0

        tasks = [asyncio.create_task(one(c, i)) for c, i in zip(clients, fx["race"], strict=True)]
        await asyncio.sleep(0.2)
        gate.set()
        results = await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    codes: dict[str, int] = {}
    for code, _ in results:
        codes[code] = codes.get(code, 0) + 1
    return {"codes": codes, "max_s": max(t for _, t in results),
            "ok": codes == {"201": 1, "409": n - 1}}


def _wait_healthy(server: Server, limit_s: float = 180.0) -> None:
    """Let a server that fell behind finish its backlog before the next measurement."""
    import httpx

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.base}/api/v1/health", timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)


def _run(server: Server, levels: list[int], seconds: float) -> dict:
    out: dict = {"levels": []}
    with server:
        asyncio.run(_level(server, 5, 3.0))  # warm-up: caches, road index, compiled kernels
        for clients in levels:
            _wait_healthy(server)
            res = asyncio.run(_level(server, clients, seconds))
            res["load"] = os.getloadavg()[0]
            out["levels"].append(res)
            print(f"  {server.label:8} {clients:4d} clients: {res['rps']:7.1f} req/s  "
                  f"p50 {res['p50'] * 1000:8.0f} ms  p99 {res['p99'] * 1000:8.0f} ms  "
                  f"errors {res['errors']:5d} {res['error_kinds'] or ''}  health max "
                  f"{res['health_max'] * 1000:7.0f} ms  load {res['load']:.1f}", flush=True)
        _wait_healthy(server)
        out["race"] = asyncio.run(_race(server))
        print(f"  {server.label:8} race: {out['race']['codes']}  slowest "
              f"{out['race']['max_s']:.2f} s", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10,50,200,500")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--baseline", default="e9e2cc6")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--workers", default="1,2",
                        help="Siaga API processes to measure, one run each (siaga serve --workers)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="siaga-api-load-"))
    results: dict[str, dict] = {}
    worktree = work / "baseline"
    try:
        print(f"Siaga API load: levels {levels}, {args.seconds:.0f} s each; load average "
              f"{os.getloadavg()[0]:.1f} at start", flush=True)
        for n in (int(x) for x in args.workers.split(",")):
            label = "siaga" if n == 1 else f"siaga-w{n}"
            results[label] = _run(Server(label, ROOT, f"siaga_bench_api_w{n}", work, n),
                                  levels, args.seconds)
        if not args.skip_baseline:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree),
                            args.baseline], check=True, capture_output=True)
            results["baseline"] = _run(Server("baseline", worktree, "siaga_bench_api_base",
                                              work), levels, args.seconds)
    finally:
        if worktree.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(worktree)], check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    _report(results, levels)
    met = all(all(r["errors"] == 0 and r["health_max"] < 1.0 for r in res["levels"])
              and res["race"]["ok"] for label, res in results.items() if label != "baseline")
    return 0 if met else 1


def _report(results: dict[str, dict], levels: list[int]) -> None:
    print()
    print("| clients | run | req/s | p50 | p99 | errors | health p50 / max | load |")
    print("|---|---|---|---|---|---|---|---|")
    for i, clients in enumerate(levels):
        for label, res in results.items():
            r = res["levels"][i]
            print(f"| {clients} | {label} | {r['rps']:.1f} | {r['p50'] * 1000:.0f} ms | "
                  f"{r['p99'] * 1000:.0f} ms | {r['errors']} of {r['requests']} | "
                  f"{r['health_p50'] * 1000:.0f} / {r['health_max'] * 1000:.0f} ms | "
                  f"{r['load']:.1f} |")
    for label, res in results.items():
        print(f"race ({label}): {res['race']['codes']}, slowest answer "
              f"{res['race']['max_s']:.2f} s, {'OK' if res['race']['ok'] else 'WRONG'}")
    if "baseline" not in results:
        return
    for label in (k for k in results if k != "baseline"):
        for i, clients in enumerate(levels):
            s, b = results[label]["levels"][i], results["baseline"]["levels"][i]
            print(f"ratio {label} / baseline at {clients} clients: throughput "
                  f"x{s['rps'] / b['rps']:.1f}, p99 {b['p99'] / s['p99']:.1f}x lower, health max "
                  f"{b['health_max'] / s['health_max']:.1f}x lower")


if __name__ == "__main__":
    sys.exit(main())
