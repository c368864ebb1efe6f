"""The monthly report against the real database (committed fixture month, Bangli, March 2019):
the XLSX read back, the PDF's text and images, the CSV, each checked against the database."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.monthly_report_service import monthly_report
from dispatch.reporting.csvfile import render_csv
from dispatch.reporting.model import SUMMARY_COLUMNS, label, minutes, summary_value
from dispatch.reporting.pdf import render_pdf
from dispatch.reporting.xlsx import render_xlsx
from dispatch.scope import Scope
from geo.exceptions import RegionNotFoundError
from tests.integration.dispatch.report_month import report_month  # noqa: F401

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"),
                                   reason="poppler-utils not installed")


def _report(engine, month, scope=None):
    with Session(engine) as s:
        return monthly_report(s, scope=scope or Scope.everything(), kode_kab=month.kode_kab,
                              month=month.month, tz="Asia/Makassar", tz_label="WITA")


def _db_on_scene(engine) -> dict[str, tuple[int, float]]:
    """Per test agency: on-scene responses and their mean in minutes, straight from SQL."""
    with Session(engine) as s:
        rows = s.execute(text(
            "SELECT ag.code, count(*), avg(extract(epoch FROM a.arrived_at - ia.notified_at)) "
            "FROM incident i JOIN incident_agency ia ON ia.incident_id = i.id "
            "JOIN agency ag ON ag.id = ia.agency_id JOIN assignment a ON a.incident_id = i.id "
            "AND a.agency_id = ia.agency_id WHERE i.kode_kab = '51.06' AND NOT i.drill "
            "AND i.received_at >= '2019-03-01T00:00:00+08:00' "
            "AND i.received_at < '2019-04-01T00:00:00+08:00' AND ag.code LIKE 'RPT%' "
            "GROUP BY ag.code"))
        return {code: (n, round(float(mean) / 60.0, 2)) for code, n, mean in rows}


def test_register_and_summary_match_the_database(engine, report_month):  # noqa: F811
    report = _report(engine, report_month)
    assert [r.incident_id for r in report.incidents] == report_month.incident_ids
    db = _db_on_scene(engine)
    assert db == {"RPT_DAMKAR": (2, 10.0), "RPT_PSC": (1, 24.5)}
    for agency in report.sla.agencies:
        n, mean_min = db[agency.agency]
        assert agency.on_scene.count == n
        assert minutes(agency.on_scene.mean_response_s) == mean_min
    counts = {k.kode_kec: k.count for k in report.kecamatan}
    (kec_a, _), (kec_b, _) = report_month.kecamatan
    assert counts[kec_a] == 2 and counts[kec_b] == 2 and sum(counts.values()) == 4


def test_xlsx_read_back_equals_the_sla_report_and_the_database(engine, report_month):  # noqa: F811
    report = _report(engine, report_month)
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    assert {"Ringkasan", "Register Kejadian", "RPT_DAMKAR", "RPT_PSC"} <= set(wb.sheetnames)
    rows = list(wb["Ringkasan"].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r[0] == "Instansi")
    header, table = rows[at], {(r[0], r[1]): r for r in rows[at + 1:]}
    assert wb["Ringkasan"].freeze_panes == f"A{at + 2}"
    assert ("Kejadian latihan tidak dihitung", 1) in [r[:2] for r in rows]  # the one drill
    checked = 0
    for agency in report.sla.agencies:
        for key, seg in agency.summaries().items():
            row = table[(agency.agency, label(key))]
            for col in SUMMARY_COLUMNS:
                if hasattr(seg, col):
                    assert row[header.index(label(col))] == summary_value(seg, col)
                    checked += 1
    assert checked >= 20
    db = _db_on_scene(engine)
    mean = header.index("Rata-rata (menit)")
    assert table[("RPT_DAMKAR", "Tiba di lokasi")][mean] == db["RPT_DAMKAR"][1]
    assert table[("RPT_PSC", "Tiba di lokasi")][mean] == db["RPT_PSC"][1]
    assert table[("RPT_PSC", "Tiba di lokasi")][header.index("Terlambat")] == 1
    register = list(wb["Register Kejadian"].iter_rows(values_only=True))
    assert [r[0] for r in register[1:]] == report_month.incident_ids
    assert register[1][1] == "2019-03-01 00:30"  # local WITA time, still February in UTC
    damkar = list(wb["RPT_DAMKAR"].iter_rows(values_only=True))
    assert sorted(r[9] for r in damkar[1:]) == [8.0, 12.0]


@needs_poppler
def test_pdf_text_numbers_and_images(engine, report_month, tmp_path):  # noqa: F811
    report = _report(engine, report_month)
    path = tmp_path / "laporan.pdf"
    path.write_bytes(render_pdf(report))
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "Maret 2019" in out and "Kabupaten Bangli (51.06)" in out
    assert "Kejadian latihan tidak dihitung 1" in lines
    assert any(line.startswith("RPT_DAMKAR Tiba di lokasi 2 2 0 0 10,0 12,0 100,0")
               for line in lines), lines
    assert any(line.startswith("RPT_PSC Tiba di lokasi 1 0 1 0 24,5 24,5 0,0")
               for line in lines)
    for iid in report_month.incident_ids:
        assert any(line.startswith(f"{iid} 2019-03-") for line in lines)
    assert report.chain_head is None  # nothing was chained by the end of March 2019
    assert "belum ada entri audit sampai akhir bulan" in out
    listing = subprocess.run(["pdfimages", "-list", str(path)], check=True,
                             capture_output=True, text=True).stdout.splitlines()[2:]
    assert len([x for x in listing if x.split()[2] == "image"]) == 2


def test_csv_one_row_per_agency_involvement(engine, report_month):  # noqa: F811
    report = _report(engine, report_month)
    rows = list(csv.reader(io.StringIO(render_csv(report).decode("utf-8-sig"))))
    assert [int(r[0]) for r in rows[1:]] == report_month.incident_ids
    assert sorted(r[13] for r in rows[1:] if r[8]) == ["12.0", "24.5", "8.0"]


def test_another_regency_is_not_found(engine, report_month):  # noqa: F811
    with pytest.raises(RegionNotFoundError):
        _report(engine, report_month, scope=Scope.of(["34.71"]))


def test_an_agency_desk_sees_only_its_incidents(engine, report_month):  # noqa: F811
    report = _report(engine, report_month, scope=Scope.of(["51.06"], "RPT_PSC"))
    assert [r.incident_id for r in report.incidents] == [report_month.incident_ids[2]]
    assert {r.agency for r in report.agency_rows} == {"RPT_PSC"}
    assert [a.agency for a in report.sla.agencies] == ["RPT_PSC"]


@needs_poppler
def test_the_cover_carries_the_chain_head_at_the_month_end(engine, pilot_regions, tmp_path):
    from datetime import UTC, datetime

    from dispatch import audit

    now = datetime.now(UTC)
    with Session(engine) as s:  # one committed audit entry: the chain has a head this month
        audit.record(s, actor="pytest", at=now, entity="report_test", entity_id=None,
                     action="report_chain_head", kode_kab="51.06")
        s.commit()
        seq, digest = s.execute(text(
            "SELECT seq, entry_hash FROM audit_chain ORDER BY seq DESC LIMIT 1")).one()
    with Session(engine) as s:
        report = monthly_report(s, scope=Scope.everything(), kode_kab="51.06",
                                month=now.strftime("%Y-%m"), tz="UTC", tz_label="UTC")
    assert report.chain_head == f"{seq}:{digest}"
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(report))
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    assert f"{seq}:{digest}" in out


@needs_poppler
def test_non_incident_calls_are_counted(engine, report_month, tmp_path):  # noqa: F811
    with Session(engine) as s:
        for kind, day in (("prank", 3), ("prank", 9), ("wrong_number", 30), ("silent", 31)):
            # the last day of March counts, the first half hour of April (WITA) does not
            s.execute(text(
                "INSERT INTO call_log (kode_kab, received_at, kind, channel, note, created_by) "
                "VALUES ('51.06', :at, :k, 'phone_112', 'monthly-report-test', 'op')"),
                {"at": f"2019-03-{day:02d}T10:00:00+08:00", "k": kind})
        s.execute(text(
            "INSERT INTO call_log (kode_kab, received_at, kind, channel, note, created_by) "
            "VALUES ('51.06', '2019-04-01T00:30:00+08:00', 'prank', 'phone_112', "
            "'monthly-report-test', 'op')"))
        s.commit()
    try:
        report = _report(engine, report_month)
        assert report.non_incident_calls == {"prank": 2, "silent": 1, "information": 0,
                                             "wrong_number": 1, "dropped": 0}
        ws = load_workbook(io.BytesIO(render_xlsx(report)))[label("summary")]
        values = {row[0].value: row[1].value for row in ws.iter_rows(max_row=10) if row[0].value}
        assert values[label("non_incident_calls")] == "4 (iseng 2, diam 1, salah sambung 1)"
        path = tmp_path / "laporan.pdf"
        path.write_bytes(render_pdf(report, "en"))
        out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                             text=True).stdout
        assert "Calls that were not incidents: 4 (prank 2, silent 1, wrong number 1)" in out
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM call_log WHERE note = 'monthly-report-test'"))
            s.commit()
