"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` driven by Playwright
(no browser download), with the launch arguments and the hosts a page may reach."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
#: A page may reach only these hosts: every other request is blocked and recorded.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def chromium_path() -> str:
    from tests.conftest import service_missing

    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        service_missing(f"Debian chromium not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        service_missing("the playwright Python package is not installed")
    return CHROMIUM


@pytest.fixture(autouse=True)
def _fleet_back_at_rest(request):
    """After each browser test, the shared test database's fleet is back at rest: the shift
    tests assign units and send them out through the real API (committed), and later tests
    expect every seeded unit available and no assignment active."""
    yield
    if "engine" not in request.fixturenames:
        return
    from sqlalchemy import text

    engine = request.getfixturevalue("engine")
    with engine.begin() as conn:
        conn.execute(text("UPDATE assignment SET status = 'cancelled' WHERE status = 'active'"))
        conn.execute(text("UPDATE unit SET status = 'available' WHERE status <> 'available'"))
