"""Database failover window of the high-availability pair (pg_auto_failover), over repeated runs.

    .venv/bin/python benchmarks/ha_failover.py [--runs 5] [--port 55470] [--keep]

Starts a monitor + primary + standby from nothing with ``scripts/cluster-db.sh up`` in a state
directory of its own (ports ``--port`` .. ``--port + 2``), then, per run: a client writes one row
every 50 ms through the application's engine (``api.db.make_engine`` on the libpq multi-host URL,
``target_session_attrs=read-write``, ``pool_pre_ping``), and a second one through a plain psycopg
connection opened per write; the primary's keeper and PostgreSQL are killed with SIGKILL (as a
host loss); the window is the longest time without a committed write (the last write on the old
primary to the first on the new one), less the 50 ms between writes.
The old primary is started again, rejoins as standby, and the next run begins once the pair is
healthy. Baseline side by side: the single-server case, where the window lasts until someone
restarts the server (here: the time a PostgreSQL restart with crash recovery takes on the
same data, measured by restarting the killed node and timing until it accepts a connection).
Printed: per run and p50 / max, and whether every acknowledged write is present afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path

import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.db import libpq_conninfo, make_engine  # noqa: E402

SCRIPT = ROOT / "scripts" / "cluster-db.sh"


def _db(env: dict[str, str], *args: str) -> str:
    return subprocess.run([str(SCRIPT), *args], env=env, check=True, capture_output=True,
                          text=True, timeout=300).stdout.strip()


class Writer(threading.Thread):
    """Writes one numbered row every 50 ms; records the commit times (monotonic)."""

    def __init__(self, name: str, write) -> None:  # noqa: ANN001 - callable(n) -> None
        super().__init__(name=name, daemon=True)
        self.write, self.stop, self.acked = write, threading.Event(), []
        self.n = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.n += 1
            try:
                self.write(self.n)
                self.acked.append((time.monotonic(), self.n))
            except Exception:  # noqa: BLE001 - a failed write is the window being measured
                pass
            time.sleep(0.05)

    def first_after(self, t: float) -> float | None:
        return next((at for at, _ in self.acked if at > t), None)

    def outage_s(self) -> float:
        """The longest time without a committed write (the failover window as a client sees
        it), less the 50 ms between writes."""
        times = [at for at, _ in self.acked]
        return max((b - a for a, b in pairwise(times)), default=float("nan")) - 0.05


def _count_and_clear(engine) -> dict[str, set[int]]:  # noqa: ANN001 - sqlalchemy Engine
    """Row numbers per writer, then an empty table (retried: the pair may still be settling)."""
    for attempt in range(20):
        try:
            with engine.connect() as conn:
                stored: dict[str, set[int]] = {}
                for w, n in conn.execute(text("SELECT w, n FROM ha_bench")):
                    stored.setdefault(w, set()).add(n)
                conn.execute(text("TRUNCATE ha_bench"))
                conn.commit()
                return stored
        except Exception:  # noqa: BLE001 - connection lost while the pair settles
            if attempt == 19:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--port", type=int, default=55470)
    ap.add_argument("--keep", action="store_true", help="keep the cluster afterwards")
    args = ap.parse_args()
    state = tempfile.mkdtemp(prefix="siaga-ha-bench-")
    env = {**os.environ, "SIAGA_STATE_DIR": state, "SIAGA_HA_PG_PORT": str(args.port)}
    t0 = time.monotonic()
    _db(env, "up")
    print(f"pair up from nothing in {time.monotonic() - t0:.1f} s")
    owner = (Path(state) / "cluster" / "db.env").read_text().split(
        "SIAGA_MIGRATE_DATABASE_URL=", 1)[1].splitlines()[0]
    engine = make_engine(owner, pool_size=2)
    conninfo = libpq_conninfo(engine) + " connect_timeout=2"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS ha_bench "
                          "(w text, n int, PRIMARY KEY (w, n))"))

    def via_engine(n: int) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ha_bench VALUES ('engine', :n)"), {"n": n})

    def via_psycopg(n: int) -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("INSERT INTO ha_bench VALUES ('psycopg', %s)", (n,))

    rows = []
    try:
        for run in range(1, args.runs + 1):
            _db(env, "wait")
            primary = _db(env, "primary")
            writers = [Writer("engine", via_engine), Writer("psycopg", via_psycopg)]
            for w in writers:
                w.start()
            time.sleep(2.0)
            _db(env, "kill", primary)
            killed = time.monotonic()  # dead now: a write after this is on the new primary
            deadline = killed + 120
            while time.monotonic() < deadline and not all(w.first_after(killed) for w in writers):
                time.sleep(0.1)
            time.sleep(1.0)
            for w in writers:
                w.stop.set()
                w.join()
            windows = [w.outage_s() for w in writers]
            restart = time.monotonic()
            _db(env, "start", primary)
            port = args.port + (1 if primary == "node1" else 2)
            while True:  # baseline: a single server restarted after the crash
                try:
                    psycopg.connect(f"host=127.0.0.1 port={port} dbname=postgres user=siaga "
                                    "connect_timeout=1").close()
                    break
                except psycopg.OperationalError:
                    time.sleep(0.1)
            baseline = time.monotonic() - restart
            _db(env, "wait")  # the old primary is a standby again
            stored = _count_and_clear(engine)
            # lost: acknowledged but absent (must be 0); unknown: stored although the client saw
            # an error (the commit reached the old primary, its answer did not reach the client)
            lost = sum(len({n for _, n in w.acked} - stored.get(w.name, set())) for w in writers)
            unknown = sum(len(stored.get(w.name, set()) - {n for _, n in w.acked})
                          for w in writers)
            ok = lost == 0
            rows.append((run, primary, *windows, baseline, ok, unknown))
            print(f"run {run}: killed {primary}; window engine {windows[0]:.1f} s, psycopg "
                  f"{windows[1]:.1f} s; restart of a single server {baseline:.1f} s; "
                  f"acknowledged writes all stored: {ok}; stored though the client saw an error: "
                  f"{unknown}")
    finally:
        engine.dispose()
        if not args.keep:
            _db(env, "clean")

    print()
    print("| run | primary killed | failover window, app engine (s) | plain psycopg (s) "
          "| single server restart (s) | acknowledged writes kept | commit outcome unknown |")
    print("|---|---|---|---|---|---|---|")
    for run, primary, we, wp, b, ok, unknown in rows:
        print(f"| {run} | {primary} | {we:.1f} | {wp:.1f} | {b:.1f} | {'yes' if ok else 'NO'} "
              f"| {unknown} |")
    for label, idx in (("app engine", 2), ("plain psycopg", 3)):
        vals = [r[idx] for r in rows]
        print(f"{label}: p50 {statistics.median(vals):.1f} s, max {max(vals):.1f} s "
              f"over {len(vals)} runs")


if __name__ == "__main__":
    main()
