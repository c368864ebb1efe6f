"""The console's incident panel in headless Chromium over a real uvicorn, PostGIS and geocoder
(Kota Yogyakarta): a dispatcher opens an incident, picks a new place on the map and by search,
edits its category and description, overrides the triage with a reason, adds a note, ticks an
SOP step, hands off to 110 with a reference and cancels with a reason, all with the mouse; the
panel's timeline shows each step (in both languages) and the printed sheet holds them."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from dispatch.config import load_config
from dispatch.models import Incident
from dispatch.seed_service import seed_region
from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS
from tests.integration.api.live_server import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KODE = "34.71"
REF = "LP/88/XI/2026/Polresta"


@pytest.fixture
def yogya(engine, pilot_regions):
    with Session(engine) as s:
        seed_region(s, load_config(), KODE)
        s.commit()
    made: list[int] = []
    yield made
    with Session(engine) as s:
        s.execute(delete(Incident).where(Incident.id.in_(made)))
        s.commit()


def test_dispatcher_works_an_incident_through_the_panel(chromium_path, app_factory, role_tokens,
                                                        yogya):
    from playwright.sync_api import sync_playwright

    app = app_factory()
    with serve(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"},
                viewport={"width": 1500, "height": 1000})
            r = ctx.request.post(f"{base}/api/v1/incidents", data={
                "category": "fire", "kode_kab": KODE, "lon": 110.3695, "lat": -7.8014,
                "description": "Asap dari rumah"})
            assert r.status == 201, r.text()
            iid = r.json()["id"]
            yogya.append(iid)
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/console?region={KODE}")
            page.wait_for_selector("#whoami:not(:empty)", timeout=20_000)
            page.click(f'#incident-list li[data-id="{iid}"]', timeout=20_000)
            page.wait_for_selector("#ip-panel:not([hidden]) #ip-category", timeout=10_000)
            assert page.input_value("#ip-description") == "Asap dari rumah"

            def timeline_has(kind: str, text: str) -> None:
                page.wait_for_selector(f'#ip-timeline li[data-kind="{kind}"]:has-text("{text}")',
                                       timeout=15_000)

            # location: a map click in pick mode, then a kelurahan found by name (kept)
            page.click("#ip-pick")
            assert page.inner_text("#ip-picked") == "Klik peta untuk lokasi baru"
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2 + 90, box["y"] + box["height"] / 2 - 70)
            page.wait_for_function(
                "document.getElementById('ip-picked').textContent.includes(',')")
            page.fill("#ip-place", "Suryatmajan")
            page.click("#ip-place-results li >> nth=0", timeout=10_000)
            assert page.inner_text("#ip-picked").startswith("Suryatmajan")
            # category and description, saved together
            page.select_option("#ip-category", "traffic_accident")
            page.fill("#ip-description", "Truk terguling, sopir terjepit")
            page.click("#ip-save")
            timeline_has("edit", "fire → traffic_accident")
            timeline_has("edit", "Truk terguling, sopir terjepit")
            timeline_has("edit", "Suryatmajan")
            # triage override (the new category's agencies, priority 2) with its reason
            page.click("#ip-triage-box summary")
            page.select_option("#ip-priority", "2")
            page.click("#ip-triage-apply")  # no reason: refused in the page
            assert "Alasan wajib diisi" in page.inner_text("#ip-error")
            page.fill("#ip-triage-reason", "korban sadar")
            page.click("#ip-triage-apply")
            timeline_has("triage", "korban sadar")
            page.wait_for_selector('#ip-agencies li[data-agency="POLRI110"] .ip-handoff')
            # the police reference typed first; a note added meanwhile re-draws the panel,
            # and the reference being typed survives it
            page.fill('.ip-ref[data-agency="POLRI110"]', REF)
            page.fill("#ip-note", "Penelepon di lokasi, jalan macet")
            page.click("#ip-note-add")
            timeline_has("note", "Penelepon di lokasi, jalan macet")
            assert page.input_value('.ip-ref[data-agency="POLRI110"]') == REF
            # an SOP step of PSC 119
            page.check('.ip-tick[data-agency="PSC119"][data-step="2"]')
            timeline_has("sop", "PSC119 langkah 2")
            assert page.inner_text("#ip-sop-progress") == "(1/6)"
            # a step ticked by mistake: unticking asks first (dismissed: nothing changes),
            # then undoes it; the tick and its undoing both stay on the timeline
            step3 = '.ip-tick[data-agency="PSC119"][data-step="3"]'
            page.check(step3)
            page.wait_for_selector('#ip-sop-progress:text-is("(2/6)")')
            page.once("dialog", lambda dialog: dialog.dismiss())
            page.click(step3)
            assert page.is_checked(step3) and page.inner_text("#ip-sop-progress") == "(2/6)"
            page.once("dialog", lambda dialog: dialog.accept())
            page.click(step3)
            timeline_has("sop", "PSC119 langkah 3 dibatalkan")
            page.wait_for_selector('#ip-sop-progress:text-is("(1/6)")')
            assert not page.is_checked(step3)
            # hand-off to 110 with the police reference
            assert page.input_value('.ip-ref[data-agency="POLRI110"]') == REF
            page.click('.ip-handoff[data-agency="POLRI110"]')
            timeline_has("handoff", REF)
            # cancel with a reason
            page.fill("#ip-status-reason", "Ditangani Polresta, ambulans tidak diperlukan")
            page.click("#ip-cancel")
            timeline_has("status", "cancelled — Ditangani Polresta")
            kinds = page.eval_on_selector_all(
                "#ip-timeline li", "els => els.map(e => e.getAttribute('data-kind'))")
            assert kinds[0] == "call" and {"edit", "triage", "note", "sop", "handoff",
                                           "status"} <= set(kinds)
            # the same panel in English
            page.click("header .lang-switch")
            page.wait_for_selector('#ip-panel h3:has-text("Incident panel")')
            timeline_has("handoff", f"Handed off to POLRI110, reference {REF}")
            timeline_has("sop", "SOP PSC119 step 2 done")
            page.click("header .lang-switch")
            page.wait_for_selector('#ip-panel h3:has-text("Panel kejadian")')
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "incident_panel.png"))
            # the printable sheet the "Cetak / Print" link opens
            href = page.get_attribute("#ip-print", "href")
            assert href == f"/console/incidents/{iid}/sheet?lang=id"
            sheet = ctx.new_page()
            sheet.goto(f"{base}{href}")
            text = sheet.inner_text("body")
            for expected in ("Lembar kejadian", "Kecelakaan lalu lintas",
                             "Truk terguling, sopir terjepit", "Suryatmajan",
                             "Penelepon di lokasi, jalan macet", REF, "Dibatalkan",
                             "Ditangani Polresta, ambulans tidak diperlukan",
                             "Berangkatkan ambulans terdekat", "korban sadar"):
                assert expected in text, expected
            assert sheet.locator("#sheet-sop tr.done").count() == 1
            assert errors == []
            ctx.close()
        finally:
            browser.close()
