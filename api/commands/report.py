"""``siaga report``: the monthly SLA/SPM report and incident register of a regency as a PDF,
XLSX or CSV file, and CAP 1.2 alerts imported as planner notices."""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope

app = typer.Typer(help="Laporan SLA/SPM dan CAP / reports and CAP alerts.",
                  no_args_is_help=True)
FORMATS = ("pdf", "xlsx", "csv")


@app.command("sla")
def sla(
    month: str = typer.Option(..., "--month", help="Bulan / month, YYYY-MM (local time)."),
    region: str = typer.Option(..., "--region", help="Kemendagri kabupaten/kota code."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="File to write; .pdf, .xlsx or .csv sets the format."),
    fmt: str | None = typer.Option(None, "--format", help="pdf, xlsx or csv (default: from -o)."),
    lang: str = typer.Option("id", "--lang", help="id (Bahasa Indonesia) or en."),
) -> None:
    """Write the monthly SLA/SPM report and incident register (drills left out)."""
    from dispatch.exceptions import DispatchError
    from dispatch.monthly_report_service import monthly_report
    from dispatch.reporting.csvfile import render_csv
    from dispatch.reporting.pdf import render_pdf
    from dispatch.reporting.xlsx import render_xlsx
    from dispatch.scope import Scope
    from geo.exceptions import GeoError
    from maps.timezone import zone_for_code

    kind = (fmt or output.suffix.lstrip(".")).lower()
    if kind not in FORMATS:
        fail(f"format must be one of {', '.join(FORMATS)} (use --format or a .pdf/.xlsx/.csv "
             f"name), got {kind!r}")
    if lang not in ("id", "en"):
        fail(f"--lang must be id or en, got {lang!r}")
    try:
        zone = zone_for_code(region)
        with session_scope() as session:
            report = monthly_report(session, scope=Scope.everything(), kode_kab=region,
                                    month=month, tz=zone.iana, tz_label=zone.label)
    except (DispatchError, GeoError, ValueError) as exc:
        fail(str(exc))
    render = {"pdf": render_pdf, "xlsx": render_xlsx, "csv": render_csv}[kind]
    data = render(report, lang)  # type: ignore[arg-type]
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
    print_json({"region": region, "month": month, "format": kind, "file": str(output),
                "bytes": len(data), "incidents": len(report.incidents),
                "chain_head": report.chain_head})


@app.command("cap-import")
def cap_import(
    path: Path = typer.Argument(..., help="CAP 1.2 XML file (one <alert>)."),
    region: str = typer.Option(..., "--region", help="Regency the notice is kept for."),
) -> None:
    """Import one CAP 1.2 alert (such as BMKG's) as a planner notice; re-import replaces it."""
    from dispatch import cap_service
    from dispatch.exceptions import DispatchError
    from dispatch.incident_records import utcnow
    from dispatch.scope import Scope
    from geo.exceptions import GeoError

    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc}")
    try:
        with session_scope() as session:
            res = cap_service.import_notice(session, scope=Scope.everything(), kode_kab=region,
                                            xml=data, actor="cli", now=utcnow())
            out = {"created": res.created, "id": res.notice.id,
                   "identifier": res.notice.identifier, "sender": res.notice.sender,
                   "event": res.notice.event}
    except (DispatchError, GeoError) as exc:
        fail(str(exc))
    print_json(out)
