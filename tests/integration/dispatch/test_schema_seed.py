"""Migration 0003, the append-only audit log, and the idempotent seed."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from dispatch import audit
from dispatch.models import Agency, AuditLog, SlaRule, Station, Unit
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import DATA_DIR, fleet_path, seed, seed_region
from tests.fixtures.dispatch import seed_all


def _count(session, model, kode):
    return session.scalar(select(func.count()).select_from(model).where(model.kode_kab == kode))


def test_every_table_carries_kode_kab(db_session):
    for table in ("agency", "sla_rule", "station", "unit", "incident", "incident_agency",
                  "assignment", "audit_log"):
        cols = db_session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
            {"t": table}).scalars().all()
        assert "kode_kab" in cols, table


def test_audit_log_rejects_update_and_delete(db_session):
    entry = audit.record(db_session, actor="t", at=datetime.now(UTC), entity="x", entity_id=1,
                         action="a", after={"k": 1})
    db_session.flush()
    for sql in ("UPDATE audit_log SET actor = 'mallory' WHERE id = :id",
                "DELETE FROM audit_log WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db_session.begin_nested():
                db_session.execute(text(sql), {"id": entry.id})
    with pytest.raises(DBAPIError, match="append-only"):
        with db_session.begin_nested():
            db_session.execute(text("TRUNCATE audit_log"))
    assert db_session.get(AuditLog, entry.id).actor == "t"


def test_seed_is_idempotent_and_complete(db_session, dispatch_config):
    first = seed_all(db_session, dispatch_config)
    counts = {k: (_count(db_session, Agency, k), _count(db_session, SlaRule, k),
                  _count(db_session, Station, k), _count(db_session, Unit, k))
              for k in ("34.71", "51.06", "64.71")}
    seed_all(db_session, dispatch_config)
    again = {k: (_count(db_session, Agency, k), _count(db_session, SlaRule, k),
                 _count(db_session, Station, k), _count(db_session, Unit, k))
             for k in counts}
    assert counts == again
    ncat = len(dispatch_config.categories)
    assert counts["34.71"] == (10, 10 * ncat, 10, 12)
    assert counts["51.06"][0] == 10 and counts["51.06"][3] == 8
    yk = next(r for r in first if r.kode_kab == "34.71")
    assert "illustrative fleet" in yk.notes[0]
    units = db_session.scalars(select(Unit).where(Unit.kode_kab == "34.71")).all()
    assert all(u.illustrative and u.status == "available" for u in units)
    fire = db_session.execute(select(SlaRule.on_scene_min).join(Agency).where(
        Agency.kode_kab == "34.71", Agency.code == "DAMKAR", SlaRule.category == "fire")).scalar()
    assert fire == 15


def test_seed_only_pilot_regions_with_default_files(db_session):
    from dispatch.config import load_config

    reports = seed(db_session, load_config(), regions=["64.71"])
    assert [(r.kode_kab, r.units, r.stations) for r in reports] == [("64.71", 3, 3)]
    assert fleet_path("64.71", DATA_DIR).exists()


def test_fleet_for_wrong_region_is_refused(db_session, dispatch_config):
    from dispatch.exceptions import DispatchConfigError

    with pytest.raises(DispatchConfigError, match="not 51.06"):
        seed_region(db_session, dispatch_config, "51.06", fleet=fleet_path("34.71", DATA_DIR))


def test_seed_registers_trackers_and_on_duty_devices(seeded):
    from dispatch.assignment_service import on_duty_devices, set_unit_status
    from tracking.service import get_device

    device = get_device(seeded, "yk-damkar-01")
    assert device.registered and device.label == "YK-DAMKAR-01" and device.kode_kab == "34.71"
    on_duty = on_duty_devices(seeded)
    assert {"yk-damkar-01", "bli-psc-01", "bpn-bpbd-01"} <= on_duty
    unit = seeded.scalars(select(Unit).where(Unit.call_sign == "YK-DAMKAR-01")).one()
    set_unit_status(seeded, unit.id, "out_of_service", actor="t", scope=EVERYTHING)
    assert "yk-damkar-01" not in on_duty_devices(seeded)
