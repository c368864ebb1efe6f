"""A shift played through the console in headless Chromium, against a real uvicorn, PostGIS,
the real geocoder and road network of Kota Yogyakarta, the real broker and ingest worker:

1. a call: a traffic accident in Kelurahan Suryatmajan, placed by name, triaged (PSC 119 and
   Dishub send units, Polri 110 takes a hand-off);
2. a second call about the same accident: the console offers the open incident as a probable
   duplicate and the call is attached to it;
3. a prank call, logged with one click;
4. the hand-off to 110 recorded with its reference number;
5. the nearest PSC ambulance assigned from the recommendations;
6. the PSC 119 standby line does not acknowledge: the escalation (the worker's check, clock
   passed in) is delivered by SMS into a Gammu spool directory and by email to a local SMTP
   server (aiosmtpd), and the console shows the line reached;
7. GPS fixes published over MQTT bring the ambulance on scene: the arrival is verified from the
   track and shown in the console;
8. the unit clears and the incident is closed with a reason;
9. the handover: the closed incident is gone from the open list, in both languages, and the
   printable page.
A screenshot per step goes to ``$SIAGA_ARTIFACTS`` (default: a temporary directory)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from tests.e2e.conftest import CHROMIUM_ARGS
from tests.e2e.shift_stack import shift_stack
from tests.e2e.test_shift_console import KAB, artifacts_dir, guard_external, reset_fleet
from tests.integration.api.live_server import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    box, port = _Mailbox(), free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


def _escalate_and_deliver(engine, smtp_port: int, spool, at: datetime) -> dict[str, int]:
    """What ``siaga worker`` does on its timers: the escalation check, then the deliveries."""
    from api.db import make_sessionmaker
    from api.notify import NotifyConfig, deliver_due
    from dispatch.config import load_config
    from dispatch.escalation_service import check_escalations
    from dispatch.scoping import EVERYTHING

    with Session(engine) as s:
        check_escalations(s, config=load_config(), now=at, kode_kab=KAB, scope=EVERYTHING)
        s.commit()
    cfg = NotifyConfig(smtp_host="127.0.0.1", smtp_port=smtp_port, sms_spool_dir=str(spool))
    return deliver_due(make_sessionmaker(engine), cfg, now=at)


def test_a_shift_through_the_console(chromium_path, settings, database_url, engine, mqtt_url,
                                     console_world, role_tokens, smtp, tmp_path):
    from playwright.sync_api import sync_playwright

    out = artifacts_dir()
    box, smtp_port = smtp
    spool = tmp_path / "outbox"
    spool.mkdir()
    units = reset_fleet(engine)
    token = uuid.uuid4().hex[:6]
    email, phone = f"piket-{token}@psc119.test", f"+62812{uuid.uuid4().int % 10**7:07d}"
    shots = iter(range(1, 100))

    def shot(page, name: str) -> None:
        page.screenshot(path=str(out / f"shift_{next(shots):02d}_{name}.png"))

    with shift_stack(settings=settings, database_url=database_url, engine=engine,
                     mqtt_url=mqtt_url, roads_dir=console_world) as stack, \
            sync_playwright() as pw:
        api = httpx.Client(base_url=stack.base, timeout=30,
                           headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"})
        admin = httpx.Client(base_url=stack.base, timeout=30,
                             headers={"Authorization": f"Bearer {role_tokens['admin']}"})
        for kind, target in (("email", email), ("sms", phone)):  # the standby line (set-up)
            r = admin.post("/api/v1/agencies/channels", json={
                "kode_kab": KAB, "agency_code": "PSC119", "kind": kind, "target": target})
            assert r.status_code in (200, 201), r.text
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        external: list[str] = []
        errors: list[str] = []
        incident = None
        try:
            ctx = browser.new_context(
                extra_http_headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"},
                viewport={"width": 1400, "height": 1000}, bypass_csp=True)
            guard_external(ctx, external)
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{stack.base}/console?region={KAB}")
            page.wait_for_selector("#whoami:not(:empty)", timeout=20_000)

            def place(name: str) -> None:
                page.fill("#place", name)
                page.wait_for_selector("#place-results li", timeout=20_000)
                page.click("#place-results li >> nth=0")
                page.wait_for_function("() => !!window.__siaga.picked", timeout=5_000)

            # 1. the first call
            page.fill("#caller", "081234567890")
            place("Suryatmajan")
            page.select_option("#category", "traffic_accident")
            page.fill("#description", "Tabrakan motor dan mobil, satu korban")
            page.click("#create-incident")
            page.wait_for_function("() => window.__siaga.selected && window.__siaga.incidents["
                                   "window.__siaga.selected].status === 'triaged'",
                                   timeout=20_000)
            incident = int(page.evaluate("() => window.__siaga.selected"))
            detail = api.get(f"/api/v1/incidents/{incident}").json()
            assert detail["nama_desa"] == "Suryatmajan"
            assert {a["agency"] for a in detail["agencies"]} >= {"PSC119", "DISHUB", "POLRI110"}
            shot(page, "call")

            # 2. the same accident again: offered as a duplicate, the call is attached
            page.keyboard.press("F2")
            page.fill("#caller", "081298765432")
            place("Suryatmajan")
            page.select_option("#category", "traffic_accident")
            attach = f'#ct-duplicates button.ct-attach[data-id="{incident}"]'
            page.wait_for_selector(attach, timeout=20_000)
            shot(page, "duplicate")
            page.click(attach)
            page.wait_for_function(f"""async () => {{ const r = await fetch(
                '/api/v1/incidents/{incident}/calls'); const d = await r.json();
                return (d.calls || d.items || d).length >= 1; }}""", timeout=20_000)
            listed = api.get("/api/v1/incidents", params={"kode_kab": KAB, "status": "triaged"})
            assert sum(i["category"] == "traffic_accident" and i.get("nama_desa") == "Suryatmajan"
                       for i in listed.json()["incidents"]) == 1  # no second incident

            # 3. a prank call, one click
            page.click('#non-incident button.call-kind[data-kind="prank"]')
            page.wait_for_function("() => !document.getElementById('notice').hidden && "
                                   "document.getElementById('notice').textContent"
                                   ".includes('Iseng')", timeout=10_000)
            shot(page, "prank")

            # 4. the hand-off to Polri 110, with its reference
            page.click(f'#incident-list li[data-id="{incident}"]')
            page.wait_for_selector('#ip-agencies .ip-ref[data-agency="POLRI110"]',
                                   timeout=20_000)
            # the panel redraws its agency list when the incident refreshes, which empties a
            # reference being typed: type and send it again until it is recorded (as a user would)
            done = f"""() => ((window.__siaga.incidents[{incident}].agencies || [])
                .find(a => a.agency === 'POLRI110') || {{}}).handoff_ref === 'LP/112/XI/2026'"""
            for _ in range(6):
                ref = page.locator('#ip-agencies .ip-ref[data-agency="POLRI110"]')
                if not ref.count():
                    break
                ref.fill("LP/112/XI/2026")
                page.click('#ip-agencies button.ip-handoff[data-agency="POLRI110"]')
                try:
                    page.wait_for_function(done, timeout=4_000)
                    break
                except Exception:  # noqa: BLE001 - emptied by a redraw: try again
                    continue
            page.wait_for_function(done, timeout=10_000)
            shot(page, "handoff")

            # 5. the ambulance from the recommendations
            assign = f'#recommendations button.assign[data-unit="{units["YK-PSC-01"]}"]'
            page.wait_for_selector(assign, timeout=30_000)
            page.click(assign)
            page.wait_for_function(f"""() => (window.__siaga.incidents[{incident}].assignments
                || []).some(a => a.unit_id === {units["YK-PSC-01"]})""", timeout=20_000)
            assignment = next(a for a in api.get(f"/api/v1/incidents/{incident}").json()[
                "assignments"] if a["unit_id"] == units["YK-PSC-01"])
            shot(page, "assigned")

            # 6. PSC 119 does not acknowledge: escalated, by SMS and email
            later = datetime.now(UTC) + timedelta(minutes=10)
            counts = _escalate_and_deliver(engine, smtp_port, spool, later)
            assert counts["sent"] >= 2, counts
            sms = [p for p in spool.iterdir() if f"_{phone}_siaga" in p.name]
            assert any("ESKALASI 112: PSC119" in p.read_text() and f"#{incident}" in p.read_text()
                       for p in sms), [p.read_text() for p in sms]
            mails = [c for to, c in box.messages if to == [email]]
            assert any(b"ESKALASI" in c for c in mails)
            page.click(f'#incident-list li[data-id="{incident}"]')
            page.wait_for_selector('#standby li.standby_reached[data-agency="PSC119"]',
                                   timeout=20_000)
            shot(page, "escalated")

            # 7. GPS fixes over MQTT: the ambulance dwells on scene, arrival verified
            # (fixes after the dispatch and not in the future: the track is read up to now)
            scene = detail["location"]
            start = datetime.fromisoformat(assignment["dispatched_at"])
            wait_s = (start + timedelta(seconds=44) - datetime.now(UTC)).total_seconds()
            if wait_s > 0:
                page.wait_for_timeout(wait_s * 1000)
            for k in range(5):
                stack.publish_fix("yk-psc-01", scene["lon"] + 0.00005 * (k % 2), scene["lat"],
                                  seq=100 + k, at=start + timedelta(seconds=2 + 10 * k),
                                  speed_mps=0.3)
            # the worker verifies the arrival from the stored track (its arrival event goes to
            # the broker's unprefixed topic, outside this stack's live feed): the dispatcher
            # opens the incident again and sees it
            for _ in range(60):
                got = api.get(f"/api/v1/incidents/{incident}").json()["assignments"]
                if any(a["id"] == assignment["id"] and a["arrival_source"] == "gps" for a in got):
                    break
                page.wait_for_timeout(1000)
            page.click(f'#incident-list li[data-id="{incident}"]')
            page.wait_for_function(f"""() => (window.__siaga.incidents[{incident}].assignments
                || []).some(a => a.id === {assignment["id"]} && a.arrival_source === 'gps')""",
                                   timeout=20_000)
            page.wait_for_selector('#timeline li[data-action="arrive:gps"]', timeout=20_000)
            shot(page, "arrived")

            # 8. the unit clears, the incident is closed with a reason
            page.click(f'#assignments button.step[data-assignment="{assignment["id"]}"]'
                       '[data-step="clear"]')
            page.wait_for_function(f"""() => (window.__siaga.incidents[{incident}].assignments
                || []).every(a => a.cleared_at)""", timeout=20_000)
            page.fill("#ip-status-reason", "Korban dibawa ke RSUP Sardjito, jalan dibuka")
            page.click("#ip-close")
            page.wait_for_function(f"() => window.__siaga.incidents[{incident}].status === "
                                   "'closed'", timeout=20_000)
            shot(page, "closed")

            # 9. the handover for the next shift
            page.click("#handover-open")
            page.wait_for_selector("#handover-incidents", timeout=20_000)
            assert page.locator(f'#handover-incidents tr[data-id="{incident}"]').count() == 0
            summary = api.get("/api/v1/handover", params={"kode_kab": KAB}).json()
            assert incident not in {i["id"] for i in summary["incidents"]}
            shown = page.locator("#handover-incidents tr[data-id]").count()
            assert shown == summary["counts"]["open"]
            shot(page, "handover")
            page.click("#topbar .lang-switch")
            assert "Shift handover" in page.inner_text("#handover")
            shot(page, "handover_en")
            printable = ctx.new_page()
            printable.goto(stack.base + page.get_attribute("#handover-print", "href"))
            assert "Shift handover" in printable.inner_text("h1")
            printable.screenshot(path=str(out / "shift_handover_print.png"), full_page=True)

            trail = [e["action"] for e in api.get(f"/api/v1/incidents/{incident}").json()[
                "timeline"]]
            for action in ("create", "triage", "handoff", "assign", "escalate", "arrive:gps",
                           "clear", "status:closed"):
                assert action in trail, (action, trail)
            assert not errors, errors
            assert external == []
        finally:
            browser.close()
            if incident is not None:
                api.post(f"/api/v1/incidents/{incident}/status",
                         json={"status": "cancelled", "reason": "test selesai"})
            api.close()
            admin.close()
