"""``siaga demo``: the whole loop on a laptop, from an empty database to a live console.

Steps: migrations; the three pilot regions; road networks for Kota Yogyakarta and Balikpapan;
agencies and the illustrative fleets; demo users. Then child processes: the ingest worker, the
API (uvicorn), the scheduler (``siaga worker``: escalations) and the bridge simulator driving the
Yogyakarta fleet along the roads; in this process an incident generator (a few incidents per minute
at random kelurahan) and a relay that sends a unit along the road to its incident when it is
assigned (``siaga/v1/sim/{device}/goto``). Ctrl-C (or ``--duration``) stops every child cleanly.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import typer

from api.commands._common import fail, session_scope, settings
from dispatch.scoping import EVERYTHING

REGION = "34.71"
ROAD_REGIONS = {"34.71": "kota-yogyakarta/roads_drive.osm",
                "64.71": "balikpapan/roads_drive.graphml"}
PILOT_FOLDERS = {"34.71": "kota-yogyakarta", "51.06": "bangli", "64.71": "balikpapan"}
SIM_PROFILE = "pickup_4x4"
DEMO_CATEGORIES = ("fire", "medical", "traffic_accident", "fallen_tree", "flood", "crime")
#: Demo logins: username → (password, role, agency). Printed at start; demo only.
DEMO_USERS = {
    "demo": ("demo112", "dispatcher", None),
    "admin": ("admin112", "admin", None),
    "planner": ("planner112", "planner", None),
    "bupati": ("bupati112", "viewer", None),
    "damkar": ("damkar112", "agency", "DAMKAR"),
}


def _say(text: str) -> None:
    typer.echo(f"[demo] {text}")


# --- setup (idempotent) ----------------------------------------------------------------------

def prepare(cfg: Any, *, regions: bool = True, roads: bool = True) -> dict[str, Any]:
    """Migrate, import pilot regions and roads, seed agencies/fleets and users; returns the
    fleet of :data:`REGION` as ``[{"unit_id", "device_id", "call_sign", "lon", "lat"}]``."""
    from api import migrate
    from api.auth import service as auth
    from api.auth.exceptions import UserNotFoundError
    from dispatch.assignment_service import list_units
    from dispatch.config import load_config
    from dispatch.recommend_service import unit_positions
    from dispatch.seed_service import seed
    from geo.population import parse_population_csv
    from geo.population_store import import_population
    from geo.service import import_region, list_regions

    migrate.upgrade(cfg.owner_database_url)
    with session_scope(cfg) as session:
        loaded = {r.kode_kab for r in list_regions(session)}
        for kode, folder in PILOT_FOLDERS.items():
            if regions and kode not in loaded:
                base = cfg.data_dir / folder
                _say(f"importing region {kode} from {base}")
                import_region(session, base / "desa.geojson",
                              kecamatan_path=base / "kecamatan.geojson",
                              kabupaten_path=base / "kabupaten.geojson")
            population = cfg.data_dir / folder / "population.csv"
            if regions and population.exists():  # census figures weigh the coverage of desa
                import_population(session, parse_population_csv(population.read_bytes()))
    if roads:
        from geo.routing.store import build_networks

        for kode, rel in ROAD_REGIONS.items():
            report = build_networks(cfg.data_dir / rel, kode, cfg.roads_dir)
            built = [i.profile for i in report.indexes if not i.reused]
            _say(f"roads {kode}: {len(report.indexes)} profiles"
                 + (f" (built {', '.join(built)})" if built else " (cached)"))
    with session_scope(cfg) as session:
        seed(session, load_config(cfg.agencies_path))
        for username, (password, role, agency) in DEMO_USERS.items():
            try:
                auth.get_user(session=session, username=username, scope=EVERYTHING)
            except UserNotFoundError:
                # Only the administrator is installation-wide; the others act for the pilots.
                auth.create_user(session=session, username=username, password=password,
                                 role=role, agency_code=agency, display_name=f"Demo {role}",
                                 kode_kabs=None if role == "admin" else sorted(PILOT_FOLDERS),
                                 scope=EVERYTHING)
    with session_scope(cfg) as session:
        units = [u for u, _a in list_units(session, kode_kab=REGION, scope=EVERYTHING)
                 if u.device_id]
        positions = unit_positions(session, units)
        fleet = [{"unit_id": u.id, "device_id": u.device_id, "call_sign": u.call_sign,
                  "lon": positions[u.id][0].lon, "lat": positions[u.id][0].lat}
                 for u in units if positions[u.id][0] is not None]
    return {"fleet": fleet}


def export_edges(cfg: Any, path: Path) -> int:
    from geo.routing.export import write_edges_csv
    from geo.routing.store import RoadNetworks

    return write_edges_csv(RoadNetworks(cfg.roads_dir).get(REGION, SIM_PROFILE), path)


def api_token(cfg: Any, username: str = "demo") -> str:
    from api.auth import service as auth

    with session_scope(cfg) as session:
        return auth.issue_api_token(session=session, username=username, name="demo-generator",
                                    ttl_s=7 * 86400, scope=EVERYTHING).token


def kelurahan_points(cfg: Any) -> list[tuple[str, float, float]]:
    """(name, lon, lat) of a point inside each kelurahan of :data:`REGION`."""
    from shapely.geometry import shape

    from geo.service import region_geojson

    with session_scope(cfg) as session:
        fc = region_geojson(session, REGION, "desa")
    out = []
    for f in fc["features"]:
        p = shape(f["geometry"]).representative_point()
        out.append((f["properties"].get("nama_desa", ""), p.x, p.y))
    return out


# --- background workers in this process -------------------------------------------------------

@dataclass
class Generator:
    """Posts incidents through the API at random kelurahan, ``per_minute`` on average."""

    base_url: str
    token: str
    places: list[tuple[str, float, float]]
    per_minute: float
    stop: threading.Event
    created: list[int] = field(default_factory=list)

    def run(self) -> None:
        import httpx

        rng = random.Random()
        with httpx.Client(base_url=self.base_url, timeout=10,
                          headers={"Authorization": f"Bearer {self.token}"}) as client:
            while not self.stop.wait(rng.expovariate(self.per_minute / 60.0)):
                name, lon, lat = rng.choice(self.places)
                body = {"kode_kab": REGION, "lon": lon, "lat": lat, "place": name,
                        "category": rng.choice(DEMO_CATEGORIES), "channel": "phone_112",
                        "description": "Kejadian simulasi demo / simulated demo incident",
                        "caller_phone": f"08{rng.randrange(10**9, 10**10)}"}
                try:
                    r = client.post("/api/v1/incidents", json=body)
                    if r.status_code == 201:
                        self.created.append(r.json()["id"])
                        client.post(f"/api/v1/incidents/{r.json()['id']}/triage", json={})
                        _say(f"incident #{r.json()['id']} {body['category']} at {name}")
                    else:
                        _say(f"incident generator: HTTP {r.status_code} {r.text[:200]}")
                except Exception as exc:  # noqa: BLE001 - keep generating
                    _say(f"incident generator: {exc!r}")


class GotoRelay:
    """Sends a simulated unit to its incident when assigned, home when it clears."""

    def __init__(self, cfg: Any, fleet: list[dict[str, Any]]) -> None:
        import paho.mqtt.client as mqtt

        self.cfg = cfg
        self.units = {int(u["unit_id"]): u for u in fleet}
        self.sent: list[tuple[str, str]] = []
        u = urlparse(cfg.mqtt_url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"siaga-demo-relay-{uuid.uuid4().hex[:6]}")
        self.client.on_connect = lambda c, *_: c.subscribe("siaga/v1/events/unit", qos=1)
        self.client.on_message = self._on_message
        self.client.connect_async(u.hostname or "127.0.0.1", u.port or 1883)

    def start(self) -> None:
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _incident_point(self, incident_id: int) -> Any:
        from dispatch.incident_service import get_incident, point_of

        with session_scope(self.cfg) as session:
            return point_of(get_incident(session, incident_id, scope=EVERYTHING).geom)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            event = json.loads(message.payload)
            unit = self.units.get(int(event.get("unit_id", -1)))
            action = event.get("action")
            # the broker may be shared: act only on this demo's own units
            if unit is None or event.get("call_sign") != unit["call_sign"]:
                return
            device = unit["device_id"]
            if action == "dispatched" and event.get("incident_id") is not None:
                target = self._incident_point(int(event["incident_id"]))
                if target is not None:
                    client.publish(f"siaga/v1/sim/{device}/goto",
                                   json.dumps({"lat": target.lat, "lon": target.lon}), qos=1)
                    self.sent.append((device, "goto"))
            elif action in ("returning", "available") and event.get("assignment_id"):
                client.publish(f"siaga/v1/sim/{device}/home", "{}", qos=1)
                self.sent.append((device, "home"))
        except Exception as exc:  # noqa: BLE001 - a bad event must not stop the relay
            _say(f"relay: {exc}")


# --- child processes ----------------------------------------------------------------------

def _spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    _say(f"starting {name}: {' '.join(argv)}  (log: {log_dir / (name + '.log')})")
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop_all(children: dict[str, subprocess.Popen]) -> None:
    for _name, proc in reversed(list(children.items())):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C would send; each child shuts down
    deadline = time.monotonic() + 15
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in time; terminating it")
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_http(url: str, timeout_s: float) -> bool:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def register(root: typer.Typer) -> None:
    @root.command("demo")
    def demo(
        host: str = typer.Option(None, help="API bind address (default SIAGA_API_HOST)."),
        port: int = typer.Option(None, help="API port (default SIAGA_API_PORT)."),
        duration: float = typer.Option(0, help="Stop after this many seconds (0: until Ctrl-C)."),
        incidents_per_minute: float = typer.Option(3.0, help="Incident generator rate."),
        interval: float = typer.Option(2.0, help="Seconds between simulated fixes per unit."),
        speedup: float = typer.Option(1.0, help="Simulated seconds per real second."),
        wander: bool = typer.Option(True, help="Idle simulated units patrol the streets."),
        setup: bool = typer.Option(True, help="Import regions/roads and seed (idempotent)."),
    ) -> None:
        """Run the whole platform with Kota Yogyakarta's illustrative fleet (Ctrl-C stops)."""
        cfg = settings()
        host, port = host or cfg.api_host, port or cfg.api_port
        work = cfg.state_dir / "demo"
        work.mkdir(parents=True, exist_ok=True)
        try:
            world = prepare(cfg, regions=setup, roads=setup)
        except Exception as exc:  # noqa: BLE001 - report setup problems in one line
            fail(f"demo setup failed: {exc}")
        fleet = world["fleet"]
        if not fleet:
            fail(f"no unit with a device id in region {REGION}; check the fleet seed")
        edges = work / "edges.csv"
        export_edges(cfg, edges)
        (work / "fleet.json").write_text(json.dumps(
            [{"device_id": u["device_id"], "lat": u["lat"], "lon": u["lon"]} for u in fleet]))
        env = {**os.environ, "SIAGA_DATABASE_URL": cfg.database_url,
               "SIAGA_MQTT_URL": cfg.mqtt_url, "PYTHONUNBUFFERED": "1"}
        bindir = Path(sys.executable).parent
        siaga, bridge = str(bindir / "siaga"), str(bindir / "siaga-bridge")
        children: dict[str, subprocess.Popen] = {}
        stop = threading.Event()
        relay = GotoRelay(cfg, fleet)

        def _interrupt(signum: int, frame: Any) -> None:
            stop.set()

        previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            children["ingest"] = _spawn("ingest", [
                siaga, "ingest", "--client-id", "siaga-demo-ingest",
                "--shared-group", "siaga-demo"], env, work)
            children["api"] = _spawn("api", [siaga, "serve", "--host", host, "--port",
                                             str(port)], env, work)
            # the scheduler: escalates OPD that do not acknowledge in time (advisory-lock leader)
            children["worker"] = _spawn("worker", [siaga, "worker", "--escalation-interval",
                                                   "15", "--name", "demo"], env, work)
            sim_argv = [bridge, "simulate", "--roads", str(edges), "--fleet",
                        str(work / "fleet.json"), "--interval", str(interval),
                        "--speedup", str(speedup), "--mqtt-url", cfg.mqtt_url,
                        "--client-id", f"siaga-demo-sim-{uuid.uuid4().hex[:6]}",
                        "--outbox", str(work / "outbox.sqlite")]
            children["simulator"] = _spawn("simulator", sim_argv + (["--wander"] if wander
                                                                    else []), env, work)
            base = f"http://{host}:{port}"
            if not _wait_http(f"{base}/api/v1/health", 60):
                fail(f"the API did not come up on {base}; see {work / 'api.log'}")
            relay.start()
            gen = Generator(base, api_token(cfg), kelurahan_points(cfg), incidents_per_minute,
                            stop)
            threading.Thread(target=gen.run, name="demo-incidents", daemon=True).start()
            typer.echo("")
            typer.echo(f"  Siaga demo — Kota Yogyakarta, {len(fleet)} illustrative units "
                       "(armada ilustratif)")
            typer.echo(f"  Console: {base}/   API docs: {base}/docs")
            typer.echo("  Login: demo / demo112 (dispatcher)   also: admin/admin112, "
                       "planner/planner112, bupati/bupati112 (viewer), damkar/damkar112 (agency)")
            typer.echo("  Ctrl-C stops everything.\n")
            started = time.monotonic()
            while not stop.wait(0.5):
                if duration and time.monotonic() - started >= duration:
                    break
                dead = [n for n, p in children.items() if p.poll() is not None]
                if dead:
                    _say(f"{', '.join(dead)} exited; see the logs in {work}. Stopping.")
                    break
        finally:
            stop.set()
            relay.stop()
            _stop_all(children)
            for s, handler in previous.items():
                signal.signal(s, handler)
            _say("stopped: " + ", ".join(f"{n} (exit {p.returncode})"
                                         for n, p in children.items()))
