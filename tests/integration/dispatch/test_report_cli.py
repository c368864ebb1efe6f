"""``siaga report`` against the test database: the monthly report files and a CAP import."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.integration.dispatch.report_month import report_month  # noqa: F401
from tests.unit.dispatch.reporting.test_cap import VECTORS


def test_report_sla_writes_pdf_and_xlsx(database_url, report_month, tmp_path,  # noqa: F811
                                        monkeypatch):
    from api.commands.report import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    pdf = tmp_path / "laporan.pdf"
    r = runner.invoke(app, ["sla", "--month", report_month.month, "--region",
                            report_month.kode_kab, "-o", str(pdf)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["format"] == "pdf" and out["incidents"] == 4
    assert pdf.read_bytes()[:5] == b"%PDF-"
    xlsx = tmp_path / "laporan.xlsx"
    r = runner.invoke(app, ["sla", "--month", report_month.month, "--region",
                            report_month.kode_kab, "-o", str(xlsx), "--lang", "en"])
    assert r.exit_code == 0, r.output
    wb = load_workbook(io.BytesIO(xlsx.read_bytes()))
    ids = [row[0] for row in list(wb["Incident Register"].iter_rows(values_only=True))[1:]]
    assert ids == report_month.incident_ids


def test_report_sla_clean_errors(database_url, tmp_path, monkeypatch):
    from api.commands.report import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    r = runner.invoke(app, ["sla", "--month", "2019-13", "--region", "51.06",
                            "-o", str(tmp_path / "x.pdf")])
    assert r.exit_code == 1 and "month" in r.output
    r = runner.invoke(app, ["sla", "--month", "2019-03", "--region", "51.06",
                            "-o", str(tmp_path / "x.docx")])
    assert r.exit_code == 1 and "format" in r.output
    r = runner.invoke(app, ["sla", "--month", "2019-03", "--region", "99.99",
                            "-o", str(tmp_path / "x.pdf")])
    assert r.exit_code == 1 and "99.99" in r.output


def test_cap_import_then_reimport(database_url, engine, pilot_regions, monkeypatch, tmp_path):
    from api.commands.report import app

    monkeypatch.setenv("SIAGA_DATABASE_URL", database_url)
    runner = CliRunner()
    path = VECTORS / "bmkg_like_gempa.xml"
    try:
        r = runner.invoke(app, ["cap-import", str(path), "--region", "51.06"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["created"] is True
        r = runner.invoke(app, ["cap-import", str(path), "--region", "51.06"])
        assert json.loads(r.output)["created"] is False
        broken = tmp_path / "broken.xml"
        broken.write_bytes(path.read_bytes().replace(b"<scope>Public</scope>", b""))
        r = runner.invoke(app, ["cap-import", str(broken), "--region", "51.06"])
        assert r.exit_code == 1 and "scope" in r.output
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM cap_notice WHERE sender = 'uji@bmkg.example'"))
            s.commit()
