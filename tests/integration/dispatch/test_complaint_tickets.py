"""Complaint tickets in PostGIS: opened at triage with the Perbup follow-up deadline, quoted
by number, moved by the OPD (rejection needs a reason), overdue per OPD, scoped, and judged in
the SLA report by the ticket's close."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dispatch import complaint_service as complaints
from dispatch import incident_service as svc
from dispatch.exceptions import DispatchValidationError, IllegalTransition
from dispatch.report_service import sla_report
from dispatch.rule_models import ComplaintTicket
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING
from dispatch.triage import TriageOverride

T = datetime(2026, 4, 6, 2, 0, tzinfo=UTC)
ALL = Scope.everything()


def complaint(session, config, kode_kab, category, at=T):
    i = svc.create_incident(session, config=config, geocoder=None, category=category,
                            actor="op1", kode_kab=kode_kab, channel="complaint_line",
                            received_at=at, now=at, scope=EVERYTHING).value
    svc.triage_incident(session, i.id, config=config, actor="op1", now=at, scope=EVERYTHING)
    return i, session.scalars(select(ComplaintTicket)
                              .where(ComplaintTicket.incident_id == i.id)).all()


def test_ticket_opened_at_triage_with_the_perbup_deadline(seeded, dispatch_config):
    # Bangli: public-service complaints followed up within 2880 min of the forwarding
    i, [t] = complaint(seeded, dispatch_config, "51.06", "public_order")
    assert t.due_at == T + timedelta(minutes=2880)
    assert t.status == "received" and t.ticket_no.startswith("5106-")
    assert complaints.normalize_ticket_number(t.ticket_no) == t.ticket_no
    # Kota Yogyakarta: 1440 min
    _, [y] = complaint(seeded, dispatch_config, "34.71", "road_damage")
    assert y.due_at == T + timedelta(minutes=1440) and y.ticket_no.startswith("3471-")
    # an emergency opens no ticket; a re-triage does not open a second one
    _, none = complaint(seeded, dispatch_config, "51.06", "fire")
    assert none == []
    svc.triage_incident(seeded, i.id, config=dispatch_config, actor="op1", now=T,
                        override=TriageOverride(priority=3, reason="cek ulang"), scope=EVERYTHING)
    assert seeded.scalar(select(func.count()).select_from(ComplaintTicket)
                         .where(ComplaintTicket.incident_id == i.id)) == 1


def test_status_moves_and_rules(seeded, dispatch_config):
    _, [t] = complaint(seeded, dispatch_config, "51.06", "public_order")
    quoted = t.ticket_no.replace("-", " ")
    out = complaints.get_ticket(seeded, ALL, quoted, now=T)
    assert (out["status"], out["status_label"], out["agency"]) == (
        "received", "Diterima", "SATPOLPP")
    with pytest.raises(DispatchValidationError, match="alasan"):
        complaints.set_status(seeded, ALL, t.ticket_no, "rejected", actor="satpol", now=T)
    out = complaints.set_status(seeded, ALL, t.ticket_no, "in_progress", actor="satpol",
                                now=T + timedelta(hours=1))
    assert out["status"] == "in_progress" and out["closed_at"] is None
    out = complaints.set_status(seeded, ALL, t.ticket_no, "done", actor="satpol",
                                now=T + timedelta(hours=5))
    assert out["closed_at"] == "2026-04-06T07:00:00Z" and out["overdue"] is False
    with pytest.raises(IllegalTransition):
        complaints.set_status(seeded, ALL, t.ticket_no, "in_progress", actor="satpol")
    _, [r] = complaint(seeded, dispatch_config, "51.06", "public_order")
    out = complaints.set_status(seeded, ALL, r.ticket_no, "rejected", actor="satpol",
                                reason="Bukan kewenangan kabupaten", now=T)
    assert (out["status"], out["reason"]) == ("rejected", "Bukan kewenangan kabupaten")


def test_mistyped_or_other_tenant_numbers_are_not_found(seeded, dispatch_config):
    _, [t] = complaint(seeded, dispatch_config, "51.06", "public_order")
    digits = [c for c in t.ticket_no if c.isdigit()]
    digits[5] = str((int(digits[5]) + 1) % 10)
    with pytest.raises(complaints.TicketNotFound):
        complaints.get_ticket(seeded, ALL, "".join(digits))
    with pytest.raises(complaints.TicketNotFound):
        complaints.get_ticket(seeded, Scope.of(["34.71"]), t.ticket_no)
    with pytest.raises(complaints.TicketNotFound):
        complaints.set_status(seeded, Scope.of(["51.06"], "DINSOS"), t.ticket_no, "done",
                              actor="dinsos")
    own = complaints.get_ticket(seeded, Scope.of(["51.06"], "SATPOLPP"), t.ticket_no)
    assert own["agency"] == "SATPOLPP"


def test_overdue_list_per_opd(seeded, dispatch_config):
    _, [late] = complaint(seeded, dispatch_config, "51.06", "public_order")
    _, [welfare] = complaint(seeded, dispatch_config, "51.06", "social_welfare",
                             at=T + timedelta(hours=2))
    _, [handled] = complaint(seeded, dispatch_config, "51.06", "public_order")
    complaints.set_status(seeded, ALL, handled.ticket_no, "done", actor="satpol",
                          now=T + timedelta(hours=3))
    _, [fresh] = complaint(seeded, dispatch_config, "51.06", "road_damage",
                           at=T + timedelta(days=2))
    now = T + timedelta(days=2, hours=3)  # 51 h after T: the first two are past 48 h
    out = complaints.overdue(seeded, ALL, kode_kab="51.06", now=now)
    assert [(g["agency"], g["overdue"]) for g in out] == [("DINSOS", 1), ("SATPOLPP", 1)]
    assert out[1]["tickets"][0]["ticket_no"] == late.ticket_no
    assert out[1]["tickets"][0]["overdue_s"] == 3 * 3600
    assert out[0]["tickets"][0]["overdue_s"] == 3600
    only = complaints.overdue(seeded, ALL, kode_kab="51.06", now=now, agency="DINSOS")
    assert [g["agency"] for g in only] == ["DINSOS"]
    desk = complaints.overdue(seeded, Scope.of(["51.06"], "SATPOLPP"), kode_kab="51.06",
                              now=now)
    assert [g["agency"] for g in desk] == ["SATPOLPP"]
    with pytest.raises(complaints.TicketNotFound):
        complaints.overdue(seeded, Scope.of(["34.71"]), kode_kab="51.06", now=now)
    assert fresh.ticket_no not in {t["ticket_no"] for g in out for t in g["tickets"]}
    assert welfare.due_at == T + timedelta(hours=2, minutes=2880)


def test_report_judges_forwarded_complaints_by_the_ticket(seeded, dispatch_config):
    _, [done] = complaint(seeded, dispatch_config, "51.06", "public_order")
    complaints.set_status(seeded, ALL, done.ticket_no, "done", actor="satpol",
                          now=T + timedelta(hours=20))
    complaint(seeded, dispatch_config, "51.06", "public_order")  # never handled
    out = sla_report(seeded, kode_kab="51.06", start=T - timedelta(days=1),
                     end=T + timedelta(days=1), now=T + timedelta(days=5), scope=EVERYTHING)
    satpol = out.agency("SATPOLPP").sections
    p = satpol.perbup
    assert (p.count, p.met, p.breached, p.unfinished) == (2, 1, 1, 1)
    assert p.mean_response_s == 20 * 3600
    assert satpol.perbup_rules[0].limit_min == 2880
