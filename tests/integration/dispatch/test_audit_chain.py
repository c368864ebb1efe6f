"""The audit hash chain on the real database: concurrent writers, the arrival digest in the
chain, and tampering by the owner role caught by ``siaga audit verify`` and the evidence endpoint.

Runs in a database of its own (``$SIAGA_TEST_DB`` + ``_audit``): these tests commit, and some
tamper with the log as the owner (and put it back), which the shared test database must not see.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app as cli_app
from dispatch import assignment_service as asg
from dispatch import audit
from dispatch import incident_service as svc
from dispatch.audit_chain_service import verify_chain
from dispatch.models import Assignment, AuditChain, AuditLog, Unit
from dispatch.scope import Scope
from dispatch.verification import verify_arrivals
from tests.conftest import create_database
from tests.fixtures.console import ensure_user
from tests.fixtures.dispatch import seed_all, store_fixes
from tests.integration.dispatch.test_arrival_verification import DEVICE, SCENE, at_m, fixes

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EVERYTHING = Scope.everything()


@pytest.fixture(scope="module")
def chain_url(settings) -> str:
    return create_database(settings, os.environ.get("SIAGA_TEST_DB", "siaga_test") + "_audit")


@pytest.fixture(scope="module")
def chain_engine(chain_url):
    from api.db import make_engine

    eng = make_engine(chain_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def arrived(chain_engine, dispatch_config) -> int:
    """A fire incident whose unit arrived by GPS 20 min after the call (SLA 15 min: breached),
    committed; returns the assignment id."""
    with Session(chain_engine) as s:
        seed_all(s, dispatch_config)
        s.commit()
        i = svc.create_incident(s, config=dispatch_config, geocoder=None, kode_kab="34.71",
                                category="fire", location=SCENE, actor="op", now=T0,
                                scope=EVERYTHING).value
        svc.triage_incident(s, i.id, config=dispatch_config, actor="op", now=T0, scope=EVERYTHING)
        u = s.scalars(select(Unit).where(Unit.device_id == DEVICE)).one()
        a = asg.assign_unit(s, i.id, u.id, config=dispatch_config, actor="op", now=T0,
                            scope=EVERYTHING).value
        s.commit()
        dwell = fixes(T0 + timedelta(minutes=20), [at_m(30), at_m(25), at_m(20), at_m(22)])
        store_fixes(s, dwell)
        verify_arrivals(s, dwell, config=dispatch_config, now=T0 + timedelta(minutes=21))
        s.commit()
        assert a.arrival_source == "gps" and a.arrived_at == T0 + timedelta(minutes=20)
        return a.id


def owner(engine, *sql: str, **params) -> None:
    with engine.begin() as conn:
        for statement in sql:
            conn.execute(text(statement), params)


def cli(chain_url, *args: str):
    return CliRunner().invoke(cli_app, ["audit", *args], env={"SIAGA_DATABASE_URL": chain_url},
                              catch_exceptions=False)


def arrival_entry(chain_engine, assignment_id: int) -> AuditLog:
    with Session(chain_engine) as s:
        return s.scalars(select(AuditLog).where(
            AuditLog.entity == "assignment", AuditLog.entity_id == assignment_id,
            AuditLog.action == "arrive:gps")).one()


@pytest.fixture
def evidence_client(chain_url, chain_engine, settings, arrived):
    from api.app import create_app
    from api.auth import service

    ensure_user(chain_engine, "auditor_admin", "admin")
    with Session(chain_engine) as s:
        token = service.issue_api_token(session=s, username="auditor_admin", name="t",
                                        scope=EVERYTHING).token
        s.commit()
    app = create_app(settings.model_copy(update={"database_url": chain_url}))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield lambda: client.get(f"/api/v1/assignments/{arrived}/evidence")


def test_first_gps_arrival_puts_its_digest_into_the_chain(chain_engine, arrived):
    entry = arrival_entry(chain_engine, arrived)
    with Session(chain_engine) as s:
        a = s.get(Assignment, arrived)
        link = s.scalars(select(AuditChain).where(AuditChain.audit_id == entry.id)).one()
        report = verify_chain(s, scope=EVERYTHING)
    assert a.evidence_digest and entry.after["evidence_digest"] == a.evidence_digest
    assert entry.after["arrived_at"] == "2026-11-02T09:20:00Z"
    assert report.ok and report.links == report.entries and link.seq <= report.head_seq


def test_concurrent_writers_extend_one_chain(chain_engine, arrived):
    """Eight writers, five transactions each, started together; half also lock a shared row
    before auditing (the chain lock is taken last, at commit: no deadlock, no fork)."""
    with Session(chain_engine) as s:
        before = verify_chain(s, scope=EVERYTHING)
        unit_id = s.scalar(select(Unit.id).where(Unit.device_id == DEVICE))
    barrier, errors = threading.Barrier(8), []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(5):
                with Session(chain_engine) as s:
                    if n % 2:
                        s.execute(select(Unit).where(Unit.id == unit_id).with_for_update())
                    for part in range(2):
                        audit.record(s, actor=f"writer{n}", at=datetime.now(UTC), entity="test",
                                     entity_id=n, action="race", after={"k": k, "part": part})
                    s.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with Session(chain_engine) as s:
        after = verify_chain(s, scope=EVERYTHING)
        seqs = list(s.scalars(select(AuditChain.seq).order_by(AuditChain.seq)))
    assert after.ok, after.finding
    assert after.links == before.links + 80 and after.entries == before.entries + 80
    assert seqs == list(range(1, after.links + 1))


def test_verify_and_sign_commands_on_an_intact_chain(chain_url, arrived, tmp_path):
    r = cli(chain_url, "verify")
    assert r.exit_code == 0 and "intact" in r.output
    key = tmp_path / "regency.pem"
    assert cli(chain_url, "keygen", "--out", str(key)).exit_code == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    sig = tmp_path / "2026-11.sig.json"
    month = datetime.now(UTC).strftime("%Y-%m")
    r = cli(chain_url, "sign", "--month", month, "--key", str(key), "--out", str(sig))
    assert r.exit_code == 0, r.output
    doc = json.loads(sig.read_text())
    assert doc["statement"]["seq"] > 0 and len(doc["statement"]["head_hash"]) == 64
    r = cli(chain_url, "verify", "--signature", str(sig), "--public-key", f"{key}.pub", "--json")
    out = json.loads(r.output)
    assert r.exit_code == 0 and out["signature"]["matches_chain"] is True
    doc["statement"]["seq"] -= 1  # a doctored statement
    sig.write_text(json.dumps(doc))
    r = cli(chain_url, "verify", "--signature", str(sig))
    assert r.exit_code == 1 and "does not verify" in r.output + (r.stderr or "")
    r = cli(chain_url, "sign", "--month", "2026-13", "--key", str(key))
    assert r.exit_code == 1 and "YYYY-MM" in (r.stderr or r.output)


def test_edited_arrival_time_is_flagged_by_the_evidence_endpoint(chain_engine, arrived,
                                                                  evidence_client):
    body = evidence_client().json()
    assert body["check"]["consistent"] is True, body["check"]
    assert body["check"]["recomputed_arrived_at"] == "2026-11-02T09:20:00Z"
    owner(chain_engine, "UPDATE assignment SET arrived_at = dispatched_at + interval '10 min' "
          "WHERE id = :id", id=arrived)
    try:
        r = evidence_client()
        body = r.json()
        # The stored evidence still matches its digest: the old check alone saw nothing wrong.
        assert r.status_code == 200 and body["digest_valid"] is True
        assert body["check"]["consistent"] is False
        found = {(d["field"], d["basis"]): d for d in body["check"]["disagreements"]}
        assert set(found) == {("arrived_at", "positions"), ("arrived_at", "audit_chain"),
                              ("outcome", "positions")}
        outcome = found["outcome", "positions"]
        assert (outcome["stored"], outcome["expected"]) == ("met", "breached")
        assert found["arrived_at", "positions"]["expected"] == "2026-11-02T09:20:00Z"
    finally:
        owner(chain_engine, "UPDATE assignment SET arrived_at = :t WHERE id = :id",
              t=T0 + timedelta(minutes=20), id=arrived)
    assert evidence_client().json()["check"]["consistent"] is True


def test_owner_edit_of_an_audit_entry_is_caught(chain_url, chain_engine, arrived,
                                                evidence_client):
    entry = arrival_entry(chain_engine, arrived)
    original = json.dumps(entry.after)
    owner(chain_engine, "ALTER TABLE audit_log DISABLE TRIGGER USER",
          "UPDATE audit_log SET after = jsonb_set(after, '{arrived_at}', "
          "'\"2026-11-02T09:10:00Z\"') WHERE id = :id",
          "ALTER TABLE audit_log ENABLE TRIGGER USER", id=entry.id)
    try:
        r = cli(chain_url, "verify", "--json")
        out = json.loads(r.output)
        assert r.exit_code == 1 and out["ok"] is False
        assert (out["finding"]["kind"], out["finding"]["audit_id"]) == ("edited", entry.id)
        issues = evidence_client().json()["check"]["disagreements"]
        assert {"field": "audit_entry", "stored": entry.id} in [
            {k: d[k] for k in ("field", "stored")} for d in issues]
    finally:
        owner(chain_engine, "ALTER TABLE audit_log DISABLE TRIGGER USER",
              "UPDATE audit_log SET after = CAST(:v AS jsonb) WHERE id = :id",
              "ALTER TABLE audit_log ENABLE TRIGGER USER", v=original, id=entry.id)
    assert cli(chain_url, "verify").exit_code == 0


def test_owner_delete_and_reorder_are_caught(chain_url, chain_engine, arrived):
    with Session(chain_engine) as s:
        first, second = s.scalars(select(AuditChain).order_by(AuditChain.seq).limit(2)).all()
        row = s.execute(text("SELECT * FROM audit_log WHERE id = :id"),
                        {"id": second.audit_id}).mappings().one()
    owner(chain_engine, "ALTER TABLE audit_log DISABLE TRIGGER USER",
          "DELETE FROM audit_log WHERE id = :id", "ALTER TABLE audit_log ENABLE TRIGGER USER",
          id=second.audit_id)
    try:
        out = json.loads(cli(chain_url, "verify", "--json").output)
        assert (out["finding"]["kind"], out["finding"]["seq"]) == ("deleted", 2)
    finally:
        params = dict(row)
        params["before"] = json.dumps(params["before"])
        params["after"] = json.dumps(params["after"])
        owner(chain_engine, "INSERT INTO audit_log (id, kode_kab, actor, at, entity, entity_id, "
              "action, before, after) VALUES (:id, :kode_kab, :actor, :at, :entity, "
              ":entity_id, :action, CAST(:before AS jsonb), CAST(:after AS jsonb))", **params)
    assert cli(chain_url, "verify").exit_code == 0
    swap = ("UPDATE audit_chain SET seq = CASE seq WHEN 1 THEN -2 WHEN 2 THEN -1 END "
            "WHERE seq IN (1, 2)", "UPDATE audit_chain SET seq = -seq WHERE seq < 0")
    owner(chain_engine, "ALTER TABLE audit_chain DISABLE TRIGGER USER",
          "ALTER TABLE audit_chain DROP CONSTRAINT ck_audit_chain_seq", *swap)
    try:
        out = json.loads(cli(chain_url, "verify", "--json").output)
        assert out["ok"] is False and out["finding"]["kind"] == "reordered"
        assert out["finding"]["seq"] == 1
    finally:
        owner(chain_engine, *swap, "ALTER TABLE audit_chain ADD CONSTRAINT ck_audit_chain_seq "
              "CHECK (seq > 0)", "ALTER TABLE audit_chain ENABLE TRIGGER USER")
    assert cli(chain_url, "verify").exit_code == 0
    assert (first.seq, second.seq) == (1, 2)


def test_chain_lock_is_taken_at_the_outermost_commit_only(chain_engine, arrived):
    """Releasing a SAVEPOINT (as assign_unit does) must not take the chain lock: held from then
    on, it would be waited for while the transaction still takes row locks."""
    probe_sql = text("SELECT pg_try_advisory_xact_lock(:k)")
    with Session(chain_engine) as s:
        audit.record(s, actor="t", at=datetime.now(UTC), entity="test", entity_id=1,
                     action="nested")
        with s.begin_nested():
            s.flush()
        with chain_engine.connect() as other:
            assert other.execute(probe_sql, {"k": audit.CHAIN_LOCK_KEY}).scalar() is True
            other.rollback()
        s.commit()
        entry_id = s.scalar(select(AuditLog.id).where(AuditLog.action == "nested"))
        assert s.scalar(select(AuditChain.seq).where(AuditChain.audit_id == entry_id))
