"""``siaga demo --duration``: children start, units report, incidents flow, everything stops."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_runs_the_whole_loop_and_stops_cleanly(fresh_database_url, mqtt_url,
                                                    console_world, tmp_path):
    env = {**os.environ, "SIAGA_DATABASE_URL": fresh_database_url, "SIAGA_MQTT_URL": mqtt_url,
           "SIAGA_ROADS_DIR": str(console_world), "SIAGA_STATE_DIR": str(tmp_path)}
    siaga = str(Path(sys.executable).parent / "siaga")
    port = _free_port()
    run = subprocess.run([siaga, "demo", "--port", str(port), "--duration", "20",
                          "--incidents-per-minute", "30", "--interval", "1"],
                         env=env, capture_output=True, text=True, timeout=150)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert f"Console: http://127.0.0.1:{port}/" in out
    assert "demo / demo112 (dispatcher)" in out
    assert "incident #" in out
    stopped = out.strip().splitlines()[-1]
    assert "stopped:" in stopped and "ingest (exit 0)" in stopped and "api (exit 0)" in stopped
    assert "worker (exit 0)" in stopped  # the scheduler ran beside them and stopped cleanly
    fleet = [line for line in (tmp_path / "demo" / "fleet.json").read_text().split('"device_id"')
             if line]
    assert len(fleet) >= 10
    from api.db import make_engine

    engine = make_engine(fresh_database_url)
    with engine.connect() as conn:
        stored = conn.execute(text(
            "select count(distinct device_id) from latest_position where device_id like 'yk-%'"
        )).scalar()
        users = conn.execute(text(
            "select count(*) from app_user where username in ('demo','planner','bupati','damkar')"
        )).scalar()
    engine.dispose()
    assert stored >= 10 and users == 4
    # no child left behind on the port
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
