"""The console's monthly report button: in headless Chromium over a real uvicorn and PostGIS, a
viewer (the Bupati's office) sees it and the request it sends returns the PDF of the fixture
month; a dispatcher does not see it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, CHROMIUM_ARGS
from tests.integration.api.live_server import serve
from tests.integration.dispatch.report_month import report_month  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_viewer_downloads_the_monthly_pdf_dispatcher_has_no_button(
        chromium_path, app_factory, role_tokens, report_month):  # noqa: F811
    from playwright.sync_api import sync_playwright

    app = app_factory()
    with serve(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for role, visible in (("viewer", True), ("dispatcher", False)):
                ctx = browser.new_context(
                    extra_http_headers={"Authorization": f"Bearer {role_tokens[role]}"},
                    viewport={"width": 1400, "height": 900})
                page = ctx.new_page()
                page.goto(f"{base}/console?region={report_month.kode_kab}")
                page.wait_for_selector("#whoami:not(:empty)", timeout=20_000)
                assert page.is_visible("#report-form") is visible, role
                if visible:
                    assert page.inner_text("#report-download") == "Unduh"
                    page.fill("#report-month", report_month.month)
                    page.select_option("#report-format", "pdf")
                    # the request the form sends (its action and fields), with the page's login
                    fields = {name: page.input_value(f"#report-form [name={name}]")
                              for name in ("kode_kab", "month", "format", "lang")}
                    assert fields == {"kode_kab": report_month.kode_kab,
                                      "month": report_month.month, "format": "pdf",
                                      "lang": "id"}
                    action = page.get_attribute("#report-form", "action")
                    r = ctx.request.get(f"{base}{action}", params=fields)
                    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
                    assert r.body()[:5] == b"%PDF-"
                    ARTIFACTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / "report_button.png"))
                ctx.close()
        finally:
            browser.close()
