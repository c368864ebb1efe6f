"""The monthly report as PDF (ReportLab): a cover with the audit chain head digest, the summary
table per agency and segment, the response-time distribution, the map of incidents by kecamatan,
and the incident register."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dispatch.reporting.charts import kecamatan_map, response_histogram
from dispatch.reporting.model import (
    Lang,
    MonthlyReport,
    fmt_number,
    fmt_time,
    label,
    minutes,
    month_name,
    summary_columns,
    summary_value,
)

#: Register rows per table (see :func:`_register_tables`).
_CHUNK_ROWS = 200
_GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e2e8f0")),
    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
    ("FONTSIZE", (0, 0), (-1, -1), 7),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def render_pdf(report: MonthlyReport, lang: Lang = "id") -> bytes:
    """The PDF as bytes (A4 landscape)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=landscape(A4), leftMargin=1.5 * cm, rightMargin=1.5 * cm,
        topMargin=1.5 * cm, bottomMargin=1.5 * cm,
        title=f"{label('title', lang)} {report.region_name} {month_name(report.month, lang)}",
        author="Siaga", lang="id-ID" if lang == "id" else "en-US",
    )
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8)
    story: list[Any] = []
    story += _cover(report, lang, styles)
    story.append(PageBreak())
    story.append(Paragraph(label("summary", lang), styles["Heading1"]))
    story.append(_summary_table(report, lang))
    story.append(Spacer(1, 0.3 * cm))
    story.append(Paragraph(f"{label('percentile', lang)}. {label('drills', lang)}.", small))
    story.append(Paragraph(f"{label('non_incident_calls', lang)}: "
                           f"{report.non_incident_text(lang)}", styles["Normal"]))
    story.append(PageBreak())
    story.append(Paragraph(label("charts", lang), styles["Heading1"]))
    limit = _common_limit(report)
    chart = Image(io.BytesIO(response_histogram(report.response_times_s(), lang, limit)),
                  width=13 * cm, height=6.5 * cm)
    area_map = Image(io.BytesIO(kecamatan_map(report.kecamatan, lang)),
                     width=12.5 * cm, height=10.94 * cm)
    side = Table([[chart, area_map]], colWidths=[13.5 * cm, 13 * cm])
    side.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(side)
    story.append(PageBreak())
    story.append(Paragraph(label("register", lang), styles["Heading1"]))
    story += _register_tables(report, lang)
    doc.build(story, onFirstPage=_footer(report, lang), onLaterPages=_footer(report, lang))
    return buf.getvalue()


def _cover(report: MonthlyReport, lang: Lang, styles: Any) -> list[Any]:
    rows = [
        [label("region", lang), f"{report.region_name} ({report.kode_kab})"],
        [label("period", lang), month_name(report.month, lang)],
        [label("timezone", lang), report.tz_label],
        [label("incidents", lang), fmt_number(len(report.incidents), lang=lang)],
        [label("drills_excluded", lang),
         fmt_number(report.sla.drills_excluded, lang=lang)],
        [label("generated", lang), f"{fmt_time(report.generated_at, report.tz)} "
                                   f"{report.tz_label}"],
        [label("chain_head", lang), report.chain_head or label("chain_missing", lang)],
    ]
    table = Table(rows, colWidths=[8.5 * cm, 16 * cm])
    table.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 10),
                               ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return [Spacer(1, 3 * cm), Paragraph(label("title", lang), styles["Title"]),
            Spacer(1, 1 * cm), table]


def _summary_table(report: MonthlyReport, lang: Lang) -> Table:
    cols = summary_columns(report)
    data: list[list[str]] = [[label("agency", lang), label("segment", lang)]
                             + [label(c, lang) for c in cols]]
    for agency in report.sla.agencies:
        for key, seg in agency.summaries().items():
            data.append([agency.agency, label(key, lang)]
                        + [_fmt(summary_value(seg, c), lang) for c in cols])
    if len(data) == 1:
        data.append([label("no_data", lang), ""] + [""] * len(cols))
    table = Table(data, repeatRows=1)
    table.setStyle(_GRID)
    return table


def _register_tables(report: MonthlyReport, lang: Lang) -> list[Table]:
    cols = ("incident_id", "received_at", "category", "status", "kecamatan", "desa",
            "agencies", "arrived_at", "response_min")
    data: list[list[str]] = [[label(c, lang) for c in cols]]
    for r in report.incidents:
        data.append([str(r.incident_id), fmt_time(r.received_at, report.tz), r.category,
                     r.status, r.nama_kec, r.nama_desa, ", ".join(r.agencies),
                     fmt_time(r.arrived_at, report.tz), _fmt(minutes(r.response_s), lang)])
    if len(data) == 1:
        data.append([label("no_data", lang)] + [""] * (len(cols) - 1))
    # Tables of a few hundred rows: ReportLab splits a long table page by page, and the cost of
    # each split grows with the rows left, so one table of the whole month is quadratic.
    tables = []
    for i in range(1, len(data), _CHUNK_ROWS):
        table = Table([data[0], *data[i:i + _CHUNK_ROWS]], repeatRows=1)
        table.setStyle(_GRID)
        tables.append(table)
    return tables


def _fmt(value: Any, lang: Lang) -> str:
    if isinstance(value, float):
        return fmt_number(value, 1, lang)
    if isinstance(value, int):
        return fmt_number(value, lang=lang)
    return "—" if value is None else str(value)


def _common_limit(report: MonthlyReport) -> float | None:
    """The on-scene SLA limit drawn on the histogram when the month's responses share one."""
    limits = {r.on_scene_min for r in report.agency_rows if r.response_s is not None}
    return limits.pop() if len(limits) == 1 else None


def _footer(report: MonthlyReport, lang: Lang) -> Any:
    text = f"Siaga · {report.region_name} · {month_name(report.month, lang)}"

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(1.5 * cm, 0.8 * cm, text)
        canvas.drawRightString(landscape(A4)[0] - 1.5 * cm, 0.8 * cm, str(doc.page))
        canvas.restoreState()

    return draw

