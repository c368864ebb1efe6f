"""``siaga drill run`` end to end: the packaged Bangli scenario against a running platform (the
API and the ingest worker as child processes, real PostGIS, the real private Mosquitto) with the
bridge simulator driving the fleet; the readiness report lists every expected outcome with its
measured time: the desks that answered in time are met, the silent Dishub desk is not, and the
units' GPS arrivals are verified by the ingest worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "dispatch" / "data" / "drills" / "bangli.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str) -> None:
    """Kabupaten Bangli's boundaries, agencies and illustrative fleet in a database of its own."""
    from sqlalchemy.orm import Session

    from api.db import make_engine
    from dispatch.config import load_config
    from dispatch.seed_service import fleet_path, seed_region
    from geo.service import import_region

    base = ROOT / "data" / "bangli"
    engine = make_engine(url)
    with Session(engine) as session:
        import_region(session, base / "desa.geojson", kecamatan_path=base / "kecamatan.geojson",
                      kabupaten_path=base / "kabupaten.geojson")
        session.commit()
    with Session(engine) as session:
        seed_region(session, load_config(), "51.06", fleet=fleet_path("51.06"))
        session.commit()
    engine.dispose()


@pytest.fixture
def platform(fresh_database_url, mqtt_url, tmp_path):
    """The running platform: ``siaga serve`` and ``siaga ingest`` on the fresh database."""
    _prepare(fresh_database_url)
    port = _free_port()
    env = {**os.environ, "SIAGA_DATABASE_URL": fresh_database_url, "SIAGA_MQTT_URL": mqtt_url,
           "SIAGA_ROADS_DIR": str(tmp_path / "roads"), "SIAGA_STATE_DIR": str(tmp_path),
           "SIAGA_API_PORT": str(port), "SIAGA_API_WORKERS": "1", "PYTHONUNBUFFERED": "1"}
    siaga = str(Path(sys.executable).parent / "siaga")
    children = []
    for name, argv in (("ingest", [siaga, "ingest", "--client-id", f"drill-test-{port}"]),
                       ("api", [siaga, "serve", "--port", str(port)])):
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the test
        children.append((name, subprocess.Popen(argv, env=env, stdout=log,
                                                stderr=subprocess.STDOUT,
                                                start_new_session=True), log))
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("API did not start: " + (tmp_path / "api.log").read_text()[-2000:])
        yield env, fresh_database_url
    finally:
        for _name, proc, _log in children:
            proc.send_signal(signal.SIGINT)
        for _name, proc, log in children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def test_packaged_bangli_drill_runs_end_to_end(platform, tmp_path):
    env, url = platform
    siaga = str(Path(sys.executable).parent / "siaga")
    reports = tmp_path / "reports"
    started = time.monotonic()
    run = subprocess.run([siaga, "drill", "run", str(SCENARIO), "--speed", "60",
                          "--report-dir", str(reports), "--timeout", "40"],
                         env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    out = run.stdout + run.stderr
    assert run.returncode == 0, out + (reports / "drill_simulator.log").read_text()[-2000:]
    assert elapsed < 60, f"the drill took {elapsed:.0f} s"
    [json_path] = reports.glob("drill-51.06-*.json")
    report = json.loads(json_path.read_text())
    verdicts = {(o["call"], o["kind"], o["agency"] or o["unit"]): o for o in report["outcomes"]}
    assert len(verdicts) == 6 and report["failures"] == []
    ack = verdicts[("kebakaran", "acknowledged", "DAMKAR")]
    # from the assignment (the OPD's notification) to the desk's answer 30 s after the call
    assert ack["met"] and 0 < ack["measured_s"] <= 30
    assert verdicts[("kebakaran", "acknowledged", "PSC119")]["met"]
    fire_unit = verdicts[("kebakaran", "arrives", "BLI-DAMKAR-01")]
    assert fire_unit["met"] and fire_unit["measured_s"] > 0, out
    assert verdicts[("kebakaran", "sla_met", "DAMKAR")]["met"]
    assert verdicts[("kecelakaan", "arrives", "BLI-DISHUB-01")]["met"], out
    silent = verdicts[("kecelakaan", "acknowledged", "DISHUB")]
    assert not silent["met"] and silent["measured_s"] is None
    assert (report["met"], report["not_met"]) == (5, 1)
    units = {u["unit"]: u for c in report["calls"] for u in c["units"]}
    assert units["BLI-DAMKAR-01"]["arrival_source"] == "gps"
    md = json_path.with_suffix(".md").read_text()
    assert "Laporan kesiapan latihan / Drill readiness report" in md
    assert "tidak terpenuhi / not met" in md and "DISHUB" in md
    # every incident of the run is a drill of the exercise, and the fleet really reported
    from api.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("select drill, exercise_id from incident")).all()
        fixes = conn.execute(text(
            "select count(*) from position where device_id = 'bli-damkar-01'")).scalar()
        busy = conn.execute(text("select call_sign from unit where kode_kab = '51.06' "
                                 "and status <> 'available'")).scalars().all()
        statuses = conn.execute(text("select status from incident order by id")).scalars().all()
        ended = conn.execute(text("select ended_at is not null from exercise")).scalar()
    engine.dispose()
    assert len(rows) == 2 and all(d and e == report["exercise_id"] for d, e in rows)
    assert fixes > 5
    # the drill leaves no unit busy: arrived incidents closed, the exercise ended
    assert busy == [] and statuses == ["closed", "closed"] and ended
