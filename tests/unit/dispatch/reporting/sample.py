"""A small monthly report built in memory (two agencies, three incidents, two kecamatan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shapely.geometry import box

from dispatch.reporting.model import AgencyRow, IncidentRow, KecamatanArea, MonthlyReport
from dispatch.sla import SlaSummary
from dispatch.sla_document import AgencyEntry, SlaDocument

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def _seg(count: int, met: int, breached: int, mean_s: float | None,
         p90_s: float | None) -> SlaSummary:
    return SlaSummary(count, met, breached, count - met - breached, mean_s, p90_s)


def sample_report(**changes) -> MonthlyReport:
    def t(minutes: float) -> datetime:
        return T0 + timedelta(minutes=minutes)

    incidents = [
        IncidentRow(1, t(0), "fire", "emergency", 1, "closed", "51.06.01", "Bangli", "Kawan",
                    ("DAMKAR",), t(9)),
        IncidentRow(2, t(60), "medical", "emergency", 2, "closed", "51.06.01", "Bangli",
                    "Cempaga", ("PSC119",), t(80)),
        IncidentRow(3, t(600), "=cmd|' /C calc'!A0", "complaint", None, "new", "51.06.02",
                    "Susut", "Abuan", (), None),
    ]
    rows = [
        AgencyRow(1, "DAMKAR", "dispatch", t(0), "fire", "Bangli", "Kawan", t(1), t(2), t(9),
                  15.0, "met"),
        AgencyRow(2, "PSC119", "dispatch", t(60), "medical", "Bangli", "Cempaga", t(61),
                  t(63), t(80), 15.0, "breached"),
    ]
    sla = SlaDocument(
        kode_kab="51.06", start=T0, end=T0 + timedelta(days=30), evaluated_at=t(43000),
        agencies=[AgencyEntry("DAMKAR", "Damkar", on_scene=_seg(1, 1, 0, 480.0, 480.0),
                              acknowledgement=_seg(1, 1, 0, 60.0, 60.0)),
                  AgencyEntry("PSC119", "PSC 119", on_scene=_seg(1, 0, 1, 1140.0, 1140.0),
                              acknowledgement=_seg(1, 1, 0, 120.0, 120.0))])
    areas = [KecamatanArea("51.06.01", "Bangli", box(115.30, -8.50, 115.40, -8.40), 2),
             KecamatanArea("51.06.02", "Susut", box(115.40, -8.50, 115.50, -8.40), 1)]
    values = dict(kode_kab="51.06", region_name="Kabupaten Bangli", month="2026-11",
                  tz="Asia/Makassar", tz_label="WITA", generated_at=t(43000), sla=sla,
                  incidents=incidents, agency_rows=rows, kecamatan=areas, chain_head=None)
    values.update(changes)
    return MonthlyReport(**values)
