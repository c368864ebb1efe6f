"""The data of one monthly report, and what the renderers share: labels (Bahasa Indonesia first,
English), the month arithmetic, number formats and the tables of the SLA document.

Pure: no I/O. Times are aware datetimes; the report shows them in the region's local zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shapely.geometry.base import BaseGeometry

from dispatch.exceptions import DispatchError
from dispatch.sla_document import SlaDocument, Summary
from dispatch.timestamp import iso_utc

Lang = Literal["id", "en"]

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")

#: Display names of the SLA segments (:meth:`dispatch.sla_document.AgencyEntry.summaries`).
SEGMENTS: dict[str, tuple[str, str]] = {
    "call_processing": ("Pemrosesan panggilan", "Call processing"),
    "acknowledgement": ("Penerimaan instansi", "Agency acknowledgement"),
    "turnout": ("Waktu persiapan", "Turnout"),
    "travel": ("Waktu perjalanan", "Travel"),
    "on_scene": ("Tiba di lokasi", "On scene"),
    "total_response": ("Respons total", "Total response"),
    "perbup": ("Aturan SLA Perbup", "Perbup SLA rule"),
}

#: Column keys of a segment summary in display order, with their labels (id, en).
SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "count": ("Jumlah", "Count"),
    "met": ("Tepat waktu", "Met"),
    "breached": ("Terlambat", "Breached"),
    "pending": ("Tertunda", "Pending"),
    "mean_response_s": ("Rata-rata (menit)", "Mean (min)"),
    "p90_response_s": ("P90 (menit)", "P90 (min)"),
    "compliance_pct": ("Kepatuhan (%)", "Compliance (%)"),
    "unfinished": ("Belum selesai", "Unfinished"),
    "judged_value_s": ("Nilai dinilai (menit)", "Judged value (min)"),
    "limit_min": ("Batas (menit)", "Limit (min)"),
    "compliant": ("Patuh", "Compliant"),
}

#: Extra tables of the SLA report (:func:`breakdown_tables`), by key.
TABLES: dict[str, tuple[str, str]] = {
    "breakdown": ("Rincian kecamatan", "Breakdown by kecamatan"),
    "breakdown_desa": ("Rincian desa", "Breakdown by village"),
    "perbup_rules": ("Aturan Perbup", "Perbup rules"),
    "rule_versions": ("Versi aturan", "Rule versions"),
}

_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Laporan Bulanan SLA/SPM Layanan Darurat 112",
              "Monthly SLA/SPM Report of the 112 Emergency Service"),
    "register": ("Register Kejadian", "Incident Register"),
    "summary": ("Ringkasan", "Summary"),
    "non_incident_calls": ("Panggilan bukan kejadian", "Calls that were not incidents"),
    "call_prank": ("iseng", "prank"),
    "call_silent": ("diam", "silent"),
    "call_information": ("informasi", "information"),
    "call_wrong_number": ("salah sambung", "wrong number"),
    "call_dropped": ("terputus", "dropped"),
    "region": ("Wilayah", "Region"),
    "period": ("Periode", "Period"),
    "generated": ("Dibuat", "Generated"),
    "timezone": ("Zona waktu", "Time zone"),
    "chain_head": ("Digest kepala rantai audit (akhir bulan, UTC)",
                   "Audit chain head digest (month end, UTC)"),
    "chain_missing": ("— (belum ada entri audit sampai akhir bulan)",
                      "— (no audit entry chained by the month's end)"),
    "incidents": ("Jumlah kejadian", "Incidents"),
    "agency": ("Instansi", "Agency"),
    "segment": ("Segmen", "Segment"),
    "distribution": ("Sebaran waktu tiba di lokasi", "On-scene response time distribution"),
    "minutes": ("Menit", "Minutes"),
    "responses": ("Jumlah respons", "Responses"),
    "map": ("Kejadian per kecamatan", "Incidents by kecamatan"),
    "charts": ("Grafik dan peta", "Chart and map"),
    "sla_limit": ("Batas SLA", "SLA limit"),
    "no_data": ("Tidak ada data pada periode ini", "No data in this period"),
    "percentile": ("Metode persentil: peringkat terdekat", "Percentile method: nearest rank"),
    "drills": ("Latihan tidak dihitung", "Drills are excluded"),
    # register columns
    "incident_id": ("No. kejadian", "Incident no."),
    "received_at": ("Diterima", "Received"),
    "category": ("Kategori", "Category"),
    "kind": ("Jenis", "Kind"),
    "priority": ("Prioritas", "Priority"),
    "status": ("Status", "Status"),
    "kecamatan": ("Kecamatan", "Kecamatan"),
    "desa": ("Desa/Kelurahan", "Village"),
    "agencies": ("Instansi", "Agencies"),
    "role": ("Peran", "Role"),
    "notified_at": ("Diberitahu", "Notified"),
    "acknowledged_at": ("Diterima instansi", "Acknowledged"),
    "arrived_at": ("Tiba pertama", "First arrival"),
    "response_min": ("Waktu respons (menit)", "Response time (min)"),
    "on_scene_min": ("Batas SLA (menit)", "SLA limit (min)"),
    "sla_status": ("Status SLA", "SLA status"),
    "drills_excluded": ("Kejadian latihan tidak dihitung", "Drill incidents left out"),
    # columns of the SLA report's extra tables
    "month": ("Bulan", "Month"),
    "kode_kec": ("Kode kecamatan", "Kecamatan code"),
    "nama_kec": ("Kecamatan", "Kecamatan"),
    "kode_desa": ("Kode desa", "Village code"),
    "nama_desa": ("Desa/Kelurahan", "Village"),
    "version": ("Versi", "Version"),
    "effective_from": ("Berlaku sejak", "Effective from"),
    "reference": ("Dasar hukum", "Reference"),
    "categories": ("Kategori", "Categories"),
    "start": ("Awal jam SLA", "Clock start"),
    "judge": ("Cara menilai", "Judged by"),
    "label": ("Keterangan", "Label"),
}

SLA_STATUS = {"met": ("tepat waktu", "met"), "breached": ("terlambat", "breached"),
              "pending": ("tertunda", "pending")}


class ReportInputError(DispatchError):
    """A report request that cannot be served (bad month, unknown format)."""


def label(key: str, lang: Lang = "id") -> str:
    """The text of ``key`` in ``lang`` (Bahasa Indonesia by default)."""
    pair = (_LABELS.get(key) or SEGMENTS.get(key) or SUMMARY_COLUMNS.get(key)
            or TABLES.get(key))
    if pair is None:
        return key
    return pair[0] if lang == "id" else pair[1]


def parse_month(month: str, tz: str) -> tuple[datetime, datetime]:
    """``"2026-11"`` → the month's ``[start, end)`` as aware datetimes in zone ``tz``."""
    m = _MONTH_RE.match(month or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2999:
        raise ReportInputError(
            f"bulan harus berbentuk YYYY-MM / month must look like YYYY-MM, got {month!r}")
    year, mon = int(m.group(1)), int(m.group(2))
    zone = ZoneInfo(tz)
    start = datetime(year, mon, 1, tzinfo=zone)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=zone)
    return start, end


def month_name(month: str, lang: Lang = "id") -> str:
    """``"2026-11"`` → ``"November 2026"``."""
    year, mon = month.split("-")
    names = MONTHS_ID if lang == "id" else MONTHS_EN
    return f"{names[int(mon) - 1]} {year}"


def minutes(seconds: float | None) -> float | None:
    """Seconds → minutes rounded to 2 decimals (the value written to XLSX and CSV)."""
    return None if seconds is None else round(seconds / 60.0, 2)


def fmt_number(value: float | int | None, decimals: int = 1, lang: Lang = "id") -> str:
    """A number as people of ``lang`` write it: ``1.234,5`` in Indonesian, ``1,234.5`` in
    English; ``"—"`` for no value."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}" if isinstance(value, float) else f"{value:,d}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_time(value: datetime | None, tz: str) -> str:
    """Local ``YYYY-MM-DD HH:MM``, empty for no value."""
    return "" if value is None else value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class AgencyRow:
    """One agency's part in one incident: clocks and the on-scene SLA outcome."""

    incident_id: int
    agency: str
    role: str
    received_at: datetime
    category: str
    nama_kec: str
    nama_desa: str
    notified_at: datetime | None
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    on_scene_min: float
    sla_status: str

    @property
    def response_s(self) -> float | None:
        if self.notified_at is None or self.arrived_at is None:
            return None
        return (self.arrived_at - self.notified_at).total_seconds()


@dataclass(frozen=True)
class IncidentRow:
    """One incident of the register."""

    incident_id: int
    received_at: datetime
    category: str
    kind: str
    priority: int | None
    status: str
    kode_kec: str
    nama_kec: str
    nama_desa: str
    agencies: tuple[str, ...]
    arrived_at: datetime | None

    @property
    def response_s(self) -> float | None:
        if self.arrived_at is None:
            return None
        return (self.arrived_at - self.received_at).total_seconds()


@dataclass(frozen=True)
class KecamatanArea:
    """A kecamatan polygon (EPSG:4326) and its incident count of the month."""

    kode_kec: str
    nama_kec: str
    geom: BaseGeometry
    count: int


@dataclass(frozen=True)
class MonthlyReport:
    """Everything one monthly report shows, for one regency."""

    kode_kab: str
    region_name: str
    month: str
    tz: str
    tz_label: str
    generated_at: datetime
    sla: SlaDocument
    incidents: Sequence[IncidentRow] = ()
    agency_rows: Sequence[AgencyRow] = ()
    kecamatan: Sequence[KecamatanArea] = ()
    chain_head: str | None = None
    agency_names: Mapping[str, str] = field(default_factory=dict)
    #: calls that were not incidents, per kind (prank, silent, information, wrong number...)
    non_incident_calls: Mapping[str, int] = field(default_factory=dict)

    def non_incident_text(self, lang: Lang = "id") -> str:
        """``"3 (iseng 2, salah sambung 1)"``: the total and the kinds that occurred."""
        total = sum(self.non_incident_calls.values())
        kinds = [f"{label('call_' + k, lang)} {n}" for k, n in self.non_incident_calls.items()
                 if n]
        return f"{total} ({', '.join(kinds)})" if kinds else str(total)

    def agency_codes(self) -> list[str]:
        """Agencies of the SLA summary and the register, sorted."""
        codes = {a.agency for a in self.sla.agencies}
        codes |= {r.agency for r in self.agency_rows}
        return sorted(codes)

    def response_times_s(self) -> list[float]:
        """On-scene response times (notification → first arrival) of the month, seconds."""
        return [s for r in self.agency_rows if (s := r.response_s) is not None]


def summary_value(summary: Summary, column: str) -> float | int | None:
    """A summary cell as written to tables: seconds become minutes, percentages 1 decimal;
    ``None`` for a column the summary does not have."""
    value = getattr(summary, column, None)
    if value is None:
        return None
    if column.endswith("_s"):
        return minutes(float(value))
    if column.endswith("_pct"):
        return round(float(value), 1)
    return value


def summary_columns(report: MonthlyReport) -> list[str]:
    """The columns of :data:`SUMMARY_COLUMNS` that some summary of the report has, in order."""
    summaries = [s for a in report.sla.agencies for s in a.summaries().values()]
    return [c for c in SUMMARY_COLUMNS if any(hasattr(s, c) for s in summaries)]


def breakdown_tables(sla: SlaDocument) -> dict[str, list[dict[str, Any]]]:
    """The SLA document's tables beside the summaries, flattened (nested summaries become
    ``outer.inner`` columns), those with rows: the per-rule verdicts of every agency
    (``perbup_rules``), the breakdowns by kecamatan and by desa, the rule versions."""
    tables: dict[str, list[dict[str, Any]]] = {}
    rules = [{"agency": a.agency} | _flatten(asdict(r)) for a in sla.agencies
             if a.sections is not None for r in a.sections.perbup_rules]
    for key, rows in (("perbup_rules", rules),
                      ("breakdown", [_flatten(asdict(r)) for r in sla.breakdown]),
                      ("breakdown_desa", [_flatten(asdict(r)) for r in sla.breakdown_desa]),
                      ("rule_versions", [_flatten(asdict(v)) for v in sla.rule_versions])):
        if rows:
            tables[key] = rows
    return tables


def column_label(column: str, lang: Lang = "id") -> str:
    """Header of a flattened column: ``total_response.p90_response_s`` → ``Respons total P90
    (menit)``."""
    return " ".join(label(part, lang) for part in column.split("."))


def table_value(column: str, value: Any) -> Any:
    """A cell of an extra table: seconds as minutes, lists joined, other values as they are."""
    if value is not None and column.endswith("_s") and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return minutes(float(value))
    return value


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, name + "."))
        elif isinstance(v, list | tuple):
            out[name] = ", ".join(str(x) for x in v)
        elif isinstance(v, datetime):
            out[name] = iso_utc(v)
        else:
            out[name] = v
    return out
