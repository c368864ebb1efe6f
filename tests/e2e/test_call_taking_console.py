"""Call taking in headless Chromium (Debian chromium) over a real uvicorn and real PostGIS, in
Kota Yogyakarta, with the keyboard only: a call taker logs in, presses F2, types the caller's
number, a kelurahan picked from the suggestions with the arrow keys, the category, a description
and Ctrl+Enter: the incident is created (the time from F2 to the created incident is printed).
A second call at the same place and category shows the first incident as a probable duplicate;
Alt+G attaches it there (checked through the API: one more call, no new incident). The queue
puts an incident whose SLA is already breached first, in red, with the alert banner and its
beep, as does an OPD that has not acknowledged in time; Alt+K silences them, and a later
escalation sounds again. The same console in English. No mouse event reaches the page."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS
from tests.fixtures.console import TEST_PASSWORD
from tests.integration.api.live_server import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KAB = "34.71"
#: Tugu and Jalan Malioboro: scenes of the queue's fire (breached) and flood.
TUGU = {"lon": 110.36708, "lat": -7.78293}
MALIOBORO = {"lon": 110.36590, "lat": -7.79270}
CANCEL = {"status": "cancelled", "reason": "uji otomatis"}
#: Counts mouse events reaching the page (a keyboard's Enter fires no mousedown/pointerdown).
COUNT_MOUSE = """
document.addEventListener("DOMContentLoaded", function () {
  var n = 0, root = document.documentElement; root.setAttribute("data-mouse", "0");
  ["mousedown", "pointerdown", "mouseup", "wheel"].forEach(function (t) {
    window.addEventListener(t, function () { root.setAttribute("data-mouse", String(++n)); }, true);
  });
});
"""


def _ids_in_list(page) -> list[int]:
    return [int(x) for x in page.locator("#incident-list li").evaluate_all(
        "els => els.map(e => e.getAttribute('data-id'))")]


def test_keyboard_call_duplicate_attach_queue_and_breach_alert(
        chromium_path, app_factory, role_tokens, console_world, engine):
    from fastapi.testclient import TestClient
    from playwright.sync_api import sync_playwright
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from dispatch.models import IncidentAgency

    token = role_tokens["dispatcher"]
    app = app_factory(roads_dir=console_world)
    created: list[int] = []
    with serve(app) as base, TestClient(
            app, headers={"Authorization": f"Bearer {token}"}) as api:
        def incident(category: str, minutes_ago: float, where: dict) -> int:
            received = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
            r = api.post("/api/v1/incidents", json={"kode_kab": KAB, "category": category,
                                                    "received_at": received, **where})
            assert r.status_code == 201, r.text
            created.append(r.json()["id"])
            assert api.post(f"/api/v1/incidents/{created[-1]}/triage", json={}).status_code == 200
            return created[-1]

        try:
            # seed: a fire reported 20 min ago (Damkar's 15 min from the report: breached)
            breached = incident("fire", 20, TUGU)
            flood = incident("flood", 0, MALIOBORO)
            with Session(engine) as s:  # the flood's standby lines: notified 10 min ago, silent
                s.execute(update(IncidentAgency).where(IncidentAgency.incident_id == flood,
                                                       IncidentAgency.role == "standby")
                          .values(notified_at=datetime.now(UTC) - timedelta(minutes=10)))
                s.commit()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                ctx.add_init_script(COUNT_MOUSE)
                page = ctx.new_page()
                page.goto(f"{base}/console?region={KAB}")
                kb = page.keyboard
                # log in with the keyboard: the login card holds the first fields of the page
                page.wait_for_selector("#login:not([hidden])", timeout=20_000)
                kb.press("Tab")
                kb.type("test_dispatcher")
                kb.press("Tab")
                kb.type(TEST_PASSWORD)
                kb.press("Enter")
                page.wait_for_selector("#whoami:not(:empty)", timeout=20_000)
                page.wait_for_selector(f'#incident-list li.q-item[data-id="{breached}"]',
                                       timeout=20_000)

                # 1. the first call, keyboard only
                t0 = time.monotonic()
                kb.press("F2")
                assert page.evaluate("document.activeElement.id") == "caller"
                kb.type("081234500011")
                assert page.get_attribute("#ct-callback", "href") == "tel:081234500011"
                kb.press("Tab")
                assert page.evaluate("document.activeElement.id") == "place"
                kb.type("Suryatmajan")
                page.wait_for_selector("#place-results li", timeout=10_000)
                kb.press("ArrowDown")
                assert "active" in (page.get_attribute("#place-results li", "class") or "")
                kb.press("Enter")
                assert page.evaluate("document.activeElement.id") == "category"
                assert "Suryatmajan" in page.input_value("#place")
                kb.type("Hewan")
                assert page.input_value("#category") == "animal"
                kb.press("Tab")
                kb.press("Tab")
                assert page.evaluate("document.activeElement.id") == "description"
                kb.type("Kucing terjebak di atap rumah")
                with page.expect_response(lambda r: r.url.endswith("/api/v1/incidents")
                                          and r.request.method == "POST") as resp:
                    kb.press("Control+Enter")
                first = resp.value.json()
                created.append(first["id"])
                assert resp.value.status == 201 and first["category"] == "animal"
                assert first["nama_desa"] == "Suryatmajan"
                page.wait_for_selector(f'#incident-list li[data-id="{first["id"]}"]',
                                       timeout=10_000)
                elapsed_s = time.monotonic() - t0
                print(f"call form opened to incident #{first['id']} created: {elapsed_s:.2f} s")
                # a sanity bound, not a benchmark (about 4 s on a quiet machine; the 2-core test
                # machine under other suites' load has taken up to 10 s)
                assert elapsed_s < 15

                # 2. a second call, same place and category: a probable duplicate
                before = {i["id"] for i in api.get("/api/v1/incidents", params={
                    "kode_kab": KAB, "limit": 1000}).json()["incidents"]}
                kb.press("F2")
                kb.type("081299990022")
                kb.press("Tab")
                kb.type("Suryatmajan")
                page.wait_for_selector("#place-results li", timeout=10_000)
                kb.press("ArrowDown")
                kb.press("Enter")
                kb.type("Hewan")  # within a second of the first call's: a fresh type-ahead
                assert page.input_value("#category") == "animal"
                page.wait_for_selector(f'#ct-duplicates .ct-dup[data-id="{first["id"]}"]',
                                       timeout=10_000)
                kb.press("Tab")
                kb.press("ArrowDown")  # channel: WhatsApp
                assert page.input_value("#channel") == "whatsapp"
                kb.press("Tab")
                kb.type("Penelepon kedua, kucing yang sama")
                with page.expect_response(lambda r: r.url.endswith(f"/{first['id']}/calls")
                                          and r.request.method == "POST") as resp:
                    kb.press("Alt+g")
                assert resp.value.status == 201
                page.wait_for_selector('#timeline li[data-action="call_attach"]',
                                       timeout=10_000)
                calls = api.get(f"/api/v1/incidents/{first['id']}/calls").json()["calls"]
                assert [(c["channel"], c["caller_phone"]) for c in calls] == [
                    ("whatsapp", "081299990022")]
                assert calls[0]["note"] == "Penelepon kedua, kucing yang sama"
                after = {i["id"] for i in api.get("/api/v1/incidents", params={
                    "kode_kab": KAB, "limit": 1000}).json()["incidents"]}
                assert after == before  # no new incident

                # 3. the queue: priority, then SLA time left; the breach in red, with alert
                page.wait_for_selector(f'#incident-list li.q-item[data-id="{first["id"]}"]',
                                       timeout=20_000)
                mine = [i for i in _ids_in_list(page) if i in {breached, flood, first["id"]}]
                assert mine == [breached, flood, first["id"]]  # P1 breached, P2, P3
                row = page.locator(f'#incident-list li[data-id="{breached}"]')
                assert "q-breached" in (row.get_attribute("class") or "")
                assert row.locator(".q-badge").inner_text().startswith("P1")
                page.wait_for_selector("#ct-alert:not([hidden])", timeout=10_000)
                alerts = page.inner_text("#ct-alert-list")
                assert f"SLA terlampaui: #{breached}" in alerts
                assert f"PSC119 belum konfirmasi: #{flood}" in alerts  # OPD late to acknowledge
                beeps = int(page.get_attribute("#ct-alert", "data-beeps") or 0)
                assert beeps >= 1
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "call_taking.png"))
                kb.press("Alt+k")  # acknowledged: silenced, and it stays so
                page.wait_for_selector("#ct-alert", state="hidden", timeout=5_000)
                page.wait_for_timeout(1500)
                assert page.is_hidden("#ct-alert")
                assert page.get_attribute("html", "data-mouse") == "0"

                # 4. an escalation (live event, then the queue) sounds again after the silence
                r = api.post("/api/v1/escalations/check", params={"kode_kab": KAB})
                assert flood in {e["incident_id"] for e in r.json()["escalated"]}
                page.wait_for_selector("#ct-alert:not([hidden])", timeout=20_000)
                assert f"Eskalasi PSC119: #{flood}" in page.inner_text("#ct-alert-list")
                # raised by the live WebSocket's escalation event (before the queue's refresh)
                assert page.get_attribute(f'#ct-alert-list li[data-key="esc:{flood}:PSC119"]',
                                          "data-via") == "live"
                assert int(page.get_attribute("#ct-alert", "data-beeps") or 0) > beeps

                # 5. in English: the same queue, hints and alert (silenced ones stay silent)
                page.evaluate("localStorage.setItem('siaga.lang', 'en')")
                page.reload()
                page.wait_for_selector(f'#incident-list li.q-item[data-id="{breached}"]',
                                       timeout=20_000)
                badge = page.inner_text(f'#incident-list li[data-id="{breached}"] .q-badge')
                assert badge.startswith("P1") and badge.endswith("overdue")
                assert page.inner_text(".ct-keys").startswith("Enter: save")
                page.wait_for_selector("#ct-alert:not([hidden])", timeout=20_000)
                alerts = page.inner_text("#ct-alert-list")
                assert f"Escalated PSC119: #{flood}" in alerts and "SLA breached" not in alerts
                assert page.inner_text("#ct-alert-ack") == "Acknowledge & silence (Alt+K)"
                browser.close()
        finally:
            for incident_id in created:
                api.post(f"/api/v1/incidents/{incident_id}/status", json=CANCEL)
