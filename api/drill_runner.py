"""``siaga drill run``: play a drill scenario against the running platform and judge it.

The runner is the scripted dispatcher and the scripted OPD desks, over the HTTP API (an
exercise, drill incidents, triage, assignments, acknowledgements), and it drives the simulated
fleet: a ``siaga-bridge simulate`` child publishes real MQTT fixes that the running ingest
worker stores and checks for arrival on scene. Time is compressed: scenario second ``t`` happens
at ``t / speed`` real seconds; measured times are converted back (``docs/drills.md``).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from api.drill_report import DrillReport, build_report
from api.schemas_dispatch import RecommendationsOut
from dispatch.drill_scenario import Scenario
from geo.geodesy import haversine_m

#: Road speed of the straight links drawn when a regency has no road network (m/s, 45 km/h).
LINK_SPEED_MPS = 12.5
#: Highest real speed of a simulated unit: tracking flags jumps above 90 m/s as implausible.
MAX_FLEET_MPS = 70.0
FIX_INTERVAL_S = 0.5


def fleet_speedup(speed: float) -> float:
    """How much faster than real the fleet drives: the clock's speed-up, capped so that no
    fix implies more than :data:`MAX_FLEET_MPS`."""
    return max(1.0, min(speed, MAX_FLEET_MPS / LINK_SPEED_MPS))


def write_links(path: Path, homes: dict[str, tuple[float, float]],
                scenes: list[tuple[float, float]]) -> int:
    """A road CSV (``siaga-bridge`` format) of straight two-way links from every unit's home to
    every scene; returns the number of edges."""
    rows = []
    for device, (hx, hy) in homes.items():
        for k, (sx, sy) in enumerate(scenes):
            length = max(1.0, haversine_m(hx, hy, sx, sy))
            for (u, ux, uy), (v, vx, vy) in (((device, hx, hy), (f"scene{k}", sx, sy)),
                                             ((f"scene{k}", sx, sy), (device, hx, hy))):
                rows.append([u, v, ux, uy, vx, vy, round(length, 1),
                             round(length / LINK_SPEED_MPS, 2)])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["u", "v", "u_lon", "u_lat", "v_lon", "v_lat", "length_m", "travel_s"])
        w.writerows(rows)
    return len(rows)


class FleetLink:
    """MQTT side of the drill: goto commands to the simulator, first-fix detection."""

    def __init__(self, mqtt_url: str, devices: set[str]) -> None:
        import paho.mqtt.client as mqtt

        self.devices = devices
        self.seen: set[str] = set()
        self.ready = threading.Event()
        u = urlparse(mqtt_url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"siaga-drill-{uuid.uuid4().hex[:8]}")
        if u.username:
            self.client.username_pw_set(u.username, u.password)
        self.client.on_connect = lambda c, *_: c.subscribe("siaga/v1/pos/+", qos=0)
        self.client.on_message = self._on_message
        self.client.connect(u.hostname or "127.0.0.1", u.port or 1883)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        device = message.topic.rsplit("/", 1)[-1]
        if device in self.devices:
            self.seen.add(device)
            self.ready.set()

    def goto(self, device: str, lon: float, lat: float) -> None:
        self.client.publish(f"siaga/v1/sim/{device}/goto",
                            json.dumps({"lon": lon, "lat": lat}), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class CallRun:
    """What the runner did for one call (ids and real times)."""

    incident_id: int | None = None
    error: str | None = None
    assignments: dict[str, int] = field(default_factory=dict)  # call sign -> assignment id
    agency_of: dict[str, str] = field(default_factory=dict)  # call sign -> OPD


class DrillRun:
    """One run of a scenario; :meth:`run` returns the readiness report (a dict)."""

    def __init__(self, scenario: Scenario, *, api_url: str, token: str, mqtt_url: str,
                 fleet: list[dict[str, Any]], speed: float, work_dir: Path,
                 timeout_s: float = 60.0, say: Callable[[str], None] = print) -> None:
        self.s, self.speed, self.timeout_s, self.say = scenario, speed, timeout_s, say
        self.work_dir, self.mqtt_url, self.fleet = work_dir, mqtt_url, fleet
        self.http = httpx.Client(base_url=api_url, timeout=15,
                                 headers={"Authorization": f"Bearer {token}"})
        self.calls = {c.id: CallRun() for c in scenario.calls}
        self.by_sign = {u["call_sign"]: u for u in fleet}
        self.failures: list[str] = []

    # -- platform calls ------------------------------------------------------------------
    def _post(self, path: str, body: dict | None = None) -> dict:
        r = self.http.post(path, json=body or {})
        if r.status_code >= 400:
            raise RuntimeError(f"POST {path}: HTTP {r.status_code} {r.text[:300]}")
        return r.json()

    def _recommendations(self, incident_id: int) -> RecommendationsOut:
        path = f"/api/v1/incidents/{incident_id}/recommendations"
        r = self.http.get(path)
        if r.status_code >= 400:
            raise RuntimeError(f"GET {path}: HTTP {r.status_code} {r.text[:300]}")
        return RecommendationsOut.model_validate(r.json())

    def _place_call(self, call_id: str, exercise_id: int, link: FleetLink) -> None:
        c, run = self.s.call(call_id), self.calls[call_id]
        body: dict[str, Any] = {"category": c.category, "kode_kab": self.s.kode_kab,
                                "exercise_id": exercise_id, "drill": True, "channel": "phone_112",
                                "description": c.description or "Latihan / drill",
                                "actor": "drill-dispatcher"}
        if c.lon is not None:
            body |= {"lon": c.lon, "lat": c.lat}
        if c.place:
            body["place"] = c.place
        run.incident_id = self._post("/api/v1/incidents", body)["id"]
        detail = self._post(f"/api/v1/incidents/{run.incident_id}/triage", {})
        scene = detail["location"]
        for rec in self._recommendations(run.incident_id).agencies:
            agency = rec.agency
            role = next((a["role"] for a in detail["agencies"] if a["agency"] == agency), None)
            if role != "dispatch":
                continue
            sign = c.units.get(agency) or next(
                (u.call_sign for u in rec.units if u.call_sign in self.by_sign), None)
            if sign is None or sign not in self.by_sign:
                self.failures.append(f"{call_id}: tidak ada unit tersedia / no available "
                                     f"simulated unit for {agency} ({sign or 'none'})")
                self.say(self.failures[-1])
                continue
            unit = self.by_sign[sign]
            a = self._post("/api/v1/assignments", {"incident_id": run.incident_id,
                                                   "unit_id": unit["unit_id"],
                                                   "actor": "drill-dispatcher"})
            run.assignments[sign], run.agency_of[sign] = a["id"], agency
            link.goto(unit["device_id"], scene["lon"], scene["lat"])
            self.say(f"{call_id}: incident #{run.incident_id}, {sign} ({agency}) sent")

    def _desk(self, call_id: str, agency: str) -> None:
        run = self.calls[call_id]
        if run.incident_id is None:
            return
        signs = [s for s, a in run.agency_of.items() if a == agency]
        actor = f"drill-desk-{agency.lower()}"
        if signs:  # a dispatched OPD confirms its tasking and leaves
            for sign in signs:
                self._post(f"/api/v1/assignments/{run.assignments[sign]}/acknowledge",
                           {"actor": actor})
                self._post(f"/api/v1/assignments/{run.assignments[sign]}/depart",
                           {"actor": actor})
        else:  # a standby line confirms it has taken the incident
            self._post(f"/api/v1/incidents/{run.incident_id}/agencies/{agency}/acknowledge",
                       {"actor": actor})
        self.say(f"{call_id}: {agency} acknowledged")

    def _wrap_up(self, details: dict[str, dict | None]) -> None:
        """After the measurements: clear the assignments, close or cancel the drill incidents and
        put the units back in service, so a drill leaves no unit busy (the records stay until
        ``siaga drill purge``)."""
        for call_id, detail in details.items():
            run = self.calls[call_id]
            if detail is None or run.incident_id is None:
                continue
            actor = {"actor": "drill-dispatcher"}
            for a in detail.get("assignments", []):
                if a.get("status") == "active":  # arrived or still on the way: stood down
                    self.http.post(f"/api/v1/assignments/{a['id']}/clear", json=actor)
            path = f"/api/v1/incidents/{run.incident_id}/status"
            if detail["status"] == "on_scene":
                for status in ("resolved", "closed"):
                    self.http.post(path, json={"status": status, **actor,
                                               "reason": "latihan selesai / drill over"})
            elif detail["status"] in ("new", "triaged", "dispatched"):
                self.http.post(path, json={"status": "cancelled", **actor,
                                           "reason": "latihan selesai / drill over"})
            for sign in run.assignments:
                r = self.http.patch(f"/api/v1/units/{self.by_sign[sign]['unit_id']}",
                                    json={"status": "available", "reason": "latihan selesai / "
                                          "drill over", **actor})
                if r.status_code >= 400:
                    self.say(f"{sign} not released: HTTP {r.status_code} {r.text[:200]}")

    # -- the run -------------------------------------------------------------------------
    def _timeline(self, exercise_id: int, link: FleetLink) -> list[tuple[float, str, Callable]]:
        steps: list[tuple[float, str, Callable]] = []
        for c in self.s.calls:
            steps.append((c.at_s, f"call {c.id}",
                          lambda c=c: self._place_call(c.id, exercise_id, link)))
        for d in self.s.desks:
            if d.ack_after_s is not None:
                steps.append((self.s.call(d.call).at_s + d.ack_after_s,
                              f"desk {d.agency} {d.call}",
                              lambda d=d: self._desk(d.call, d.agency)))
        return sorted(steps, key=lambda x: x[0])

    def _arrivals_pending(self) -> bool:
        wanted = {(e.call, e.unit) for e in self.s.expect if e.kind == "arrives"}
        wanted |= {(e.call, s) for e in self.s.expect if e.kind == "sla_met"
                   for s, a in self.calls[e.call].agency_of.items() if a == e.agency}
        for call_id, sign in wanted:
            run = self.calls[call_id]
            if run.incident_id is None or sign not in run.assignments:
                continue
            detail = self.http.get(f"/api/v1/incidents/{run.incident_id}").json()
            mine = [a for a in detail.get("assignments", [])
                    if a["id"] == run.assignments[sign]]
            if mine and mine[0].get("arrived_at") is None:
                return True
        return False

    def _simulator(self, homes: dict[str, tuple[float, float]]) -> subprocess.Popen:
        edges, fleet = self.work_dir / "drill_links.csv", self.work_dir / "drill_fleet.json"
        scenes = [(c.lon, c.lat) for c in self.s.calls if c.lon is not None]
        write_links(edges, homes, scenes)
        fleet.write_text(json.dumps([{"device_id": d, "lon": x, "lat": y}
                                     for d, (x, y) in homes.items()]))
        bridge = str(Path(sys.executable).parent / "siaga-bridge")
        argv = [bridge, "simulate", "--roads", str(edges), "--fleet", str(fleet),
                "--interval", str(FIX_INTERVAL_S), "--speedup", str(fleet_speedup(self.speed)),
                "--mqtt-url", self.mqtt_url, "--noise-m", "2",
                "--client-id", f"siaga-drill-sim-{uuid.uuid4().hex[:6]}",
                "--outbox", str(self.work_dir / "drill_outbox.sqlite")]
        log = open(self.work_dir / "drill_simulator.log", "ab")  # noqa: SIM115 - with the child
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def run(self) -> DrillReport:
        started_at = datetime.now().astimezone()
        homes = {u["device_id"]: (u["lon"], u["lat"]) for u in self.fleet}
        link = FleetLink(self.mqtt_url, set(homes))
        sim = self._simulator(homes)
        try:
            if not link.ready.wait(30):
                raise RuntimeError("the fleet simulator sent no fix within 30 s "
                                   f"(see {self.work_dir / 'drill_simulator.log'})")
            exercise = self._post("/api/v1/exercises", {"kode_kab": self.s.kode_kab,
                                                        "name": self.s.name or "Latihan"})
            self.say(f"exercise #{exercise['id']} {exercise['name']} (speed x{self.speed:g})")
            t0 = time.monotonic()
            for at_s, what, action in self._timeline(exercise["id"], link):
                time.sleep(max(0.0, t0 + at_s / self.speed - time.monotonic()))
                try:
                    action()
                except (RuntimeError, httpx.HTTPError, KeyError) as exc:
                    self.failures.append(f"{what}: {exc}")
                    self.say(f"{what} failed: {exc}")
            deadline = time.monotonic() + self.timeout_s
            while time.monotonic() < deadline and self._arrivals_pending():
                time.sleep(0.5)
            details = {cid: (self.http.get(f"/api/v1/incidents/{r.incident_id}").json()
                             if r.incident_id else None) for cid, r in self.calls.items()}
            self._post(f"/api/v1/exercises/{exercise['id']}/end")
            self._wrap_up(details)
        finally:
            sim.terminate()
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()
                sim.wait()
            link.close()
            self.http.close()
        return build_report(self.s, details=details, calls=self.calls, speed=self.speed,
                            fleet_speedup=fleet_speedup(self.speed), exercise=exercise,
                            started_at=started_at, failures=self.failures)
