"""Fleet simulator: virtual units driving real roads, publishing through the outbox path.

Units start parked at their fleet position (snapped to the road network). A ``goto`` command
(``{"lat":..,"lon":..}``) makes a unit drive the fastest road route there and stop; a ``route``
command (``{"route": [[lon, lat], ...]}``) makes it follow that polyline; ``home`` drives it back.
Speeds follow each edge's free-flow speed times a per-unit factor (0.75..1.0); positions get
Gaussian GPS noise; an optional cellular dropout holds a unit's fixes and flushes them as a
backlog when coverage returns. With ``wander`` units pick random destinations when idle.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from gps_firmware_bridge.exceptions import ConfigError, RoadNetworkError
from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.roads import Point, RoadGraph, bearing_deg, haversine_m

SOURCE = "sim"
M_PER_DEG_LAT = 111_320.0


@dataclass
class UnitState:
    """Mutable state of one virtual unit."""

    device_id: str
    home: Point
    position: Point
    speed_factor: float = 0.9
    route: list[Point] = field(default_factory=list)
    speeds_mps: list[float] = field(default_factory=list)
    leg: int = 0
    leg_offset_m: float = 0.0
    heading_deg: float = 0.0
    speed_mps: float = 0.0
    last_report: datetime | None = None
    offline_until: datetime | None = None
    held: list[Fix] = field(default_factory=list)

    @property
    def moving(self) -> bool:
        """True while the unit has route left to drive."""
        return self.leg < len(self.route) - 1


def load_fleet(path: str | Path) -> list[tuple[str, Point]]:
    """Read ``[{"device_id":..,"lat":..,"lon":..}]`` JSON or a ``device_id,lat,lon`` CSV."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        if str(path).lower().endswith(".csv"):
            lines = [ln.split(",") for ln in text.splitlines()[1:] if ln.strip()]
            return [(d.strip(), Point(float(lon), float(lat))) for d, lat, lon in lines]
        return [
            (str(u["device_id"]), Point(float(u["lon"]), float(u["lat"]))) for u in json.loads(text)
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"bad fleet file {path}: {exc}") from exc


class Simulator:
    """Steps a fleet of virtual units and emits fixes.

    Parameters
    ----------
    graph : RoadGraph
        Road network.
    fleet : list of (device_id, Point)
        Units and their start/home positions.
    report_interval_s : float
        Seconds between two fixes of a unit (``1.0`` for load mode).
    noise_m : float
        Standard deviation of the horizontal GPS noise, metres.
    dropout_rate : float
        Probability per unit and simulated minute of a cellular dropout.
    dropout_s : float
        Dropout duration, seconds; fixes are held and flushed as a backlog afterwards.
    wander : bool
        Idle units drive to random road nodes.
    seed : int
        Random seed (reproducible runs).
    """

    def __init__(
        self,
        graph: RoadGraph,
        fleet: list[tuple[str, Point]],
        report_interval_s: float = 5.0,
        noise_m: float = 3.0,
        dropout_rate: float = 0.0,
        dropout_s: float = 120.0,
        wander: bool = False,
        seed: int = 0,
    ) -> None:
        self.graph = graph
        self.rng = random.Random(seed)
        self.report_interval_s = report_interval_s
        self.noise_m = noise_m
        self.dropout_rate = dropout_rate
        self.dropout_s = dropout_s
        self.wander = wander
        self.units: dict[str, UnitState] = {}
        for device_id, start in fleet:
            snapped = graph.points[graph.nearest(start)]
            self.units[device_id] = UnitState(
                device_id, snapped, snapped, speed_factor=self.rng.uniform(0.75, 1.0)
            )

    @classmethod
    def random_fleet(
        cls, graph: RoadGraph, count: int, seed: int = 0, prefix: str = "SIM-"
    ) -> list[tuple[str, Point]]:
        """``count`` units at random road nodes."""
        rng = random.Random(seed)
        nodes = graph.main_component()
        return [(f"{prefix}{i + 1:04d}", graph.points[rng.choice(nodes)]) for i in range(count)]

    # commands -------------------------------------------------------------------------------
    def goto(self, device_id: str, target: Point) -> None:
        """Drive ``device_id`` by the fastest road route to ``target`` and stop there."""
        unit = self._unit(device_id)
        src = self.graph.nearest(unit.position)
        dst = self.graph.nearest(target)
        path = self.graph.shortest_path(src, dst)
        points = [unit.position] + [self.graph.points[n] for n in path]
        speeds = [
            self.graph.edge(u, v).length_m / self.graph.edge(u, v).travel_s
            for u, v in zip(path, path[1:], strict=False)
        ]
        first = speeds[0] if speeds else 8.0
        self._set_route(unit, points, [first] + speeds)

    def follow(self, device_id: str, polyline: list[Point], speed_mps: float = 11.0) -> None:
        """Follow an explicit polyline (WGS84) at ``speed_mps`` times the unit's factor."""
        unit = self._unit(device_id)
        if len(polyline) < 1:
            raise ConfigError("route needs at least one point")
        points = [unit.position, *polyline]
        self._set_route(unit, points, [speed_mps] * (len(points) - 1))

    def go_home(self, device_id: str) -> None:
        """Drive back to the home position."""
        self.goto(device_id, self._unit(device_id).home)

    def command(self, topic: str, payload: bytes) -> None:
        """Apply an MQTT command: ``siaga/v1/sim/{device_id}/goto`` or ``.../home``."""
        parts = topic.split("/")
        if len(parts) != 5 or parts[:3] != ["siaga", "v1", "sim"]:
            raise ConfigError(f"not a simulator command topic: {topic}")
        device_id, verb = parts[3], parts[4]
        if verb == "home":
            self.go_home(device_id)
            return
        if verb != "goto":
            raise ConfigError(f"unknown simulator command {verb!r}")
        body = json.loads(payload.decode("utf-8"))
        if "route" in body:
            self.follow(device_id, [Point(float(p[0]), float(p[1])) for p in body["route"]])
        else:
            self.goto(device_id, Point(float(body["lon"]), float(body["lat"])))

    def _unit(self, device_id: str) -> UnitState:
        try:
            return self.units[device_id]
        except KeyError:
            raise ConfigError(f"unknown simulated unit {device_id!r}") from None

    @staticmethod
    def _set_route(unit: UnitState, points: list[Point], speeds: list[float]) -> None:
        unit.route, unit.speeds_mps = points, speeds
        unit.leg, unit.leg_offset_m = 0, 0.0

    # stepping -------------------------------------------------------------------------------
    def step(self, dt_s: float, now: datetime) -> list[Fix]:
        """Advance every unit by ``dt_s`` seconds of simulated time ending at ``now``.

        Returns the fixes to store now (including flushed dropout backlogs).
        """
        out: list[Fix] = []
        for unit in self.units.values():
            if self.wander and not unit.moving and self.rng.random() < dt_s / 60.0:
                node = self.rng.choice(self.graph.main_component())
                try:
                    self.goto(unit.device_id, self.graph.points[node])
                except RoadNetworkError:
                    pass
            self._advance(unit, dt_s)
            if unit.last_report is None or (
                (now - unit.last_report).total_seconds() >= self.report_interval_s - 1e-6
            ):
                unit.last_report = now
                fix = self._fix(unit, now)
                out.extend(self._through_link(unit, fix, now, dt_s))
        return out

    def _advance(self, unit: UnitState, dt_s: float) -> None:
        remaining = dt_s
        unit.speed_mps = 0.0
        while unit.moving and remaining > 0:
            a, b = unit.route[unit.leg], unit.route[unit.leg + 1]
            leg_m = haversine_m(a, b)
            speed = max(1.0, unit.speeds_mps[unit.leg] * unit.speed_factor)
            step_m = speed * remaining
            if unit.leg_offset_m + step_m < leg_m:
                unit.leg_offset_m += step_m
                remaining = 0.0
                frac = unit.leg_offset_m / leg_m
                unit.position = Point(
                    a.lon + (b.lon - a.lon) * frac, a.lat + (b.lat - a.lat) * frac
                )
            else:
                remaining -= (leg_m - unit.leg_offset_m) / speed
                unit.leg += 1
                unit.leg_offset_m = 0.0
                unit.position = b
            unit.speed_mps = speed
            if leg_m > 0.5:
                unit.heading_deg = bearing_deg(a, b)
        if not unit.moving:
            unit.route, unit.speeds_mps, unit.leg = [], [], 0

    def _fix(self, unit: UnitState, now: datetime) -> Fix:
        dn, de = self.rng.gauss(0, self.noise_m), self.rng.gauss(0, self.noise_m)
        lat = unit.position.lat + dn / M_PER_DEG_LAT
        lon = unit.position.lon + de / (M_PER_DEG_LAT * math.cos(math.radians(unit.position.lat)))
        return Fix(
            device_id=unit.device_id,
            fix_time=now,
            lat=lat,
            lon=lon,
            speed_mps=round(unit.speed_mps, 2),
            heading_deg=round(unit.heading_deg, 1),
            hdop=0.9,
            accuracy_m=round(max(self.noise_m, 1.0) * 1.5, 1),
            satellites=self.rng.randint(7, 12),
            ignition=unit.moving or unit.speed_mps > 0,
            source=SOURCE,
        )

    def _through_link(self, unit: UnitState, fix: Fix, now: datetime, dt_s: float) -> list[Fix]:
        if unit.offline_until is not None:
            unit.held.append(fix)
            if now >= unit.offline_until:
                unit.offline_until = None
                held, unit.held = unit.held, []
                return held
            return []
        if self.dropout_rate and self.rng.random() < self.dropout_rate * dt_s / 60.0:
            unit.offline_until = now + timedelta(seconds=self.dropout_s)
            unit.held.append(fix)
            return []
        return [fix]


CommandSink = Callable[[str, bytes], None]
