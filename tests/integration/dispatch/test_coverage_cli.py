"""``siaga population import`` and ``siaga analytics coverage`` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import build_cli

REPO = Path(__file__).resolve().parents[3]


def test_population_then_coverage_of_bangli(database_url, pilot_regions, monkeypatch, tmp_path):
    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    monkeypatch.setenv("SIAGA_ROADS_DIR", str(tmp_path / "roads"))
    cli = build_cli()
    runner = CliRunner()
    r = runner.invoke(cli, ["population", "import", str(REPO / "data/bangli/population.csv"),
                            "--region", "51.06"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["rows"] == 6
    # a file with another regency's rows is refused whole with the codes named
    r = runner.invoke(cli, ["population", "import", str(REPO / "data/bangli/population.csv"),
                            "--region", "34.71"])
    assert r.exit_code == 1 and "51.06" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("level,kode,penduduk,tahun\nkecamatan,51.06.01,-3,2020\n")
    r = runner.invoke(cli, ["population", "import", str(bad)])
    assert r.exit_code == 1 and "row 2" in r.output
    r = runner.invoke(cli, ["population", "import", str(tmp_path / "missing.csv")])
    assert r.exit_code == 1 and "missing.csv" in r.output

    r = runner.invoke(cli, ["analytics", "coverage", "--region", "51.06", "--profile",
                            "ambulance", "--sla-minutes", "30", "--spacing-m", "1000"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["eta_kind"] == "estimate"  # Bangli has no road network: labelled estimates
    assert out["population_rule"] == "kecamatan_by_area"
    assert round(out["total_population"]) == 258721
    r = runner.invoke(cli, ["analytics", "coverage", "--region", "51.06", "--gaps",
                            "--sla-minutes", "0"])
    assert r.exit_code == 1 and " / " in r.output
