"""Drills (latihan) against real PostGIS: exercises, drill incidents, exclusion from the planner
statistics by default, list filters, and the purge (records deleted, units released, audit kept
and marked, other regencies untouched)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from dispatch import analytics_service as analytics
from dispatch import assignment_service as asg
from dispatch import drill
from dispatch import incident_service as svc
from dispatch.exceptions import DispatchNotFound, DispatchValidationError
from dispatch.models import Assignment, AuditLog, Exercise, Incident, Unit
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING

KAB = "51.06"
T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
#: Inside Kabupaten Bangli, near the illustrative Damkar post in Kawan.
SCENE = (115.3590, -8.4560)
BANGLI = Scope.of([KAB])
YOGYA = Scope.of(["34.71"])


@pytest.fixture
def db(seeded, pilot_regions):
    """Seeded session; incidents other tests committed for Bangli moved out for exact counts."""
    seeded.execute(text("UPDATE incident SET kode_kab = '00.00' WHERE kode_kab = :k"), {"k": KAB})
    return seeded


def _call(db, config, geocoder, *, drill_flag=False, exercise_id=None, at=T0):
    from geo.types import LonLat

    return svc.create_incident(
        db, config=config, geocoder=geocoder, category="fire", kode_kab=KAB,
        location=LonLat(*SCENE), actor="op112", received_at=at, now=at, drill=drill_flag,
        exercise_id=exercise_id, scope=EVERYTHING).value


def test_exercise_incidents_are_drills_and_audited_as_such(db, dispatch_config, geocoder):
    ex = drill.create_exercise(db, scope=BANGLI, kode_kab=KAB, name="Latihan Gabungan",
                               actor="admin", now=T0)
    inc = _call(db, dispatch_config, geocoder, exercise_id=ex.id)
    assert (inc.drill, inc.exercise_id) == (True, ex.id)
    create = db.scalars(select(AuditLog).where(AuditLog.entity == "incident",
                                               AuditLog.entity_id == inc.id)).one()
    assert create.after["drill"] is True and create.after["exercise_id"] == ex.id
    real = _call(db, dispatch_config, geocoder)
    assert real.drill is False and real.exercise_id is None
    # another regency's scope does not see the exercise; an ended exercise takes no more calls
    with pytest.raises(DispatchNotFound):
        drill.get_exercise(db, ex.id, scope=YOGYA)
    with pytest.raises(DispatchNotFound):
        drill.create_exercise(db, scope=YOGYA, kode_kab=KAB, name="x", actor="admin")
    drill.end_exercise(db, ex.id, scope=BANGLI, actor="admin", now=T0 + timedelta(hours=1))
    with pytest.raises(DispatchValidationError):
        _call(db, dispatch_config, geocoder, exercise_id=ex.id, at=T0 + timedelta(hours=2))
    assert [e.id for e in drill.list_exercises(db, scope=BANGLI)] == [ex.id]
    assert drill.list_exercises(db, scope=YOGYA) == []


def test_drills_listed_on_request_and_left_out_of_statistics(db, dispatch_config, geocoder):
    real = _call(db, dispatch_config, geocoder)
    fake = _call(db, dispatch_config, geocoder, drill_flag=True, at=T0 + timedelta(minutes=5))
    listed = {i.id for i in svc.list_incidents(db, kode_kab=KAB, scope=EVERYTHING)}
    assert {real.id, fake.id} <= listed
    assert [i.id for i in svc.list_incidents(db, kode_kab=KAB, drill=True,
                                             scope=EVERYTHING)] == [fake.id]
    assert [i.id for i in svc.list_incidents(db, kode_kab=KAB, drill=False,
                                             scope=EVERYTHING)] == [real.id]

    def total(flt):
        return int(analytics.desa_counts(session=db, kode_kab=KAB, flt=flt).count.sum())

    assert total(analytics.IncidentFilter(scope=EVERYTHING)) == 1
    assert total(analytics.IncidentFilter(include_drills=True, scope=EVERYTHING)) == 2
    # (hotspots, time patterns and the siting demand share this one incident filter)


def test_purge_deletes_drills_releases_units_and_keeps_the_audit(db, dispatch_config, geocoder):
    ex = drill.create_exercise(db, scope=BANGLI, kode_kab=KAB, name="Latihan", actor="admin",
                               now=T0)
    fake = _call(db, dispatch_config, geocoder, exercise_id=ex.id)
    real = _call(db, dispatch_config, geocoder, at=T0 + timedelta(minutes=1))
    # same place, same category, a minute later: still not a duplicate of the drill
    assert real.probable_duplicate_of is None
    twin = _call(db, dispatch_config, geocoder, exercise_id=ex.id, at=T0 + timedelta(minutes=2))
    assert twin.probable_duplicate_of == fake.id  # drills are compared among themselves
    svc.triage_incident(db, fake.id, config=dispatch_config, actor="op112", now=T0,
                        scope=EVERYTHING)
    unit = db.scalars(select(Unit).where(Unit.call_sign == "BLI-DAMKAR-01")).one()
    a = asg.assign_unit(db, fake.id, unit.id, config=dispatch_config, actor="op112",
                        now=T0 + timedelta(minutes=1), scope=EVERYTHING).value
    assert unit.status == "dispatched"
    ids = (fake.id, real.id, a.id, ex.id, unit.id)
    other = drill.create_exercise(db, scope=BANGLI, kode_kab=KAB, name="Baru dibuka",
                                  actor="admin", now=T0).id  # open, no call yet: stays
    audit_before = db.scalar(select(text("count(*)")).select_from(AuditLog))
    # another regency's scope may not purge Bangli's drills
    with pytest.raises(DispatchNotFound):
        drill.purge_drills(db, scope=YOGYA, kode_kab=KAB, actor="admin")
    report = drill.purge_drills(db, scope=BANGLI, kode_kab=KAB, actor="admin",
                                now=T0 + timedelta(hours=1))
    assert (report.incidents, report.assignments, report.units_released,
            report.exercises) == (2, 1, 1, 1)
    assert report.incident_ids == (fake.id, twin.id)
    db.expunge_all()
    fake_id, real_id, a_id, ex_id, unit_id = ids
    assert db.get(Incident, fake_id) is None and db.get(Assignment, a_id) is None
    assert db.get(Exercise, ex_id) is None and db.get(Exercise, other) is not None
    assert db.get(Incident, real_id) is not None  # the real call stays
    assert db.get(Unit, unit_id).status == "available"
    # the audit log is kept: every earlier entry plus the release and the purge entry
    audit_after = db.scalar(select(text("count(*)")).select_from(AuditLog))
    assert audit_after == audit_before + 2
    purge = db.scalars(select(AuditLog).where(  # (other purges' entries stay in the log)
        AuditLog.action == "purge_drills", AuditLog.kode_kab == KAB,
        AuditLog.at == T0 + timedelta(hours=1))).one()
    assert purge.after["incident_ids"] == list(report.incident_ids) and purge.after["drill"] is True
    kept = db.scalars(select(AuditLog).where(AuditLog.entity == "incident",
                                             AuditLog.entity_id == fake_id)).all()
    assert kept and kept[0].after["drill"] is True
    # nothing left to purge
    assert drill.purge_drills(db, scope=BANGLI, kode_kab=KAB, actor="admin").incidents == 0


def test_sla_report_leaves_drills_out_unless_asked(db, dispatch_config, geocoder):
    from dispatch.report_service import sla_report

    for drill_flag, minute in ((False, 0), (True, 1)):
        inc = _call(db, dispatch_config, geocoder, drill_flag=drill_flag,
                    at=T0 + timedelta(minutes=minute))
        svc.triage_incident(db, inc.id, config=dispatch_config, actor="op112",
                            now=T0 + timedelta(minutes=minute),
                            scope=EVERYTHING)  # PSC 119 on standby: notified

    def psc_acks(**kw):
        out = sla_report(db, kode_kab=KAB, start=T0, end=T0 + timedelta(hours=1),
                         now=T0 + timedelta(hours=2), scope=EVERYTHING, **kw)
        ack = out.agency("PSC119").acknowledgement
        return ack.met + ack.breached + ack.pending

    assert psc_acks() == 1
    assert psc_acks(include_drills=True) == 2


def test_a_public_warning_about_a_drill_goes_out_as_an_exercise(db, dispatch_config, geocoder):
    from dispatch.cap_service import WarningText, public_warning

    def warning(incident):
        return public_warning(
            db, scope=BANGLI, kode_kab=KAB, categories=["Fire"], urgency="Immediate",
            severity="Severe", certainty="Observed", response_types=["Avoid"], sent=T0,
            expires_in_min=60, incident_id=incident.id, status="Actual",
            texts=[WarningText(language="id-ID", event="Kebakaran")]).decode("utf-8")

    assert "<status>Exercise</status>" in warning(_call(db, dispatch_config, geocoder,
                                                        drill_flag=True))
    assert "<status>Actual</status>" in warning(_call(db, dispatch_config, geocoder))


def test_standby_line_notifications_of_a_drill_say_so(db, dispatch_config, geocoder):
    from dispatch.notification_service import ChannelInput, add_channel, enqueue
    add_channel(db, scope=BANGLI, kode_kab=KAB, actor="admin", now=T0,
                channel=ChannelInput(agency_code="PSC119", kind="sms", target="081234567890"))
    fake = _call(db, dispatch_config, geocoder, drill_flag=True)
    real = _call(db, dispatch_config, geocoder, at=T0 + timedelta(minutes=1))
    [drill_note] = enqueue(db, kind="escalation", kode_kab=KAB, agency_code="PSC119",
                           incident_id=fake.id, data={"overdue_s": 600}, now=T0)
    [real_note] = enqueue(db, kind="escalation", kode_kab=KAB, agency_code="PSC119",
                          incident_id=real.id, data={"overdue_s": 600}, now=T0)
    assert drill_note.text.startswith("LATIHAN/DRILL: ESKALASI 112")
    assert drill_note.subject.startswith("[LATIHAN/DRILL]") and drill_note.payload["drill"]
    assert "LATIHAN" not in real_note.text and "drill" not in real_note.payload
