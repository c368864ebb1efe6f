"""``siaga dispatch seed``, ``siaga incidents create`` and ``siaga dispatch recommend`` against the
test database (they commit: the incident rows are removed afterwards, the seed is idempotent)."""

import json

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dispatch.models import Incident, IncidentAgency


def test_cli_seed_create_recommend(database_url, pilot_regions, engine, monkeypatch):
    from api.cli import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    r = runner.invoke(app, ["dispatch", "seed", "--region", "34.71"])
    assert r.exit_code == 0, r.output
    [report] = json.loads(r.output)
    assert (report["kode_kab"], report["units"]) == ("34.71", 12)
    r = runner.invoke(app, ["incidents", "create", "--place", "Kelurahan Kotabaru",
                            "--kode-kab", "34.71", "--category", "medical",
                            "--description", "Pingsan di jalan", "--caller", "08987654321"])
    assert r.exit_code == 0, r.output
    created = json.loads(r.output)
    try:
        assert created["nama_desa"] == "Kotabaru" and created["status"] == "triaged"
        assert created["caller_phone"] == "0898****321"
        assert [a["agency"] for a in created["agencies"]] == ["PSC119"]
        r = runner.invoke(app, ["dispatch", "recommend", str(created["id"])])
        assert r.exit_code == 0, r.output
        recs = json.loads(r.output)
        units = recs["agencies"][0]["units"]
        assert {u["call_sign"] for u in units} == {"YK-PSC-01", "YK-PSC-02"}
        assert units[0]["eta_s"] <= units[1]["eta_s"]
        r = runner.invoke(app, ["dispatch", "recommend", "999999"])
        assert r.exit_code == 1 and "999999" in r.output
        r = runner.invoke(app, ["incidents", "create", "--lat", "-7.8", "--category", "fire"])
        assert r.exit_code != 0
    finally:
        with Session(engine) as s:
            s.execute(delete(IncidentAgency).where(
                IncidentAgency.incident_id == created["id"]))
            s.execute(delete(Incident).where(Incident.id == created["id"]))
            s.commit()
            assert s.scalars(select(Incident).where(Incident.id == created["id"])).first() is None
