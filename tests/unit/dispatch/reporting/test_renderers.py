"""The monthly report renderers (pure): the XLSX read back with openpyxl, the CSV with the csv
module, the PDF's text with ``pdftotext`` and its images with ``pdfimages``/``pdftoppm``."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from dispatch.reporting.charts import kecamatan_map, response_histogram
from dispatch.reporting.csvfile import render_csv
from dispatch.reporting.model import (
    ReportInputError,
    breakdown_tables,
    fmt_number,
    month_name,
    parse_month,
    summary_columns,
)
from dispatch.reporting.pdf import render_pdf
from dispatch.reporting.xlsx import render_xlsx
from dispatch.sla_breakdown import (
    AgencySections,
    BreakdownRow,
    PerbupSummary,
    RuleJudgement,
    SegmentSummary,
)
from dispatch.sla_document import RuleVersionRef
from tests.unit.dispatch.reporting.sample import T0, sample_report

POPPLER = shutil.which("pdftotext") and shutil.which("pdfimages") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed "
                                   "(scripts/system-deps.sh test)")


def test_month_bounds_are_local_midnights():
    start, end = parse_month("2026-12", "Asia/Makassar")
    assert start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert end.isoformat() == "2027-01-01T00:00:00+08:00"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-11", "", "2026-11-01", "1999-01",
                                 "9999-12", "2026-00"])
def test_bad_month_is_a_bilingual_input_error(bad):
    with pytest.raises(ReportInputError, match="bulan .* / month"):
        parse_month(bad, "Asia/Jakarta")


def test_numbers_and_months_in_indonesian_and_english():
    assert fmt_number(1234.56, 1) == "1.234,6"
    assert fmt_number(1234.56, 1, "en") == "1,234.6"
    assert fmt_number(None) == "—"
    assert month_name("2026-11") == "November 2026"
    assert month_name("2026-08", "en") == "August 2026"


def _seg(count: int, mean_s: float | None, p90_s: float | None) -> SegmentSummary:
    return SegmentSummary(count, mean_s, p90_s)


PERBUP = PerbupSummary(count=1, met=1, breached=0, pending=0, unfinished=0,
                       mean_response_s=540.0, p90_response_s=540.0, compliance_pct=100.0)
RULE = RuleJudgement(version=2, agency="*", categories=["fire"], kind=None, start="received",
                     limit_min=15.0, judge="each", label="SPM kebakaran", count=1, met=1,
                     breached=0, pending=0, unfinished=0, mean_response_s=540.0,
                     p90_response_s=540.0, judged_value_s=None, compliant=True,
                     compliance_pct=100.0)


def _with_sections():
    """The sample with DAMKAR's Perbup sections, a kecamatan breakdown and a rule version."""
    report = sample_report()
    sections = AgencySections(perbup=PERBUP, call_processing=_seg(1, 60.0, 60.0),
                              turnout=_seg(1, 90.0, 90.0), travel=_seg(1, 300.0, 360.0),
                              total_response=_seg(1, 540.0, 540.0), gps_verified_arrivals=1,
                              perbup_rules=[RULE])
    damkar = replace(report.sla.agencies[0], sections=sections)
    row = BreakdownRow(agency="DAMKAR", category="fire", month="2026-11", kode_kec="51.06.01",
                       nama_kec="Bangli", kode_desa=None, nama_desa=None, perbup=PERBUP,
                       call_processing=_seg(1, 60.0, 60.0), turnout=_seg(1, 90.0, 90.0),
                       travel=_seg(1, 300.0, 360.0), total_response=_seg(1, 540.0, 540.0))
    sla = replace(report.sla, agencies=[damkar, report.sla.agencies[1]], breakdown=[row],
                  rule_versions=[RuleVersionRef(2, T0, "Perbup Bangli 12/2026")])
    return sample_report(sla=sla)


def test_segments_in_report_order_and_only_the_columns_present():
    report = _with_sections()
    damkar, psc = report.sla.agencies
    assert list(damkar.summaries()) == ["call_processing", "acknowledgement", "turnout",
                                        "travel", "on_scene", "total_response", "perbup"]
    assert list(psc.summaries()) == ["acknowledgement", "on_scene"]
    assert summary_columns(report) == ["count", "met", "breached", "pending",
                                       "mean_response_s", "p90_response_s", "compliance_pct",
                                       "unfinished"]
    assert "unfinished" not in summary_columns(sample_report())  # no Perbup section: no column
    tables = breakdown_tables(report.sla)
    assert list(tables) == ["perbup_rules", "breakdown", "rule_versions"]
    assert tables["perbup_rules"][0]["agency"] == "*"  # the rule's own agency (any)
    assert tables["perbup_rules"][0]["categories"] == "fire"
    assert tables["breakdown"][0]["travel.p90_response_s"] == 360.0
    assert tables["rule_versions"] == [{"version": 2, "effective_from": "2026-11-03T02:00:00Z",
                                        "reference": "Perbup Bangli 12/2026"}]
    assert breakdown_tables(sample_report().sla) == {}


def test_xlsx_sheets_headers_frozen_values_no_formulas():
    report = sample_report()
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    assert wb.sheetnames == ["Ringkasan", "Register Kejadian", "DAMKAR", "PSC119"]
    summary = wb["Ringkasan"]
    rows = [tuple(r) for r in summary.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "Instansi")
    assert summary.freeze_panes == f"A{header_at + 2}"
    table = {(r[0], r[1]): r for r in rows[header_at + 1:]}
    header = rows[header_at]
    mean = header.index("Rata-rata (menit)")
    assert table[("PSC119", "Tiba di lokasi")][mean] == 19.0
    assert table[("DAMKAR", "Penerimaan instansi")][header.index("Jumlah")] == 1
    assert table[("PSC119", "Tiba di lokasi")][header.index("Kepatuhan (%)")] == 0.0
    register = wb["Register Kejadian"]
    assert register.freeze_panes == "A2"
    reg = list(register.iter_rows(values_only=True))
    assert reg[0][0] == "No. kejadian" and [r[0] for r in reg[1:]] == [1, 2, 3]
    assert reg[1][1] == "2026-11-03 10:00"  # WITA
    assert reg[2][-1] == 20.0  # received → first arrival, minutes
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    assert reg[3][2] == "=cmd|' /C calc'!A0"  # stored as text, verbatim
    damkar = list(wb["DAMKAR"].iter_rows(values_only=True))
    assert damkar[1][0] == 1 and damkar[1][-1] == "tepat waktu" and damkar[1][-3] == 8.0


def test_xlsx_in_english_with_segments_and_breakdown_tables():
    wb = load_workbook(io.BytesIO(render_xlsx(_with_sections(), lang="en")))
    assert wb.sheetnames == ["Summary", "Incident Register", "DAMKAR", "PSC119", "Perbup rules",
                             "Breakdown by kecamatan", "Rule versions"]
    rows = list(wb["Summary"].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "Agency")
    assert header[-1] == "Unfinished"
    travel = next(r for r in rows if r[1] == "Travel")
    assert travel[0] == "DAMKAR"
    assert travel[header.index("Mean (min)")] == 5.0 and travel[header.index("P90 (min)")] == 6.0
    assert travel[header.index("Met")] is None  # a segment has no met/breached
    extra = list(wb["Breakdown by kecamatan"].iter_rows(values_only=True))
    assert extra[0][:4] == ("Agency", "Category", "Month", "Kecamatan code")
    col = extra[0].index("Travel P90 (min)")
    assert extra[1][:4] == ("DAMKAR", "fire", "2026-11", "51.06.01")
    assert extra[1][col] == 6.0  # seconds shown as minutes


def test_csv_rows_per_agency_involvement_and_formula_guard():
    text = render_csv(sample_report()).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["No. kejadian", "Diterima", "Kategori"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[2][8] == "PSC119" and rows[2][13] == "19.0" and rows[2][15] == "terlambat"
    assert rows[3][2].startswith("'=")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_charts_are_png_of_a_useful_size():
    report = sample_report()
    assert _png_size(response_histogram(report.response_times_s())) == (960, 480)
    w, h = _png_size(kecamatan_map(report.kecamatan))
    assert w >= 800 and h >= 700
    assert _png_size(response_histogram([]))[0] == 960  # "no data" still draws


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


@needs_poppler
def test_pdf_text_holds_cover_summary_and_register(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(sample_report(chain_head="42:abc123")))
    text = _pdf_text(path)
    assert "Laporan Bulanan SLA/SPM" in text and "November 2026" in text
    assert "Kabupaten Bangli (51.06)" in text and "42:abc123" in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "PSC119 Tiba di lokasi 1 0 1 0 19,0 19,0 0,0" in lines
    assert "DAMKAR Penerimaan instansi 1 1 0 0 1,0 1,0 100,0" in lines
    assert any(line.startswith("2 2026-11-03 11:00 medical closed Bangli Cempaga PSC119")
               for line in lines)


@needs_poppler
def test_pdf_without_chain_says_so_in_english(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(sample_report(), lang="en"))
    text = _pdf_text(path)
    assert "— (no audit entry chained by the month's end)" in text and "Summary" in text


@needs_poppler
def test_pdf_carries_the_chart_and_the_map_as_visible_images(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(sample_report()))
    listing = subprocess.run(["pdfimages", "-list", str(path)], check=True,
                             capture_output=True, text=True).stdout.splitlines()[2:]
    images = [line.split() for line in listing if line.split()[2] == "image"]
    assert len(images) == 2
    assert all(int(i[3]) >= 800 and int(i[4]) >= 400 for i in images)
    pages = sorted({int(i[0]) for i in images})
    for page in pages:
        out = tmp_path / f"p{page}"
        subprocess.run(["pdftoppm", "-r", "30", "-gray", "-f", str(page), "-l", str(page),
                        str(path), str(out)], check=True)
        pgm = next(tmp_path.glob(f"p{page}*.pgm")).read_bytes()
        pixels = pgm.split(b"\n", 3)[3]
        dark = sum(1 for b in pixels if b < 200)
        assert dark > 0.02 * len(pixels), f"page {page} looks blank"


@needs_poppler
def test_a_long_register_keeps_every_incident_in_pdf_and_xlsx(tmp_path):
    from dataclasses import replace
    from datetime import timedelta

    from dispatch.reporting.model import IncidentRow
    from tests.unit.dispatch.reporting.sample import T0

    rows = [IncidentRow(1000 + i, T0 + timedelta(minutes=5 * i), "fire", "emergency", 1,
                        "closed", "51.06.01", "Bangli", "Kawan", ("DAMKAR",), None)
            for i in range(450)]
    report = replace(sample_report(), incidents=rows)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(report))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    found = {int(line.split()[0]) for line in text.splitlines()
             if line.split() and line.split()[0].isdigit() and int(line.split()[0]) >= 1000}
    assert found == {r.incident_id for r in rows}
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    ids = [r[0] for r in wb["Register Kejadian"].iter_rows(min_row=2, values_only=True)]
    assert ids == [r.incident_id for r in rows]


def _with_names(name: str, category: str):
    from dataclasses import replace

    report = sample_report()
    rows = [replace(r, nama_desa=name, category=category) for r in report.incidents]
    return replace(report, incidents=rows, region_name=name or "X")


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=30), category=st.text(max_size=30))
def test_any_text_in_names_renders_as_xlsx_and_csv(name, category):
    report = _with_names(name, category)
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    reg = list(wb["Register Kejadian"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in reg] == [1, 2, 3]
    assert all(cell.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows()
               for cell in row)
    text = render_csv(report).decode("utf-8")
    assert [r[0] for r in csv.reader(io.StringIO(text[1:]))][1:] == ["1", "2", "3"]


@settings(max_examples=5, deadline=None)
@given(name=st.text(max_size=30), category=st.text(max_size=30))
def test_any_text_in_names_renders_as_pdf(name, category):
    assert render_pdf(_with_names(name, category))[:5] == b"%PDF-"
