"""``siaga drill purge`` and the checks of ``siaga drill run`` before anything is played, against
the test database (committed rows of a drill; the purge itself removes them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dispatch.models import AuditLog, Incident

KAB = "99.07"  # a test-only region: the purges touch nothing else


def _drill(engine) -> int:
    with Session(engine) as s:
        inc = Incident(kode_kab=KAB, received_at=datetime(2026, 9, 1, tzinfo=UTC),
                       channel="phone_112", category="fire", status="new", drill=True)
        s.add(inc)
        s.commit()
        return inc.id


def test_purge_command_and_bad_scenarios(database_url, engine, monkeypatch, tmp_path):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    old, new = _drill(engine), None
    with Session(engine) as s:
        new = Incident(kode_kab=KAB, received_at=datetime(2026, 10, 1, tzinfo=UTC),
                       channel="phone_112", category="fire", status="new", drill=True)
        s.add(new)
        s.commit()
        new = new.id
    r = runner.invoke(app, ["drill", "purge", "--region", KAB, "--before", "2026-09-15T00:00:00"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["incident_ids"] == [old]
    r = runner.invoke(app, ["drill", "purge", "--region", KAB])
    assert r.exit_code == 0 and new in json.loads(r.output)["incident_ids"]
    with Session(engine) as s:
        assert s.get(Incident, old) is None and s.get(Incident, new) is None
        purges = s.scalars(select(AuditLog).where(AuditLog.action == "purge_drills",
                                                  AuditLog.actor == "cli:drill-purge")).all()
        assert {i for p in purges for i in p.after["incident_ids"]} >= {old, new}
    r = runner.invoke(app, ["drill", "purge", "--region", KAB, "--exercise", "2147483000"])
    assert r.exit_code == 1 and "not found" in r.output
    # an invalid scenario is refused as a whole, every problem named, nothing played
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nkode_kab: '51.06'\ncalls: [{id: a, category: fire}]\n"
                   "expect: [{call: b, agency: X, acknowledged_within_s: 5}]\n")
    r = runner.invoke(app, ["drill", "run", str(bad)])
    assert r.exit_code == 1
    assert "give lon/lat or place" in r.output and "unknown call 'b'" in r.output
    r = runner.invoke(app, ["drill", "run", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 1 and "cannot read scenario" in r.output


def test_run_without_a_platform_stops_with_a_clear_message(database_url, engine, pilot_regions,
                                                            monkeypatch, tmp_path):
    """No API listening: the runner says what is missing instead of a traceback."""
    import socket

    from api.cli import app
    from dispatch.config import load_config
    from dispatch.seed_service import fleet_path, seed_region

    with Session(engine) as s:  # Bangli's agencies and fleet (an idempotent upsert)
        seed_region(s, load_config(), "51.06", fleet=fleet_path("51.06"))
        s.commit()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    monkeypatch.setenv("SIAGA_MQTT_URL", f"mqtt://127.0.0.1:{port}")
    r = CliRunner().invoke(app, ["drill", "run", "--report-dir", str(tmp_path),
                                 "--api-url", f"http://127.0.0.1:{port}", "--token", "x"])
    assert r.exit_code == 1, r.output
    assert "is the platform running" in r.output
