"""Console at scale: the dispatcher console in headless Chromium with 200 open incidents and
moving trackers, against a naive console on the same server.

One API (real uvicorn) on a benchmark database holding ``--incidents`` open, triaged incidents of
Kota Yogyakarta, one ingest worker on the real broker (isolated topic prefix) and ``--trackers``
trackers sending one fix per second each. Measured in the page (same browser, same server, one
after the other):

* time to render: navigation start → every incident marker on the map and the list drawn;
* long tasks (> 50 ms, ``PerformanceObserver('longtask')``) and frame intervals
  (``requestAnimationFrame``) while the trackers move;
* fix-to-marker latency: the frame after a position was drawn minus the fix's ``fix_time``.

Siaga: the console as shipped (``console.js`` + its feature scripts: list capped at 50 rows, one
canvas for units, positions applied once per animation frame). Baseline: a straightforward console
(the same Leaflet, page and API) that reads every incident's detail one by one, adds a DOM marker
and a list row per incident, and moves a DOM marker (with a DOM label) on every WebSocket event as
it arrives. Usage::

    .venv/bin/python benchmarks/console_scale.py [--incidents 200] [--trackers 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from live_map import CHROMIUM_ARGS, Fleet  # noqa: E402

KAB = "34.71"
DB = "siaga_bench_console"
PROBE = """
window.__bench = { longtasks: [], frames: [] };
try { new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) {
  window.__bench.longtasks.push([e.startTime, e.duration]); }); })
  .observe({ type: "longtask", buffered: true }); } catch (e) {}
(function loop(t) { window.__bench.frames.push(t); requestAnimationFrame(loop); })(0);
"""
#: The baseline console (``console_scale_naive.js``; ``%s``: the regency code).
NAIVE = (ROOT / "benchmarks" / "console_scale_naive.js").read_text()


def _bench_db(base_url: str, n_incidents: int) -> tuple[str, str]:
    """A fresh benchmark database: Kota Yogyakarta's agencies and fleet, ``n_incidents`` open
    triaged incidents; returns its URL and an API token of an installation-wide login."""
    from sqlalchemy import make_url, text
    from sqlalchemy.orm import Session

    from api import migrate
    from api.auth import service as auth
    from api.db import make_engine
    from dispatch import incident_service as svc
    from dispatch.config import load_config
    from dispatch.scoping import EVERYTHING
    from dispatch.seed_service import fleet_path, seed_region
    from geo.types import LonLat

    base = make_url(base_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()
    url = base.set(database=DB).render_as_string(hide_password=False)
    migrate.upgrade(url)
    engine = make_engine(url)
    config = load_config()
    rng = np.random.default_rng(11)
    categories = ["fire", "medical", "traffic_accident", "flood", "fallen_tree"]
    with Session(engine) as s:
        seed_region(s, config, KAB, fleet=fleet_path(KAB))
        for k in range(n_incidents):
            where = LonLat(110.3695 + rng.uniform(-0.025, 0.025),
                           -7.8014 + rng.uniform(-0.025, 0.025))
            i = svc.create_incident(s, config=config, geocoder=None, kode_kab=KAB,
                                    category=categories[k % len(categories)], location=where,
                                    actor="bench", scope=EVERYTHING).value
            svc.triage_incident(s, i.id, config=config, actor="bench", scope=EVERYTHING)
        auth.create_user(session=s, username="bench", password="bench-console-1", role="admin",
                         scope=EVERYTHING)
        token = auth.issue_api_token(session=s, username="bench", name="bench",
                                     scope=EVERYTHING).token
        s.commit()
    engine.dispose()
    return url, token


def _stats(page, start_ms: float) -> dict[str, float]:
    b = page.evaluate("() => window.__bench")
    frames = np.diff([t for t in b["frames"] if t >= start_ms]) if b["frames"] else np.array([0.0])
    long = [d for t, d in b["longtasks"] if t >= start_ms]
    return {"frame_p50_ms": float(np.percentile(frames, 50)) if frames.size else float("nan"),
            "frame_p95_ms": float(np.percentile(frames, 95)) if frames.size else float("nan"),
            "frame_max_ms": float(frames.max()) if frames.size else float("nan"),
            "longtasks": float(len(long)), "longtask_ms": float(sum(long))}


def _run(browser, base: str, token: str, *, naive: bool, n: int, fleet_s: float,
         fleet: Fleet) -> dict[str, float]:
    ctx = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"},
                              viewport={"width": 1400, "height": 900}, bypass_csp=True)
    ctx.add_init_script(PROBE)
    if naive:  # the same page and Leaflet, none of the console's scripts
        ctx.route("**/static/*.js", lambda r: r.abort())
    page = ctx.new_page()
    page.goto(f"{base}/console?region={KAB}&devices=all")
    if naive:
        page.add_script_tag(content=NAIVE % KAB)
        page.wait_for_function("() => window.__naive.done !== null", timeout=600_000)
        render = page.evaluate("() => window.__naive.done")
        shown = page.evaluate("() => window.__naive.incidents")
    else:
        page.wait_for_function(f"""() => window.__siaga && Object.keys(window.__siaga
            .incidentMarkers).length >= {n} && document.querySelectorAll('#incident-list li')
            .length >= Math.min({n}, 50)""", timeout=600_000, polling=50)
        render = page.evaluate("() => performance.now()")
        shown = page.evaluate("() => Object.keys(window.__siaga.incidentMarkers).length")
    load = _stats(page, 0.0)
    page.evaluate("() => { if (window.__siaga) window.__siaga.lag.length = 0; }")
    start = page.evaluate("() => performance.now()")
    sent0 = fleet.sent
    time.sleep(fleet_s)
    moving = _stats(page, start)
    lag = np.array(page.evaluate(
        "() => window.__naive ? window.__naive.lag : window.__siaga.lag") or [np.nan])
    ctx.close()
    return {"render_ms": render, "incidents_shown": float(shown),
            "load_longtasks": load["longtasks"], "load_longtask_ms": load["longtask_ms"],
            **{f"moving_{k}": v for k, v in moving.items()},
            "fix_to_marker_p50_ms": float(np.nanpercentile(lag, 50)),
            "fix_to_marker_p95_ms": float(np.nanpercentile(lag, 95)),
            "fixes_sent": float(fleet.sent - sent0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--incidents", type=int, default=200)
    ap.add_argument("--trackers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from api.app import create_app
    from api.db import make_engine, make_sessionmaker
    from api.services import LiveOptions
    from api.settings import load_settings
    from tests.integration.api.live_server import serve
    from tracking.ingest import IngestConfig, IngestWorker

    settings = load_settings()
    url, token = _bench_db(os.environ.get("SIAGA_MIGRATE_DATABASE_URL") or settings.database_url,
                           args.incidents)
    prefix = f"bench/{uuid.uuid4().hex[:6]}/"
    app = create_app(load_settings(database_url=url, mqtt_url=settings.mqtt_url),
                     live=LiveOptions(topic=f"{prefix}siaga/v1/events/#", window_s=0.1))
    engine = make_engine(url)
    worker = IngestWorker(make_sessionmaker(engine),
                          IngestConfig(mqtt_url=settings.mqtt_url, client_id=f"{prefix}ingest",
                                       topic_prefix=prefix, batch_max_delay_s=0.05,
                                       session_expiry_s=60))
    threading.Thread(target=worker.run, daemon=True).start()
    fleet = Fleet(settings.mqtt_url, prefix, args.trackers)
    results = {}
    try:
        with serve(app) as base, sync_playwright() as pw:
            fleet.start()
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, naive in (("siaga", False), ("naive", True)):
                results[name] = _run(browser, base, token, naive=naive, n=args.incidents,
                                     fleet_s=args.seconds, fleet=fleet)
            browser.close()
    finally:
        fleet.stop.set()
        worker.stop()
        engine.dispose()
    s, b = results["siaga"], results["naive"]
    print(f"console at scale: {args.incidents} open incidents, {args.trackers} trackers at 1 Hz, "
          f"{args.seconds:.0f} s moving")
    print(f"{'metric':<24}{'siaga':>12}{'naive':>12}{'naive/siaga':>13}")
    for key in s:
        ratio = b[key] / s[key] if s[key] else float("nan")
        print(f"{key:<24}{s[key]:>12.1f}{b[key]:>12.1f}{ratio:>13.2f}")
    agree = s["incidents_shown"] == b["incidents_shown"] == args.incidents
    print(f"answers agree (every incident on both maps): {agree}")


if __name__ == "__main__":
    main()
