"""The dashboard figures against real PostGIS, checked by hand on a small fixture week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from dispatch.call_log import call_counts, log_call
from dispatch.dashboard_service import dashboard_figures, nearest_rank_p90
from dispatch.exceptions import RegionNotFound
from dispatch.models import Assignment, Incident, Unit
from dispatch.scope import Scope

KAB = "64.71"
T0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)


def _incident(s, kind: str, minutes: float | None, *, status="new", drill=False,
              kec=("64.71.06", "Balikpapan Kota"), unit=None):
    inc = Incident(kode_kab=KAB, received_at=T0, channel="phone_112", category="fire",
                   kind=kind, status=status, drill=drill, kode_kec=kec[0], nama_kec=kec[1],
                   description="", triage_overridden=False)
    s.add(inc)
    s.flush()
    if minutes is not None:
        s.add(Assignment(kode_kab=KAB, incident_id=inc.id, unit_id=unit.id,
                         agency_id=unit.agency_id, status="cleared", dispatched_at=T0,
                         arrived_at=T0 + timedelta(minutes=minutes)))
        s.flush()
    return inc


def test_figures_by_hand(seeded):
    s = seeded
    s.execute(text("UPDATE incident SET kode_kab = '00.00' WHERE kode_kab = :k"), {"k": KAB})
    s.execute(text("UPDATE call_log SET kode_kab = '00.00' WHERE kode_kab = :k"), {"k": KAB})
    unit = s.scalars(select(Unit).where(Unit.kode_kab == KAB)).first()
    for minutes in (8, 20, 11, None):
        _incident(s, "emergency", minutes, unit=unit)
    _incident(s, "emergency", 5, kec=("64.71.01", "Balikpapan Selatan"), unit=unit)
    _incident(s, "public_service", None)
    _incident(s, "emergency", 1, status="cancelled", unit=unit)   # a call, not an emergency
    _incident(s, "emergency", 1, drill=True, unit=unit)           # a drill: not even a call
    for kind in ("prank", "prank", "wrong_number"):
        log_call(s, scope=Scope.of([KAB]), kode_kab=KAB, kind=kind, channel="phone_112",
                 caller_phone="081234567890", note="", actor="op", now=T0)
    log_call(s, scope=Scope.of([KAB]), kode_kab=KAB, kind="silent", channel="phone_112",
             caller_phone=None, note="", actor="op", now=T0 + timedelta(days=2))  # outside
    fig = dashboard_figures(s, scope=Scope.of([KAB]), kode_kab=KAB, start=T0,
                            end=T0 + timedelta(days=1))
    assert (fig.calls, fig.non_incident_calls) == (7 + 3, 3)
    assert (fig.emergencies, fig.complaints, fig.arrived) == (5, 1, 4)
    assert call_counts(s, scope=Scope.of([KAB]), kode_kab=KAB, start=T0,
                       end=T0 + timedelta(days=3)) == {"prank": 2, "silent": 1,
                                                       "information": 0, "wrong_number": 1,
                                                       "dropped": 0}
    # receipt to first unit on scene: 8, 20, 11, 5 minutes
    assert fig.mean_response_s == pytest.approx((8 + 20 + 11 + 5) * 60 / 4)
    assert fig.p90_response_s == 20 * 60  # nearest rank: ceil(0.9 x 4) = 4th of 5, 8, 11, 20
    kota = next(k for k in fig.kecamatan if k.kode_kec == "64.71.06")
    assert (kota.emergencies, kota.arrived, kota.mean_response_s) == (4, 3, 13 * 60)
    selatan = next(k for k in fig.kecamatan if k.kode_kec == "64.71.01")
    assert selatan.p90_response_s == 5 * 60
    with pytest.raises(RegionNotFound):
        dashboard_figures(s, scope=Scope.of(["51.06"]), kode_kab=KAB, start=T0,
                          end=T0 + timedelta(days=1))


def test_nearest_rank():
    assert nearest_rank_p90([]) is None
    assert nearest_rank_p90([3.0]) == 3.0
    assert nearest_rank_p90(list(map(float, range(1, 11)))) == 9.0
    assert nearest_rank_p90(list(map(float, range(1, 12)))) == 10.0
