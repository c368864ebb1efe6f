"""The monthly report as CSV: the incident register, one row per agency involvement (UTF-8 with a
byte order mark so spreadsheet programs read Indonesian names right; decimal point; local times).

Text that a spreadsheet would run as a formula (starting with ``= + - @``) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from dispatch.reporting.model import SLA_STATUS, Lang, MonthlyReport, fmt_time, label, minutes

CSV_COLUMNS = ("incident_id", "received_at", "category", "kind", "priority", "status",
               "kecamatan", "desa", "agencies", "role", "notified_at", "acknowledged_at",
               "arrived_at", "response_min", "on_scene_min", "sla_status")


def render_csv(report: MonthlyReport, lang: Lang = "id") -> bytes:
    """One row per (incident, agency); incidents with no agency get one row with agency empty."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow([label(c, lang) for c in CSV_COLUMNS])
    by_incident: dict[int, list[Any]] = {}
    for r in report.agency_rows:
        by_incident.setdefault(r.incident_id, []).append(r)
    for inc in report.incidents:
        base = [inc.incident_id, fmt_time(inc.received_at, report.tz), inc.category, inc.kind,
                inc.priority, inc.status, inc.nama_kec, inc.nama_desa]
        parts = by_incident.get(inc.incident_id) or [None]
        for a in parts:
            if a is None:
                tail: list[Any] = ["", "", "", "", fmt_time(inc.arrived_at, report.tz),
                                   minutes(inc.response_s), "", ""]
            else:
                status = SLA_STATUS.get(a.sla_status, (a.sla_status,) * 2)
                tail = [a.agency, a.role, fmt_time(a.notified_at, report.tz),
                        fmt_time(a.acknowledged_at, report.tz), fmt_time(a.arrived_at, report.tz),
                        minutes(a.response_s), a.on_scene_min, status[0 if lang == "id" else 1]]
            out.writerow([_safe(v) for v in base + tail])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _safe(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
