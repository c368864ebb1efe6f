"""The console marks drills: in headless Chromium (Debian chromium) over a real uvicorn and real
PostGIS, a drill incident of Kabupaten Bangli is listed with the "LATIHAN / DRILL" banner and the
selected view says it too, while a real incident beside it carries none."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from sqlalchemy.orm import Session

from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS, LOCAL_HOSTS
from tests.integration.api.live_server import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KAB = "51.06"
SCENE = {"lon": 115.3590, "lat": -8.4560}


def test_drill_incidents_carry_the_banner_in_the_console(chromium_path, app_factory,
                                                        role_tokens, engine, pilot_regions):
    from fastapi.testclient import TestClient
    from playwright.sync_api import sync_playwright

    from dispatch.drill import purge_drills
    from dispatch.scope import Scope

    token = role_tokens["dispatcher"]
    app = app_factory()
    try:
        with serve(app) as base, sync_playwright() as pw:
            with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
                drill = c.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KAB,
                                                          "drill": True, **SCENE}).json()
                real = c.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KAB,
                                                         **SCENE}).json()
            assert drill["drill"] is True and real["drill"] is False
            browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            ctx = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"},
                                      viewport={"width": 1400, "height": 900})
            external: list[str] = []

            def guard(route):
                if (urlparse(route.request.url).hostname or "") in LOCAL_HOSTS:
                    route.continue_()
                else:
                    external.append(route.request.url)
                    route.abort()

            ctx.route("**/*", guard)
            page = ctx.new_page()
            page.goto(f"{base}/console?region={KAB}")
            page.wait_for_selector(f'#incident-list li[data-id="{drill["id"]}"]',
                                   timeout=20_000)
            item = page.locator(f'#incident-list li[data-id="{drill["id"]}"]')
            assert "LATIHAN / DRILL" in item.inner_text()
            assert "drill" in (item.get_attribute("class") or "")
            other = page.locator(f'#incident-list li[data-id="{real["id"]}"]')
            assert "LATIHAN" not in other.inner_text()
            item.click()
            page.wait_for_selector("#selected-title.drill", timeout=10_000)
            assert page.inner_text("#selected-title").startswith("LATIHAN / DRILL")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "drill_banner.png"))
            assert external == []
            browser.close()
    finally:
        with Session(engine) as s:
            purge_drills(s, scope=Scope.everything(), kode_kab=KAB, actor="pytest")
            s.commit()
