"""The dispatcher console in real headless Chromium, against the running demo stack.

``siaga demo`` (API, ingest worker, bridge simulator, assignment relay) runs against the test
database; Chromium (Debian ``/usr/bin/chromium``, no browser download) logs in, watches the
fleet, creates an incident by kelurahan name, checks the recommendations are ordered by road
ETA, assigns the first unit, watches it drive there and sees the GPS arrival in the timeline.
Every request to a host other than localhost is blocked and recorded: there must be none.
A screenshot is kept in ``artifacts/console.png``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS, LOCAL_HOSTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def demo_stack(fresh_database_url, mqtt_url, console_world, tmp_path):
    """``siaga demo`` on a free port: units parked at their posts, no generated incidents."""
    port = _free_port()
    env = {**os.environ, "SIAGA_DATABASE_URL": fresh_database_url, "SIAGA_MQTT_URL": mqtt_url,
           "SIAGA_ROADS_DIR": str(console_world), "SIAGA_STATE_DIR": str(tmp_path)}
    siaga = str(Path(sys.executable).parent / "siaga")
    log = open(tmp_path / "demo.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([siaga, "demo", "--port", str(port), "--duration",
                             "150", "--interval", "1", "--speedup", "5", "--no-wander",
                             "--incidents-per-minute", "0.001"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/api/v1/health", 60)
        yield base
    finally:
        proc.send_signal(2)  # Ctrl-C
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        out = (tmp_path / "demo.log").read_text()
        print(out[-3000:])
        # Ctrl-C stopped every child cleanly
        assert proc.returncode == 0
        assert "ingest (exit 0)" in out and "api (exit 0)" in out


def _tracker_alive_without_fix(page, mqtt_url: str) -> None:
    """A status message (no GPS fix) reaches the console's tracker state through MQTT, ingest,
    PostGIS and GET /tracking/devices; a unit whose last status is newer than its last fix shows
    "posisi terakhir N menit lalu, pelacak aktif"."""
    from tests.integration.tracking.helpers import mosquitto_pub

    dev = page.evaluate("() => Object.values(window.__siaga.units).map(u => u.device_id)"
                        ".filter(Boolean).sort()[0]")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {"v": 1, "device_id": dev, "time": now, "received_at": now, "reason": "no_gps",
              "cells": [{"mcc": 510, "mnc": 10, "lac": 500, "cid": 161, "rssi": -70}],
              "wifi": 0, "source": "gt06"}
    mosquitto_pub(mqtt_url, f"siaga/v1/status/{dev}", json.dumps(status).encode())
    page.wait_for_function("""(d) => { const s = window.__siaga; s.loadTrackers();
        const t = s.trackers[d]; return !!(t && t.last_status_at && t.last_fix_at &&
        t.last_status_reason === 'no_gps'); }""", arg=dev, timeout=20_000, polling=1000)
    shown = page.evaluate("""(d) => { const s = window.__siaga;
        s.trackers[d] = Object.assign({}, s.trackers[d], {alive_without_fix: true,
            last_fix_at: new Date(Date.now() - 12 * 60000).toISOString()});
        return s.trackerText(s.byDevice[d]); }""", dev)
    assert shown == "posisi terakhir 12 menit lalu, pelacak aktif"
    page.evaluate("() => window.__siaga.loadTrackers()")  # back to the server's state


def test_dispatch_in_the_browser(chromium_path, demo_stack, mqtt_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    external: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            # bypass_csp lets the test's own probes (wait_for_function) run; the page's
            # Content-Security-Policy itself is checked in tests/integration/api.
            context = browser.new_context(viewport={"width": 1400, "height": 900},
                                          locale="en-US", timezone_id="UTC",
                                          bypass_csp=True)
            context.route("**/*", guard)
            page = context.new_page()
            console_errors: list[str] = []
            page.on("pageerror", lambda exc: console_errors.append(str(exc)))
            page.goto(demo_stack + "/")

            # Bahasa Indonesia by default, English on request (and back)
            assert page.inner_text("#login-submit") == "Masuk"
            page.click("#login .lang-switch")
            assert page.inner_text("#login-submit") == "Log in"
            assert page.get_attribute("#place", "placeholder").startswith("Type a kelurahan")
            page.click("#login .lang-switch")
            assert page.inner_text("#login-submit") == "Masuk"

            # log in
            page.fill("#login-username", "demo")
            page.fill("#login-password", "demo112")
            page.click("#login-submit")
            page.wait_for_selector("#login", state="hidden", timeout=10_000)
            page.wait_for_selector("#live-status.ok", timeout=10_000)
            page.wait_for_function("Object.keys(window.__siaga.markers).length >= 10",
                                   timeout=15_000)
            # live positions are applied (fixes arrive every second)
            page.wait_for_function("window.__siaga.applied > 20", timeout=15_000)
            _tracker_alive_without_fix(page, mqtt_url)
            # times in the region's zone (Yogyakarta: WIB, UTC+7), whatever the browser's zone
            clock = page.inner_text("#clock")
            wib_hour = (datetime.now(UTC) + timedelta(hours=7)).hour
            assert clock.endswith("WIB") and int(clock[:2]) in (wib_hour, (wib_hour + 1) % 24)

            # call taker: kelurahan by name → incident
            page.fill("#place", "Prawirodirjan")
            page.wait_for_selector("#place-results li", timeout=10_000)
            assert "Prawirodirjan" in page.inner_text("#place-results li >> nth=0")
            page.click("#place-results li >> nth=0")
            page.select_option("#category", "medical")
            page.fill("#caller", "081234567890")
            page.fill("#description", "Warga pingsan di jalan (uji browser)")
            page.click("#create-incident")

            # recommendations ordered by road ETA
            page.wait_for_selector("#recommendations .rec", timeout=15_000)
            groups = page.evaluate("""() => (window.__siaga.recs.agencies || []).map(g =>
                g.units.map(u => [u.unit_id, u.eta_s, u.reachable]))""")
            shown = page.eval_on_selector_all("#recommendations .rec",
                                              "els => els.map(e => +e.dataset.unit)")
            expected = []
            for units in groups:
                ordered = sorted(units, key=lambda u: (u[1] is None, u[1] or 0))
                expected += [u[0] for u in ordered]
                etas = [u[1] for u in ordered if u[1] is not None]
                assert etas == sorted(etas)
            assert shown == expected and shown

            # assign the fastest unit of the first agency
            first = page.locator("#recommendations button.assign").first
            unit_id = int(first.get_attribute("data-unit"))
            first.click()
            page.wait_for_function(
                "document.querySelector('#recommendations button.assign').textContent"
                " === 'Ditugaskan'", timeout=10_000)
            page.wait_for_function("window.__siaga.route != null", timeout=10_000)

            # the unit drives to the scene and the GPS arrival shows in the timeline
            start = page.evaluate(f"""() => {{ for (const k in window.__siaga.units) {{
                const u = window.__siaga.units[k]; if (u.id === {unit_id}) return u.pos; }} }}""")
            # the unit's status colour follows the live unit events
            page.wait_for_function(f"""() => Object.values(window.__siaga.units).some(u =>
                u.id === {unit_id} && u.status !== 'available')""", timeout=10_000)
            page.wait_for_function(
                "document.querySelector('#timeline').textContent.includes('(GPS)')",
                timeout=60_000)
            end = page.evaluate(f"""() => {{ for (const k in window.__siaga.units) {{
                const u = window.__siaga.units[k]; if (u.id === {unit_id}) return u.pos; }} }}""")
            moved_deg = abs(end["lat"] - start["lat"]) + abs(end["lon"] - start["lon"])
            assert moved_deg > 0.002  # a few hundred metres driven
            timeline = page.inner_text("#timeline")
            assert "Tiba (GPS)" in timeline and "YK-PSC" in timeline and "Ditugaskan" in timeline
            page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)

            # the unit clears the incident from the assignment panel
            page.click("#assignments button.step[data-step='clear']")
            page.wait_for_selector("#timeline li[data-action='clear']", timeout=10_000)
            assert not console_errors, console_errors
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "console-failure.png"), full_page=True)
            print("console messages:", page.inner_text("#form-error"), console_errors,
                  page.evaluate("() => [window.__siaga.lastError, window.__siaga.selected, "
                                "JSON.stringify(window.__siaga.incidents)]"))
            raise
        finally:
            browser.close()
    assert external == [], f"requests beyond localhost were attempted: {external}"
