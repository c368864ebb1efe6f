"""Fifty dispatchers assign the same unit to fifty incidents at the same moment, over HTTP to a
real uvicorn server (a barrier of threads): exactly one 201, forty-nine 409, no 500, quickly."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import incident_service as svc
from dispatch.models import Assignment, Unit
from dispatch.scoping import EVERYTHING
from geo.types import LonLat
from tests.integration.api.live_server import serve
from tests.integration.api.test_commit_before_response import (
    KODE,
    bearer,
    served_app,
    world,
)

__all__ = ["world"]  # the fixture (region 99.61 with three units, cleaned up afterwards)

DISPATCHERS = 50


def test_fifty_dispatchers_one_unit_exactly_one_wins(world, app_factory, engine):
    config, unit_id = world["config"], world["units"][0]
    with Session(engine) as s:
        incident_ids = []
        for n in range(DISPATCHERS):
            i = svc.create_incident(s, config=config, geocoder=None, kode_kab=KODE,
                                    category="fire", actor="race",
                                    location=LonLat(121.0 + n / 1000, -5.01),
                                    scope=EVERYTHING).value
            svc.triage_incident(s, i.id, config=config, actor="race", scope=EVERYTHING)
            incident_ids.append(i.id)
        s.commit()
    app = served_app(app_factory, config)
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    with serve(app) as base:
        barrier = threading.Barrier(DISPATCHERS)

        def dispatcher(n: int) -> None:
            with httpx.Client(base_url=base, timeout=60,
                              headers=bearer(world["tokens"]["dispatcher"])) as c:
                c.get("/api/v1/attribution")  # connect before the barrier
                barrier.wait()
                t0 = time.perf_counter()
                r = c.post("/api/v1/assignments",
                           json={"incident_id": incident_ids[n], "unit_id": unit_id})
                code = r.json().get("error", {}).get("code", "") if r.status_code >= 400 else ""
                with lock:
                    results.append((r.status_code, time.perf_counter() - t0, code))

        threads = [threading.Thread(target=dispatcher, args=(n,)) for n in range(DISPATCHERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    codes = sorted(r[0] for r in results)
    assert codes == [201] + [409] * (DISPATCHERS - 1), codes
    assert {r[2] for r in results if r[0] == 409} == {"unit_unavailable"}
    # Generous bound on a shared machine; the old code answered every request after ~30 s.
    assert max(r[1] for r in results) < 15, sorted(r[1] for r in results)[-5:]
    with Session(engine) as s:
        rows = s.scalars(select(Assignment).where(Assignment.unit_id == unit_id)).all()
        assert len(rows) == 1 and rows[0].status == "active"
        assert s.get(Unit, unit_id).status == "dispatched"
