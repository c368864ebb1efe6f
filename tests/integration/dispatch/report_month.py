"""A committed fixture month for the report tests: March 2019 in Kabupaten Bangli (51.06, WITA),
with two test agencies of its own (``RPT_DAMKAR``, ``RPT_PSC``), a unit each, four incidents in
the month (one at 00:30 local on the 1st, which is still February in UTC), a drill and an
incident at 00:30 local on 1 April (both left out). Everything is deleted afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

KAB = "51.06"
MONTH = "2019-03"
WITA = timezone(timedelta(hours=8))
CATEGORY_TAG = "laporan_uji"


@dataclass(frozen=True)
class Month:
    kode_kab: str
    month: str
    incident_ids: list[int]  # the register of the month, in time order
    kecamatan: list[tuple[str, str]]  # (kode_kec, nama_kec) used


def _insert(s: Session, sql: str, **params) -> int:
    return int(s.execute(text(sql + " RETURNING id"), params).scalar_one())


def _cleanup(engine) -> None:
    with Session(engine) as s:
        s.execute(text("DELETE FROM incident WHERE kode_kab = :k AND description = :t"),
                  {"k": KAB, "t": CATEGORY_TAG})
        s.execute(text("DELETE FROM unit WHERE kode_kab = :k AND call_sign LIKE 'RPT-%'"),
                  {"k": KAB})
        s.execute(text("DELETE FROM agency WHERE kode_kab = :k AND code LIKE 'RPT\\_%'"),
                  {"k": KAB})
        s.commit()


@pytest.fixture
def report_month(engine, pilot_regions) -> Iterator[Month]:
    _cleanup(engine)
    with Session(engine) as s:
        kec = list(s.execute(text(
            "SELECT kode_kec, nama_kec, ST_X(ST_PointOnSurface(geom)), "
            "ST_Y(ST_PointOnSurface(geom)) FROM kecamatan WHERE kode_kab = :k "
            "ORDER BY kode_kec LIMIT 2"), {"k": KAB}))
        agencies, units = {}, {}
        for code in ("RPT_DAMKAR", "RPT_PSC"):
            agencies[code] = _insert(
                s, "INSERT INTO agency (kode_kab, code, name, name_en, kind, standby_contact) "
                   "VALUES (:k, :c, :n, '', 'internal', '')", k=KAB, c=code, n=f"Uji {code}")
            units[code] = _insert(
                s, "INSERT INTO unit (kode_kab, agency_id, call_sign, vehicle_type, profile, "
                   "capabilities, status, illustrative) VALUES (:k, :a, :cs, 'car', "
                   "'ambulance', '{}', 'available', true)",
                k=KAB, a=agencies[code], cs=f"RPT-{code}")

        def incident(at: datetime, category: str, k: int, *, drill: bool = False,
                     agency: str | None = None, notified_min: float = 1.0,
                     ack_min: float = 2.0, arrived_min: float | None = None) -> int:
            kode_kec, nama_kec, lon, lat = kec[k]
            iid = _insert(
                s, "INSERT INTO incident (kode_kab, received_at, channel, category, kind, "
                   "priority, status, kode_kec, nama_kec, nama_desa, geom, description, "
                   "triage_overridden, drill) VALUES (:k, :at, 'phone_112', :cat, 'emergency', "
                   "1, 'closed', :kec, :nkec, 'Desa uji', ST_SetSRID(ST_MakePoint(:lon, :lat), "
                   "4326), :tag, false, :drill)",
                k=KAB, at=at, cat=category, kec=kode_kec, nkec=nama_kec, lon=lon, lat=lat,
                tag=CATEGORY_TAG, drill=drill)
            if agency is not None:
                s.execute(text(
                    "INSERT INTO incident_agency (kode_kab, incident_id, agency_id, role, "
                    "required, capabilities, units_required, ack_min, on_scene_min, "
                    "notified_at, acknowledged_at, escalation_count) VALUES (:k, :i, :a, "
                    "'dispatch', true, '{}', 1, 5, 15, :n, :ack, 0)"),
                    {"k": KAB, "i": iid, "a": agencies[agency],
                     "n": at + timedelta(minutes=notified_min),
                     "ack": at + timedelta(minutes=ack_min)})
                if arrived_min is not None:
                    s.execute(text(
                        "INSERT INTO assignment (kode_kab, incident_id, unit_id, agency_id, "
                        "status, dispatched_at, departed_at, arrived_at, estimated) VALUES "
                        "(:k, :i, :u, :a, 'cleared', :d, :d, :arr, false)"),
                        {"k": KAB, "i": iid, "u": units[agency], "a": agencies[agency],
                         "d": at + timedelta(minutes=notified_min),
                         "arr": at + timedelta(minutes=arrived_min)})
            return iid

        first = incident(datetime(2019, 3, 1, 0, 30, tzinfo=WITA), "complaint_noise", 1)
        a = incident(datetime(2019, 3, 5, 10, 0, tzinfo=WITA), "fire", 0, agency="RPT_DAMKAR",
                     arrived_min=9)  # 8 min after notification: met
        b = incident(datetime(2019, 3, 10, 14, 0, tzinfo=WITA), "medical", 1,
                     agency="RPT_PSC", notified_min=0.5, ack_min=1.5,
                     arrived_min=25)  # 24.5 min: breached (15)
        c = incident(datetime(2019, 3, 20, 8, 0, tzinfo=WITA), "fire", 0, agency="RPT_DAMKAR",
                     arrived_min=13)  # 12 min: met
        incident(datetime(2019, 3, 21, 8, 0, tzinfo=WITA), "fire", 0, drill=True,
                 agency="RPT_DAMKAR", arrived_min=50)
        incident(datetime(2019, 4, 1, 0, 30, tzinfo=WITA), "fire", 0, agency="RPT_DAMKAR",
                 arrived_min=40)
        s.commit()
    try:
        yield Month(KAB, MONTH, [first, a, b, c], [(k[0], k[1]) for k in kec])
    finally:
        _cleanup(engine)
