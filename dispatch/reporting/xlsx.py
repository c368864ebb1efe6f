"""The monthly report as an XLSX workbook (openpyxl): a summary sheet, the incident register, one
sheet per agency and a sheet per extra table of the SLA report.

Values only (no formulas), Indonesian headers by default, header rows frozen, local times.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from dispatch.reporting.model import (
    SLA_STATUS,
    Lang,
    MonthlyReport,
    breakdown_tables,
    column_label,
    fmt_time,
    label,
    minutes,
    month_name,
    summary_columns,
    summary_value,
    table_value,
)

_BOLD = Font(bold=True)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
REGISTER_COLUMNS = ("incident_id", "received_at", "category", "kind", "priority", "status",
                    "kecamatan", "desa", "agencies", "arrived_at", "response_min")
AGENCY_COLUMNS = ("incident_id", "received_at", "category", "kecamatan", "desa", "role",
                  "notified_at", "acknowledged_at", "arrived_at", "response_min", "on_scene_min",
                  "sla_status")


def render_xlsx(report: MonthlyReport, lang: Lang = "id") -> bytes:
    """The workbook as bytes."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = _sheet_title(label("summary", lang), set())
    used = {summary.title}
    _summary_sheet(summary, report, lang)
    register = wb.create_sheet(_sheet_title(label("register", lang), used))
    used.add(register.title)
    _table(register, [label(c, lang) for c in REGISTER_COLUMNS], _register_rows(report, lang))
    for code in report.agency_codes():
        ws = wb.create_sheet(_sheet_title(code, used))
        used.add(ws.title)
        rows = [r for r in report.agency_rows if r.agency == code]
        _table(ws, [label(c, lang) for c in AGENCY_COLUMNS],
               [[r.incident_id, fmt_time(r.received_at, report.tz), r.category, r.nama_kec,
                 r.nama_desa, r.role, fmt_time(r.notified_at, report.tz),
                 fmt_time(r.acknowledged_at, report.tz), fmt_time(r.arrived_at, report.tz),
                 minutes(r.response_s), r.on_scene_min,
                 SLA_STATUS.get(r.sla_status, (r.sla_status,) * 2)[0 if lang == "id" else 1]]
                for r in rows])
    for name, records in breakdown_tables(report.sla).items():
        ws = wb.create_sheet(_sheet_title(label(name, lang), used))
        used.add(ws.title)
        cols = list(dict.fromkeys(k for rec in records for k in rec))
        _table(ws, [column_label(c, lang) for c in cols],
               [[table_value(c, rec.get(c)) for c in cols] for rec in records])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _summary_sheet(ws: Worksheet, report: MonthlyReport, lang: Lang) -> None:
    """Title lines, then the per agency × segment table; its header row is frozen."""
    lines: list[list[Any]] = [
        [label("title", lang)],
        [label("region", lang), f"{report.region_name} ({report.kode_kab})"],
        [label("period", lang), month_name(report.month, lang)],
        [label("timezone", lang), report.tz_label],
        [label("incidents", lang), len(report.incidents)],
        [label("non_incident_calls", lang), report.non_incident_text(lang)],
        [label("drills_excluded", lang), report.sla.drills_excluded],
        [label("chain_head", lang), report.chain_head or label("chain_missing", lang)],
    ]
    for r, line in enumerate(lines, start=1):
        _put(ws, r, line)
    cols = summary_columns(report)
    header = [label("agency", lang), label("segment", lang)] + [label(c, lang) for c in cols]
    header_row = len(lines) + 2
    _put(ws, header_row, header)
    for cell in ws[header_row]:
        cell.font = _BOLD
    ws["A1"].font = Font(bold=True, size=14)
    r = header_row
    for agency in report.sla.agencies:
        for key, seg in agency.summaries().items():
            r += 1
            _put(ws, r, [agency.agency, label(key, lang)]
                 + [summary_value(seg, c) for c in cols])
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    _widths(ws, len(header))


def _register_rows(report: MonthlyReport, lang: Lang) -> list[list[Any]]:
    return [[r.incident_id, fmt_time(r.received_at, report.tz), r.category, r.kind,
             r.priority, r.status, r.nama_kec, r.nama_desa, ", ".join(r.agencies),
             fmt_time(r.arrived_at, report.tz), minutes(r.response_s)]
            for r in report.incidents]


def _table(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = _BOLD
    for r, row in enumerate(rows, start=2):
        _put(ws, r, row)
    ws.freeze_panes = "A2"
    _widths(ws, len(header))


def _put(ws: Worksheet, r: int, row: Sequence[Any]) -> None:
    """Write values into row ``r`` as data: text starting with ``=`` is stored as text, never
    as a formula. (The row is passed in: ``ws.max_row`` scans every cell.)"""
    for i, value in enumerate(row, start=1):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = ws.cell(row=r, column=i, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"


def _widths(ws: Worksheet, n: int) -> None:
    for i in range(1, n + 1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = 18


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique sheet title (31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", name)[:31] or "_"
    title, n = base, 2
    while title in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title
