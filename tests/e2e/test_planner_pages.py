"""The Bupati's dashboard and the planners' Gi* map in headless Chromium (Debian chromium),
served by a real uvicorn over real PostGIS: the pages draw their layers and legends from the
app's own Leaflet (no request leaves the machine), and the KPI tiles show the database's figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS, LOCAL_HOSTS
from tests.fixtures.routing import TEST_ROADS_DIR
from tests.integration.api.live_server import serve

KAB = "64.71"
CATEGORY = "planner_pages_test"


@pytest.fixture
def world(engine, pilot_regions, road_build_reports) -> Iterator[dict]:
    """Committed for the test: one post, 12 emergencies of the last week in Balikpapan's first
    kelurahan and 2 in the others, two with a unit on scene (8 and 20 minutes after the call)."""
    now = datetime.now(UTC)
    with Session(engine) as s:
        desa = list(s.execute(text(
            "SELECT d.kode_desa, d.kode_kec, k.nama_kec, ST_X(ST_PointOnSurface(d.geom)), "
            "ST_Y(ST_PointOnSurface(d.geom)) FROM desa d JOIN kecamatan k USING (kode_kec) "
            "WHERE d.kode_kab = :k ORDER BY kode_desa"), {"k": KAB}))
        s.execute(text(
            "INSERT INTO post (kode_kab, agency_code, name, kind, geom) VALUES (:k, 'DAMKAR', "
            "'Pos Uji Dasbor', 'fire_station', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
            {"k": KAB, "x": desa[0][3], "y": desa[0][4]})
        ids = []
        for i, (kode, kec, nama_kec, lon, lat) in enumerate(desa):
            for j in range(12 if i == 0 else 2):
                ids.append(s.execute(text(
                    "INSERT INTO incident (kode_kab, received_at, channel, category, kind, "
                    "status, kode_desa, kode_kec, nama_kec, geom, description, "
                    "triage_overridden) VALUES (:kab, :at, 'phone_112', :cat, 'emergency', "
                    "'new', :kode, :kec, :nk, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), '', "
                    "false) RETURNING id"),
                    {"kab": KAB, "at": now - timedelta(days=1 + j % 5, hours=i), "cat": CATEGORY,
                     "kode": kode, "kec": kec, "nk": nama_kec, "lon": lon, "lat": lat}).scalar())
        s.commit()
    try:
        yield {"incidents": len(ids)}
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM incident WHERE category = :c"), {"c": CATEGORY})
            s.execute(text("DELETE FROM post WHERE name = 'Pos Uji Dasbor'"))
            s.commit()


#: How many polygons the page's Leaflet map holds (the maps draw on a canvas: no SVG paths).
DRAWN_JS = """() => { const maps = Object.values(window).filter(v => v instanceof L.Map);
    let n = 0; for (const m of maps) m.eachLayer(l => { if (l instanceof L.Polygon) n++; });
    return n; }"""


def _open(pw, chromium_path: str, url: str, token: str, shot: str):
    browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    ctx = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"},
                              viewport={"width": 1400, "height": 900})
    external: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # the first Gi* request of a process compiles esda's kernels (~15 s, more on a busy machine)
    response = page.goto(url, timeout=180_000)
    assert response is not None and response.status == 200, url
    try:
        page.wait_for_function(f"() => ({DRAWN_JS})() > 0", timeout=20_000)
    except Exception as exc:  # noqa: BLE001 - report what the page said
        raise AssertionError(f"{url}: no map layer drawn; page errors: {errors}, "
                             f"blocked: {external}") from exc
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot))
    return browser, page, external


def test_dashboard_and_gi_map_in_chromium(chromium_path, world, app_factory, role_tokens):
    from playwright.sync_api import sync_playwright

    app = app_factory(roads_dir=TEST_ROADS_DIR)
    with serve(app) as base, sync_playwright() as pw:
        browser, page, external = _open(
            pw, chromium_path, f"{base}/maps/dashboard?kode_kab={KAB}", role_tokens["viewer"],
            "dashboard.png")
        tiles = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
            '.tile')].map(t => [t.dataset.kpi, t.querySelector('.v').textContent]))""")
        assert int(tiles["emergencies"].replace(",", "")) >= world["incidents"]
        assert set(tiles) == {"calls", "non_incident", "emergencies", "complaints", "mean",
                              "p90", "sla", "covered"}
        legends = page.locator(".legend").all_inner_texts()
        assert any("Waktu respons per kecamatan" in t for t in legends)
        assert any("Cakupan desa dari pos" in t for t in legends)
        assert page.locator("table.gaps tr").count() >= 2  # a header and at least one gap
        # the kecamatan choropleth is drawn (Balikpapan Kota: one kecamatan); the desa coverage
        # layer is offered in the layer control and draws every kelurahan when switched on
        assert page.evaluate(DRAWN_JS) == 1
        page.locator(".leaflet-control-layers").hover()
        page.get_by_text("Cakupan desa dari pos (porsi dalam batas SLA)", exact=True).last.click()
        page.wait_for_function(f"() => ({DRAWN_JS})() >= 6", timeout=5_000)
        assert page.locator("canvas").count() >= 1
        assert external == []
        browser.close()

        browser, page, external = _open(
            pw, chromium_path, f"{base}/maps/hotspots/gi?kode_kab={KAB}&days=30"
            f"&category={CATEGORY}&permutations=99&lang=en", role_tokens["planner"], "gi.png")
        legend = page.locator("text=Hot spot 99% confidence").count()
        assert legend == 1
        assert page.evaluate(DRAWN_JS) >= 5  # every kelurahan drawn
        assert external == []
        browser.close()


@pytest.fixture
def notified(engine, pilot_regions) -> Iterator[int]:
    """A committed incident of Kota Yogyakarta with DAMKAR's standby line reached by SMS (and a
    failed webhook) and BPBD's email still failing."""
    from dispatch.config import load_config
    from dispatch.seed_service import fleet_path, seed_region

    now = datetime.now(UTC)
    with Session(engine) as s:
        seed_region(s, load_config(), "34.71", fleet=fleet_path("34.71"))
        inc = s.execute(text(
            "INSERT INTO incident (kode_kab, received_at, channel, category, kind, status, "
            "geom, description, triage_overridden) VALUES ('34.71', :at, 'phone_112', :cat, "
            "'emergency', 'new', ST_SetSRID(ST_MakePoint(110.37, -7.80), 4326), '', false) "
            "RETURNING id"), {"at": now, "cat": CATEGORY}).scalar()
        for agency, kind, target, status in (("DAMKAR", "sms", "+6281234567890", "sent"),
                                             ("DAMKAR", "webhook", "https://x.go.id/h", "failed"),
                                             ("BPBD", "email", "piket@bpbd.go.id", "failed")):
            ch = s.execute(text(
                "INSERT INTO agency_channel (kode_kab, agency_id, kind, target, secret) SELECT "
                "'34.71', id, :k, :t, 'secret-secret-secret' FROM agency WHERE kode_kab = "
                "'34.71' AND code = :a RETURNING id"), {"k": kind, "t": target, "a": agency}
            ).scalar()
            s.execute(text(
                "INSERT INTO notification (kode_kab, agency_id, channel_id, incident_id, kind, "
                "subject, text, payload, status, attempts, created_at, sent_at) SELECT '34.71', "
                "agency_id, id, :inc, 'escalation', 's', 't', '{}', :st, 1, :now, :sent "
                "FROM agency_channel WHERE id = :ch"),
                {"inc": inc, "st": status, "now": now, "ch": ch,
                 "sent": now if status == "sent" else None})
        s.commit()
    try:
        yield inc
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM incident WHERE category = :c"), {"c": CATEGORY})
            s.execute(text("DELETE FROM agency_channel WHERE target IN ('+6281234567890', "
                           "'https://x.go.id/h', 'piket@bpbd.go.id')"))
            s.commit()


def test_console_shows_whether_the_standby_lines_were_reached(chromium_path, notified,
                                                               app_factory, role_tokens):
    from playwright.sync_api import sync_playwright

    with serve(app_factory()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        ctx = browser.new_context(
            extra_http_headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"})
        page = ctx.new_page()
        page.goto(f"{base}/?region=34.71")
        page.wait_for_function("() => window.__siaga && window.__siaga.loadStandby", timeout=20_000)
        page.evaluate("(id) => { window.__siaga.selected = String(id); "
                      "document.getElementById('selected').hidden = false; "
                      "return window.__siaga.loadStandby(id); }", notified)
        page.wait_for_selector("#standby li.standby", timeout=10_000)
        rows = dict(page.evaluate("""() => [...document.querySelectorAll('#standby li')]
            .map(li => [li.dataset.agency, li.textContent])"""))
        assert rows["DAMKAR"] == "DAMKAR — terjangkau (sms)"
        assert rows["BPBD"] == "BPBD — gagal dihubungi"
        assert page.locator("h3[data-i18n=standby_lines]").inner_text() == "Jalur piket OPD"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "standby.png"))
        browser.close()


def test_non_incident_calls_in_one_keystroke(chromium_path, engine, pilot_regions, app_factory,
                                             role_tokens):
    from playwright.sync_api import sync_playwright

    with Session(engine) as s:
        s.execute(text("DELETE FROM call_log WHERE kode_kab = '34.71' AND note = ''"))
        s.commit()
    with serve(app_factory()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        ctx = browser.new_context(
            extra_http_headers={"Authorization": f"Bearer {role_tokens['dispatcher']}"})
        page = ctx.new_page()
        page.goto(f"{base}/?region=34.71")
        page.wait_for_function("() => window.__siaga && window.__siaga.me", timeout=20_000)
        page.fill("#caller", "081234567890")
        page.keyboard.press("Alt+1")  # prank
        page.wait_for_selector("#notice:not([hidden])", timeout=10_000)
        assert page.inner_text("#notice") == "Panggilan dicatat: Iseng"
        assert page.input_value("#caller") == ""
        page.keyboard.press("Alt+4")  # wrong number
        page.get_by_role("button", name="Diam").click()
        page.wait_for_function("""async () => { const r = await fetch(
            '/api/v1/calls/counts?kode_kab=34.71&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z');
            const c = await r.json(); return c.total >= 3; }""", timeout=10_000)
        browser.close()
    with Session(engine) as s:
        kinds = dict(s.execute(text(
            "SELECT kind, count(*) FROM call_log WHERE kode_kab = '34.71' GROUP BY kind")).all())
        phones = s.scalars(text("SELECT caller_phone FROM call_log WHERE kind = 'prank'")).all()
    assert kinds == {"prank": 1, "wrong_number": 1, "silent": 1}
    assert "081234567890" in phones
