"""``siaga analytics`` commands against the test database (the group module is run directly:
wiring it into ``api.cli.COMMAND_MODULES`` is one line for the integrator)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.integration.dispatch.test_analytics_http import KAB, incidents  # noqa: F401


def test_hotspots_time_emerging_and_a_clean_error(database_url, incidents, monkeypatch):  # noqa: F811
    from api.commands.analytics import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    common = ["--region", KAB, "--category", "analytics_http_test"]
    r = runner.invoke(app, ["hotspots", *common, "--permutations", "99"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert sum(d["count"] for d in out["desa"]) == 48
    r = runner.invoke(app, ["time", *common])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["months"] == ["2026-02", "2026-03"]
    r = runner.invoke(app, ["emerging", *common])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["desa"]) == 5
    r = runner.invoke(app, ["time", *common, "--tz", "Mars/Olympus"])
    assert r.exit_code == 1 and "Mars/Olympus" in r.output
