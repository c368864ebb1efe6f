"""The scheduler's leadership on the real database: of two workers ticking at the same moments,
exactly one runs the job each tick; when the leader dies (its backend is terminated, as when its
process is killed) the other takes over at its next tick; a real ``siaga worker`` pair elects one
leader and the survivor leads after the leader is killed with SIGKILL."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from api.db import make_engine
from api.worker import LeaderLock, Worker
from dispatch.scoping import EVERYTHING
from tests.fixtures.scheduler import lead_count, schedulers

#: A key of its own, so a worker of another test run never interferes.
KEY = 0x5349414741_7E57


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _workers(database_url, clock, runs):
    engines = [make_engine(database_url, pool_size=1) for _ in range(2)]

    def job(name):
        return lambda: runs.append(name) or []

    workers = [Worker(LeaderLock(e, KEY), {"escalation": (1.0, job(f"w{i}"))}, clock=clock,
                      name=f"w{i}") for i, e in enumerate(engines)]
    return workers, engines


def test_exactly_one_worker_runs_each_tick_and_the_other_takes_over(database_url, engine):
    clock, runs = FakeClock(), []
    workers, engines = _workers(database_url, clock, runs)
    try:
        for tick in range(8):
            barrier = threading.Barrier(2)
            before = len(runs)

            def go(w, barrier=barrier):
                barrier.wait()
                w.tick()

            threads = [threading.Thread(target=go, args=(w,)) for w in workers]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
            assert len(runs) - before == 1, f"tick {tick}: {runs[before:]}"
            clock.now += 1.0
        leader = runs[0]
        assert set(runs) == {leader}  # the same leader while it lives
        # the leader dies: its database session ends and the lock with it
        dead = workers[int(leader[1])]
        survivor = workers[1 - int(leader[1])]
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"),
                          {"p": dead.lock.backend_pid})
            admin.commit()
        time.sleep(0.2)
        before = len(runs)
        assert survivor.tick() == ["escalation"]
        assert dead.tick() == []  # notices it lost the lock and follows
        assert runs[before:] == [survivor.name]
        clock.now += 1.0
        assert dead.tick() == [] and survivor.tick() == ["escalation"]
    finally:
        for w in workers:
            w.lock.release()
        for e in engines:
            e.dispose()


def _leads(path: Path) -> bool:
    return lead_count(path) > 0


@pytest.mark.slow
def test_worker_processes_elect_one_leader_and_survive_a_sigkill(fresh_database_url, mqtt_url,
                                                                 tmp_path):
    env = {**os.environ, "SIAGA_DATABASE_URL": fresh_database_url, "SIAGA_MQTT_URL": mqtt_url,
           "SIAGA_ROADS_DIR": str(tmp_path / "roads"), "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with schedulers(env, logs) as procs:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(_leads(p) for p in logs):
            time.sleep(0.3)
        time.sleep(2.5)  # a few more ticks: still one leader
        leaders = [i for i, p in enumerate(logs) if _leads(p)]
        assert len(leaders) == 1, [p.read_text() for p in logs]
        leader = leaders[0]
        procs[leader].kill()  # SIGKILL: no clean release, the database drops the session
        procs[leader].wait(10)
        other = logs[1 - leader]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _leads(other):
            time.sleep(0.3)
        assert _leads(other), other.read_text()


def test_the_escalation_job_escalates_and_publishes_after_its_commit(engine, database_url,
                                                                     tmp_path):
    """The real job the worker runs: an OPD that missed its acknowledgement time is escalated
    (committed) and its ``sla`` event handed to the publisher."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete, select
    from sqlalchemy.orm import Session

    from api.commands.worker import escalation_job
    from api.db import make_sessionmaker
    from dispatch import incident_service as svc
    from dispatch.config import parse_config
    from dispatch.models import Agency, Incident, IncidentAgency, SlaRule
    from dispatch.rule_models import SlaRuleSetRow
    from dispatch.seed_service import seed_region
    from geo.routing.store import RoadNetworks

    kode = "99.28"  # this test's own region: others' leftovers (SLA rule sets) do not apply
    config = parse_config([{
        "categories": {"public_order": {"kind": "public_service", "agencies": [
            {"agency": "SATPOLPP", "role": "forward"}]}},
        "regions": {kode: {"agencies": [{"code": "SATPOLPP", "name": "Satpol PP uji"}],
                           "sla": {"default": {"ack_min": 1, "on_scene_min": 60}}}}}])

    def cleanup():
        with Session(engine) as s:
            s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == kode))
            s.execute(delete(Incident).where(Incident.kode_kab == kode))
            s.execute(delete(SlaRule).where(SlaRule.kode_kab == kode))
            s.execute(delete(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab == kode))
            s.execute(delete(Agency).where(Agency.kode_kab == kode))
            s.commit()

    cleanup()
    past = datetime.now(UTC) - timedelta(minutes=5)
    worker_engine = make_engine(database_url, pool_size=2)
    try:
        with Session(engine) as s:
            seed_region(s, config, kode)
            i = svc.create_incident(s, config=config, geocoder=None, kode_kab=kode,
                                    category="public_order", actor="op", now=past,
                                    scope=EVERYTHING).value
            svc.triage_incident(s, i.id, config=config, actor="op", now=past, scope=EVERYTHING)
            s.commit()
            incident_id = i.id
        published: list = []

        def publish(messages):
            with Session(engine) as s:  # the escalation is visible to others when published
                ia = s.scalars(select(IncidentAgency).where(
                    IncidentAgency.incident_id == incident_id)).one()
                published.extend((m, ia.escalated_at) for m in messages)

        job = escalation_job(make_sessionmaker(worker_engine), config=config,
                             road_networks=RoadNetworks(tmp_path))
        worker = Worker(LeaderLock(worker_engine, KEY), {"escalation": (30.0, job)},
                        publish=publish)
        assert worker.tick() == ["escalation"]
        mine = [(m, at) for m, at in published if m[1].get("incident_id") == incident_id]
        [((topic, payload), committed_at)] = mine
        assert topic == "siaga/v1/events/sla" and payload["agency"] == "SATPOLPP"
        assert committed_at is not None and payload["overdue_s"] >= 200
        assert worker.tick() == []  # not due again before its interval
        worker.lock.release()
    finally:
        worker_engine.dispose()
        cleanup()
