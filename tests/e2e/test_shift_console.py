"""The console for a whole shift, in headless Chromium over a real uvicorn, PostGIS, the real
road network of Kota Yogyakarta, the real broker and ingest worker:

* units: call signs at every zoom, the agency filter, a stale-tracker ring on a unit whose
  tracker has been silent for 30 min (none on a fresh one), and the road route of an assigned
  unit with its ETA, recomputed when a GPS fix published over MQTT moves the unit (throttled);
* the agency (OPD) desk: its own queue only, acknowledging for its agency and moving its
  assignment through acknowledge and depart, with no call-taker form;
* the handover view in both languages, and its printable page.
Screenshots go to ``$SIAGA_ARTIFACTS`` (default: a temporary directory)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.models import Unit
from tests.e2e.conftest import CHROMIUM_ARGS, LOCAL_HOSTS
from tests.e2e.shift_stack import shift_stack
from tests.fixtures.dispatch import make_fix, store_fixes

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KAB = "34.71"
#: YK-DAMKAR-01 in Terban; the scene in Suryatmajan (Danurejan), ~1.8 km by road.
TRUCK = (110.38209, -7.78292)
SCENE = (110.3685, -7.7925)


def artifacts_dir() -> Path:
    path = Path(os.environ.get("SIAGA_ARTIFACTS") or tempfile.mkdtemp(prefix="siaga-shift-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def guard_external(ctx, external: list[str]) -> None:
    def guard(route):
        if (urlparse(route.request.url).hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()
    ctx.route("**/*", guard)


def reset_fleet(engine) -> dict[str, int]:
    """Every 34.71 unit available (earlier tests may have left some on a job); their ids."""
    with Session(engine) as s:
        s.execute(update(Unit).where(Unit.kode_kab == KAB).values(status="available"))
        ids = {u.call_sign: u.id for u in s.scalars(select(Unit).where(Unit.kode_kab == KAB))}
        now = datetime.now(UTC)
        store_fixes(s, [make_fix("yk-damkar-01", now - timedelta(seconds=20), *TRUCK, seq=1),
                        make_fix("yk-damkar-02", now - timedelta(minutes=30), 110.35873,
                                 -7.78172, seq=1)])
        s.commit()
    return ids


def test_units_routes_desk_and_handover(chromium_path, settings, database_url, engine,
                                        mqtt_url, console_world, role_tokens):
    from playwright.sync_api import sync_playwright

    out = artifacts_dir()
    units = reset_fleet(engine)
    with shift_stack(settings=settings, database_url=database_url, engine=engine,
                     mqtt_url=mqtt_url, roads_dir=console_world) as stack, \
            sync_playwright() as pw:
        ops = httpx.Client(base_url=stack.base, timeout=30,
                           headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"})
        fire = ops.post("/api/v1/incidents", json={
            "kode_kab": KAB, "category": "fire", "lon": SCENE[0], "lat": SCENE[1]}).json()
        ops.post(f"/api/v1/incidents/{fire['id']}/triage", json={})
        medical = ops.post("/api/v1/incidents", json={
            "kode_kab": KAB, "category": "medical", "lon": 110.37, "lat": -7.80}).json()
        ops.post(f"/api/v1/incidents/{medical['id']}/triage", json={})
        r = ops.post("/api/v1/assignments", json={"incident_id": fire["id"],
                                                  "unit_id": units["YK-DAMKAR-01"]})
        assert r.status_code == 201, r.text
        assignment = r.json()["id"]
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        external: list[str] = []
        errors: list[str] = []
        try:
            ctx = browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"},
                viewport={"width": 1400, "height": 900}, bypass_csp=True)
            guard_external(ctx, external)
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{stack.base}/console?region={KAB}")
            page.wait_for_selector("#whoami:not(:empty)", timeout=20_000)

            # the route of the assigned truck, with its ETA
            row = f'#unit-routes li[data-assignment="{assignment}"]'
            page.wait_for_selector(row, timeout=30_000)
            page.wait_for_function(f"() => (window.__siaga.shift.routes[{assignment}] || {{}})"
                                   ".count === 1", timeout=30_000)
            first = page.evaluate(f"() => window.__siaga.shift.routes[{assignment}].eta_s")
            assert 60 < first < 900
            assert "YK-DAMKAR-01" in page.inner_text(row)
            page.screenshot(path=str(out / "shift_route.png"))

            # a fix over MQTT moves the truck halfway: the route and ETA are recomputed once
            page.evaluate("() => { window.__siaga.shift.routeIntervalMs = 3000; }")
            mid = ((TRUCK[0] + SCENE[0]) / 2, (TRUCK[1] + SCENE[1]) / 2)
            stack.publish_fix("yk-damkar-01", *mid, seq=2)
            page.wait_for_function(f"() => window.__siaga.shift.routes[{assignment}].count >= 2",
                                   timeout=30_000)
            second = page.evaluate(f"() => window.__siaga.shift.routes[{assignment}].eta_s")
            assert second < first
            # throttled: another fix right away does not recompute within the interval
            stack.publish_fix("yk-damkar-01", mid[0] - 0.001, mid[1], seq=3)
            page.wait_for_timeout(1500)
            assert page.evaluate(f"() => window.__siaga.shift.routes[{assignment}].count") == 2

            # permanent call signs, stale-tracker rings
            assert page.evaluate("() => window.__siaga.labelMinZoom") == 0
            page.wait_for_function("() => window.__siaga.shift.trackersLoaded", timeout=20_000)
            page.wait_for_function("() => !!window.__siaga.shift.stale['yk-damkar-02']",
                                   timeout=10_000)
            assert not page.evaluate("() => !!window.__siaga.shift.stale['yk-damkar-01']")

            # agency filter: only PSC 119 units stay on the map, then all again
            page.select_option("#unit-agency-filter", "PSC119")
            shown = page.evaluate("""() => { const s = window.__siaga, C = window.SiagaConsole;
                return Object.keys(s.markers).filter(k => C.layers.units.hasLayer(s.markers[k]))
                    .map(k => s.units[k].agency_code); }""")
            assert shown and set(shown) == {"PSC119"}
            page.select_option("#unit-agency-filter", "")
            assert page.evaluate("""() => { const s = window.__siaga, C = window.SiagaConsole;
                return Object.values(s.markers).every(m => C.layers.units.hasLayer(m)); }""")

            # the handover view, in both languages
            page.click("#handover-open")
            page.wait_for_selector(f'#handover-incidents tr[data-id="{fire["id"]}"]',
                                   timeout=20_000)
            assert "Serah terima giliran jaga" in page.inner_text("#handover")
            page.screenshot(path=str(out / "shift_handover_id.png"))
            page.click("#topbar .lang-switch")
            assert "Shift handover" in page.inner_text("#handover")
            assert "Open incidents" in page.inner_text("#handover-body")
            assert "lang=en" in page.get_attribute("#handover-print", "href")
            printable = ctx.request.get(stack.base + page.get_attribute("#handover-print", "href"))
            assert printable.status == 200 and "Shift handover" in printable.text()
            page.click("#handover-close")
            page.click("#topbar .lang-switch")
            assert not errors, errors

            # the DAMKAR desk: its queue, acknowledge for the agency, then its assignment steps
            desk = browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {role_tokens['agency']}"},
                viewport={"width": 1400, "height": 900}, bypass_csp=True)
            guard_external(desk, external)
            dp = desk.new_page()
            dp.on("pageerror", lambda e: errors.append(str(e)))
            dp.goto(f"{stack.base}/console?region={KAB}")
            item = f'#desk-queue li[data-id="{fire["id"]}"]'
            dp.wait_for_selector(f"{item} button.desk-ack", timeout=30_000)
            assert not dp.is_visible("#calltaker")
            assert dp.locator(f'#desk-queue li[data-id="{medical["id"]}"]').count() == 0
            dp.click(f"{item} button.desk-ack")
            dp.wait_for_selector(f"{item} button.desk-ack", state="detached", timeout=20_000)
            dp.click(f'{item} button.desk-step[data-step="acknowledge"]')
            dp.wait_for_selector(f'{item} button.desk-step[data-step="depart"]', timeout=20_000)
            dp.click(f'{item} button.desk-step[data-step="depart"]')
            dp.wait_for_selector(f'{item} button.desk-step[data-step="depart"]',
                                 state="detached", timeout=20_000)
            dp.screenshot(path=str(out / "shift_desk.png"))
            detail = ops.get(f"/api/v1/incidents/{fire['id']}").json()
            damkar = next(a for a in detail["agencies"] if a["agency"] == "DAMKAR")
            assert damkar["acknowledged_at"] and damkar["acknowledged_by"] == "test_agency"
            mine = next(a for a in detail["assignments"] if a["id"] == assignment)
            assert mine["acknowledged_at"] and mine["departed_at"]
            assert not errors, errors
            assert external == []
        finally:
            browser.close()
            for inc in (fire, medical):
                ops.post(f"/api/v1/incidents/{inc['id']}/status",
                         json={"status": "cancelled", "reason": "test selesai"})
            ops.close()
