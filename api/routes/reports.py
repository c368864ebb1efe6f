"""The monthly SLA/SPM report and incident register of a regency as a file: PDF, XLSX or CSV
(Bahasa Indonesia by default). Read-only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import get_session
from api.errors import ErrorResponse
from api.report_scope import caller_scope
from dispatch.monthly_report_service import monthly_report
from dispatch.reporting.csvfile import render_csv
from dispatch.reporting.pdf import render_pdf
from dispatch.reporting.xlsx import render_xlsx
from maps.timezone import zone_for_code

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
RENDER = {"pdf": render_pdf, "xlsx": render_xlsx, "csv": render_csv}
Format = Literal["pdf", "xlsx", "csv"]


def filename(kode_kab: str, month: str, fmt: str) -> str:
    """``laporan-sla-51.06-2026-11.pdf``."""
    return f"laporan-sla-{kode_kab}-{month}.{fmt}"


@router.get(
    "/monthly",
    response_class=Response,
    responses={
        200: {"description": "The report file (Content-Disposition: attachment).",
              "content": {m: {"schema": {"type": "string", "format": "binary"}}
                          for m in MEDIA.values()}},
        404: {"model": ErrorResponse, "description": "Region not found or not yours."},
        422: {"model": ErrorResponse, "description": "Bad month, format or language."},
    },
)
def monthly(
    request: Request,
    kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, local time")],
    format: Format = "pdf",  # noqa: A002 - the query parameter's name
    lang: Literal["id", "en"] = "id",
    session: Session = Depends(get_session),
) -> Response:
    """Monthly SLA/SPM report and incident register of a regency as PDF, XLSX or CSV."""
    zone = zone_for_code(kode_kab)
    report = monthly_report(session, scope=caller_scope(request), kode_kab=kode_kab,
                            month=month, tz=zone.iana, tz_label=zone.label)
    session.close()  # everything is read: give the connection back before rendering
    body = RENDER[format](report, lang)
    return Response(
        content=body, media_type=MEDIA[format],
        headers={"Content-Disposition":
                 f'attachment; filename="{filename(kode_kab, month, format)}"'},
    )
