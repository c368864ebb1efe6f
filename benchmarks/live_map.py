"""Live map load benchmark: 2,000 units at 1 Hz → broker → ingest → events → WebSocket → Chromium.

Every fix is published at QoS 1 on its own topic through the real Mosquitto (one message per
device per second, as trackers do), stored by the real ingest worker (``siaga ingest``) into a
benchmark database, re-published as ``events/position``, fanned out by the API's live hub to a
logged-in console in headless Chromium, and drawn on the canvas. Display lag = the time the frame
after the update was drawn (``Date.now()`` in the page) minus the fix's ``fix_time``.

Two runs side by side: Siaga (server windows of 100 ms: latest position per device) and the
baseline (10 ms windows, i.e. nearly one WebSocket message per event batch, as a naive relay
would do). Everything runs in an isolated topic prefix, so other users of the broker are not
disturbed. Usage::

    .venv/bin/python benchmarks/live_map.py [--units 2000] [--seconds 40] [--warmup 10]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

_API = """
import sys, uvicorn
from api.app import create_app
from api.services import LiveOptions
from api.settings import load_settings
cfg = load_settings(database_url=sys.argv[1], mqtt_url=sys.argv[2])
app = create_app(cfg, live=LiveOptions(topic=sys.argv[3], window_s=float(sys.argv[4])))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[5]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bench_db(base_url: str) -> str:
    from sqlalchemy import make_url, text

    from api import migrate
    from api.db import make_engine

    base = make_url(base_url)
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "siaga_bench_live" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "siaga_bench_live"'))
    admin.dispose()
    url = base.set(database="siaga_bench_live").render_as_string(hide_password=False)
    migrate.upgrade(url)
    from sqlalchemy.orm import Session

    from api.auth import service
    from dispatch.scoping import EVERYTHING

    engine = make_engine(url)
    with Session(engine) as session:
        # The bench database holds no regions: only an installation-wide login (the
        # administrator) may exist without regencies, and it receives every live event.
        service.create_user(session=session, username="bench", password="bench-live-1",
                            role="admin", scope=EVERYTHING)
        session.commit()
    engine.dispose()
    return url


class Fleet(threading.Thread):
    """``units`` trackers around Kota Yogyakarta, one QoS 1 fix per unit per second."""

    def __init__(self, mqtt_url: str, prefix: str, units: int) -> None:
        super().__init__(daemon=True)
        import paho.mqtt.client as mqtt

        u = urlparse(mqtt_url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-fleet-{uuid.uuid4().hex[:6]}")
        self.client.max_inflight_messages_set(1000)
        self.client.connect(u.hostname or "127.0.0.1", u.port or 1883)
        self.prefix, self.units = prefix, units
        rng = np.random.default_rng(7)
        self.lon = 110.3695 + rng.uniform(-0.03, 0.03, units)
        self.lat = -7.8014 + rng.uniform(-0.03, 0.03, units)
        self.heading = rng.uniform(0, 2 * np.pi, units)
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        self.client.loop_start()
        seq = 0
        next_t = time.monotonic()
        chunks = np.array_split(np.arange(self.units), 20)  # trackers are not synchronised
        while not self.stop.is_set():
            seq += 1
            self.lon += 8e-5 * np.cos(self.heading)  # ~9 m per second
            self.lat += 8e-5 * np.sin(self.heading)
            for k, chunk in enumerate(chunks):
                time.sleep(max(0.0, next_t + k * 0.05 - time.monotonic()))
                self._publish(chunk, seq)
            next_t += 1.0
            time.sleep(max(0.0, next_t - time.monotonic()))
        self.client.loop_stop()
        self.client.disconnect()

    def _publish(self, chunk: np.ndarray, seq: int) -> None:
        for i in chunk:
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            fix = {"v": 1, "device_id": f"bench-{i:05d}", "seq": seq, "fix_time": now,
                   "lat": round(float(self.lat[i]), 6), "lon": round(float(self.lon[i]), 6),
                   "speed_mps": 9.0, "heading_deg": 0.0, "hdop": 0.9, "satellites": 9,
                   "source": "bench"}
            self.client.publish(f"{self.prefix}siaga/v1/pos/bench-{i:05d}",
                                json.dumps(fix), qos=1)
            self.sent += 1


class EventProbe:
    """Subscribes to the ingest worker's ``events/position``: lag up to the event bus (ms)."""

    def __init__(self, mqtt_url: str, topic: str) -> None:
        import paho.mqtt.client as mqtt

        u = urlparse(mqtt_url)
        self.lag_ms: list[float] = []
        self.measure = False
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-probe-{uuid.uuid4().hex[:6]}")
        self.client.on_message = self._on_message
        self.client.connect(u.hostname or "127.0.0.1", u.port or 1883)
        self.client.subscribe(topic, qos=0)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        if not self.measure:
            return
        now = time.time()
        for fix in json.loads(message.payload).get("fixes", []):
            t = datetime.fromisoformat(fix["fix_time"].replace("Z", "+00:00")).timestamp()
            self.lag_ms.append((now - t) * 1000)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def run_once(label: str, window_s: float, db_url: str, mqtt_url: str, units: int,
             warmup_s: float, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    prefix = f"bench-{uuid.uuid4().hex[:8]}/"
    env = {**os.environ, "SIAGA_DATABASE_URL": db_url, "SIAGA_MQTT_URL": mqtt_url}
    bindir = Path(sys.executable).parent
    port = _free_port()
    ingest = subprocess.Popen([str(bindir / "siaga"), "ingest", "--client-id", f"b-{prefix[6:14]}",
                               "--shared-group", "", "--topic-prefix", prefix,
                               "--stale-after-s", "3600"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = subprocess.Popen([sys.executable, "-c", _API, db_url, mqtt_url,
                            f"{prefix}siaga/v1/events/#", str(window_s), str(port)], env=env,
                           cwd=str(ROOT))
    fleet = None
    probe = None
    try:
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(1.0)
        fleet = Fleet(mqtt_url, prefix, units)
        probe = EventProbe(mqtt_url, f"{prefix}siaga/v1/events/position")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{port}/?devices=all")
            page.fill("#login-username", "bench")
            page.fill("#login-password", "bench-live-1")
            page.click("#login-submit")
            page.wait_for_selector("#live-status.ok", timeout=15000)
            page.evaluate("() => { window.__frames = 0; window.__msgs = 0;"
                          " const ws = window.__siaga.ws; ws.addEventListener('message',"
                          " () => window.__msgs++);"
                          " (function f() { window.__frames++; requestAnimationFrame(f); })(); }")
            fleet.start()
            time.sleep(warmup_s)
            page.evaluate("() => { window.__siaga.lag.length = 0; window.__siaga.hubLag.length = 0;"
                          " window.__msgs = 0;"
                          " window.__frames = 0; }")
            probe.measure = True
            time.sleep(seconds)
            probe.measure = False
            lag = np.array(page.evaluate("() => window.__siaga.lag.slice()"), dtype=float)
            hub = np.array(page.evaluate("() => window.__siaga.hubLag.slice()"), dtype=float)
            msgs = page.evaluate("() => window.__msgs")
            frames = page.evaluate("() => window.__frames")
            shown = page.evaluate("() => Object.keys(window.__siaga.markers).length")
            browser.close()
        probe.close()
    finally:
        if fleet is not None:
            fleet.stop.set()
            fleet.join(5)
        for proc in (api, ingest):
            proc.send_signal(2)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    sent = fleet.sent if fleet else 0
    pct = np.percentile(lag, [50, 95, 99]) if lag.size else [float("nan")] * 3
    bus_ms = np.array(probe.lag_ms if probe else [])
    bus = np.percentile(bus_ms, [50, 95]) if bus_ms.size else [float("nan")] * 2
    hubp = np.percentile(hub, [50, 95]) if hub.size else [float("nan")] * 2
    return {"bus_p50_ms": float(bus[0]), "bus_p95_ms": float(bus[1]),
            "hub_to_drawn_p50_ms": float(hubp[0]), "hub_to_drawn_p95_ms": float(hubp[1]),
            "label": label, "window_ms": window_s * 1000, "units_drawn": shown,
            "fixes_published": sent, "updates_rendered": int(lag.size),
            "ws_msgs_per_s": msgs / seconds, "fps": frames / seconds,
            "p50_ms": float(pct[0]), "p95_ms": float(pct[1]), "p99_ms": float(pct[2])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--warmup", type=float, default=10)
    args = parser.parse_args()
    from api.settings import load_settings

    cfg = load_settings()
    db_url = _bench_db(cfg.owner_database_url)
    rows = [run_once("siaga (100 ms windows)", 0.1, db_url, cfg.mqtt_url, args.units,
                     args.warmup, args.seconds),
            run_once("baseline (10 ms windows)", 0.01, db_url, cfg.mqtt_url, args.units,
                     args.warmup, args.seconds)]
    cols = ["label", "units_drawn", "fixes_published", "updates_rendered", "ws_msgs_per_s",
            "fps", "bus_p50_ms", "bus_p95_ms", "hub_to_drawn_p50_ms", "hub_to_drawn_p95_ms",
            "p50_ms", "p95_ms", "p99_ms"]
    load = os.getloadavg()
    print(f"\nmachine load average during the run: {load[0]:.1f} (1 min), {os.cpu_count()} CPUs;"
          " bus_* = fix time → ingest's events/position on the broker; hub_to_drawn_* = API hub"
          " flush → drawn in the page; p* = fix time → drawn (the display lag)")
    print(f"Live map display lag, {args.units} units at 1 Hz, {args.seconds:.0f} s measured "
          f"after {args.warmup:.0f} s warm-up")
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
    s, b = rows
    print(f"p95 ratio baseline/siaga: {b['p95_ms'] / s['p95_ms']:.2f}; WebSocket messages ratio: "
          f"{b['ws_msgs_per_s'] / max(s['ws_msgs_per_s'], 1e-9):.1f}x; "
          f"target p95 <= 1000 ms: {'met' if s['p95_ms'] <= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
