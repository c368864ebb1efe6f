"""Route output: geometry (GeoJSON LineString from snapped origin to snapped destination) and
turn-by-turn steps grouped by street name. Coordinates WGS 84; lengths metres; times seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo.routing.graph import RoadGraph
from geo.routing.results import Snap
from geo.types import LonLat

_MANEUVER_TEXT = {
    "depart": ("Berangkat", "Depart"),
    "continue": ("Lurus", "Continue"),
    "slight_left": ("Agak ke kiri", "Bear left"),
    "slight_right": ("Agak ke kanan", "Bear right"),
    "turn_left": ("Belok kiri", "Turn left"),
    "turn_right": ("Belok kanan", "Turn right"),
    "uturn": ("Putar balik", "Make a U-turn"),
    "arrive": ("Tiba di tujuan", "Arrive"),
}


@dataclass(frozen=True)
class RouteStep:
    """One instruction: drive ``distance_m`` metres (``duration_s`` s) along ``name``."""

    maneuver: str
    name: str
    distance_m: float
    duration_s: float
    location: LonLat
    text_id: str = ""
    text_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "maneuver": self.maneuver,
            "name": self.name,
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s, 1),
            "location": [self.location.lon, self.location.lat],
            "text_id": self.text_id,
            "text_en": self.text_en,
        }


@dataclass(frozen=True)
class Route:
    """A fastest route; ``geometry`` starts and ends at the snapped points."""

    eta_s: float
    distance_m: float
    geometry: list[LonLat]
    steps: list[RouteStep] = field(default_factory=list)

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON Feature with a LineString and the totals and steps as properties."""
        return {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[p.lon, p.lat] for p in self.geometry],
            },
            "properties": {
                "eta_s": round(self.eta_s, 3),
                "distance_m": round(self.distance_m, 2),
                "steps": [s.to_dict() for s in self.steps],
            },
        }


@dataclass
class _Piece:
    edge: int
    f0: float
    f1: float


def edge_xy(graph: RoadGraph, edge: int, f0: float, f1: float) -> np.ndarray:
    """Local-metre coordinates of the part of ``edge`` between fractions ``f0`` and ``f1``."""
    lo, hi = graph.geom_offsets[edge], graph.geom_offsets[edge + 1]
    xy = np.column_stack([graph.geom_x[lo:hi], graph.geom_y[lo:hi]])
    seg = np.hypot(*np.diff(xy, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if total <= 0:
        return xy[:1].repeat(2, axis=0)
    a, b = f0 * total, f1 * total
    inner = xy[(cum > a) & (cum < b)]
    start = np.array([np.interp(a, cum, xy[:, 0]), np.interp(a, cum, xy[:, 1])])
    end = np.array([np.interp(b, cum, xy[:, 0]), np.interp(b, cum, xy[:, 1])])
    return np.vstack([start, inner, end])


def _choose_start(
    graph: RoadGraph, org: Snap, dest: Snap, dist: np.ndarray
) -> tuple[list[_Piece], int | None]:
    """First piece(s) of the route and the node where the tree walk starts (None: same edge)."""
    e, s = int(org.edge[0]), float(org.frac[0])
    de, ds = int(dest.edge[0]), float(dest.frac[0])
    options: list[tuple[float, list[_Piece], int | None]] = []
    t = int(graph.edge_twin[e])
    options.append(
        (
            float((1 - s) * graph.edge_run_s[e] + graph.edge_penalty_s[e] + dist[graph.edge_v[e]]),
            [_Piece(e, s, 1.0)],
            int(graph.edge_v[e]),
        )
    )
    if t >= 0:
        options.append(
            (
                float(s * graph.edge_run_s[t] + graph.edge_penalty_s[t] + dist[graph.edge_v[t]]),
                [_Piece(t, 1 - s, 1.0)],
                int(graph.edge_v[t]),
            )
        )
    if e == de:
        dt = int(graph.edge_twin[de])
        if s <= ds:
            options.append((float((ds - s) * graph.edge_run_s[de]), [_Piece(de, s, ds)], None))
        elif dt >= 0:
            options.append(
                (float((s - ds) * graph.edge_run_s[dt]), [_Piece(dt, 1 - s, 1 - ds)], None)
            )
    at = int(org.node[0])
    if at >= 0:
        options.append((float(dist[at]), [], at))
    _, pieces, node = min(options, key=lambda o: o[0])
    return pieces, node


def _pieces(
    graph: RoadGraph, org: Snap, dest: Snap, dist: np.ndarray, pred: np.ndarray
) -> list[_Piece]:
    pieces, node = _choose_start(graph, org, dest, dist)
    if node is None:
        return pieces
    n = graph.n_nodes
    nodes = [node]
    while pred[nodes[-1]] != n:
        nodes.append(int(pred[nodes[-1]]))
        if len(nodes) > n or nodes[-1] < 0:
            raise RuntimeError("shortest-path tree is inconsistent (cycle or unreached node)")
    if len(nodes) > 1:
        ids = graph.edge_id(np.array(nodes[:-1]), np.array(nodes[1:]))
        pieces += [_Piece(int(i), 0.0, 1.0) for i in ids]
    de, ds = int(dest.edge[0]), float(dest.frac[0])
    if nodes[-1] == dest.node[0]:
        pass  # the destination is this junction
    elif nodes[-1] == graph.edge_u[de]:
        pieces.append(_Piece(de, 0.0, ds))
    else:
        pieces.append(_Piece(int(graph.edge_twin[de]), 0.0, 1 - ds))
    return pieces


def _bearing(xy: np.ndarray, at_end: bool) -> float:
    pts = xy[-2:] if at_end else xy[:2]
    dx, dy = pts[1] - pts[0]
    return math.degrees(math.atan2(dx, dy)) % 360


def _maneuver(before: float, after: float) -> str:
    turn = (after - before + 540) % 360 - 180
    if abs(turn) < 25:
        return "continue"
    if abs(turn) > 160:
        return "uturn"
    side = "right" if turn > 0 else "left"
    return f"slight_{side}" if abs(turn) < 60 else f"turn_{side}"


def build_route(
    graph: RoadGraph, org: Snap, dest: Snap, dist: np.ndarray, pred: np.ndarray, eta_s: float
) -> Route:
    """Assemble geometry and steps of the route found by a reversed search."""
    raw = _pieces(graph, org, dest, dist, pred)
    pieces = [p for p in raw if p.f1 > p.f0] or raw[:1]
    if not pieces:  # origin and destination at the same junction
        here = org.point(0)
        return Route(
            eta_s=eta_s,
            distance_m=float(org.offroad_m[0] + dest.offroad_m[0]),
            geometry=[here, dest.point(0)],
            steps=[RouteStep("arrive", "", 0.0, 0.0, here, *_MANEUVER_TEXT["arrive"])],
        )
    xy_parts: list[np.ndarray] = []
    steps: list[RouteStep] = []
    groups: list[dict[str, Any]] = []
    for p in pieces:
        xy = edge_xy(graph, p.edge, p.f0, p.f1)
        xy_parts.append(xy if not xy_parts else xy[1:])
        name = str(graph.names[graph.edge_name[p.edge]])
        frac = p.f1 - p.f0
        duration = frac * graph.edge_run_s[p.edge] + (
            graph.edge_penalty_s[p.edge] if p.f1 >= 1.0 else 0.0
        )
        length = frac * graph.edge_length_m[p.edge]
        if groups and groups[-1]["name"] == name:
            g = groups[-1]
            g["distance_m"] += length
            g["duration_s"] += duration
            g["end_bearing"] = _bearing(xy, True) if len(xy) > 1 else g["end_bearing"]
        else:
            groups.append(
                {
                    "name": name,
                    "distance_m": length,
                    "duration_s": duration,
                    "start": xy[0],
                    "start_bearing": _bearing(xy, False),
                    "end_bearing": _bearing(xy, True),
                }
            )
    coords = np.vstack(xy_parts)
    lon, lat = graph.to_lonlat(coords[:, 0], coords[:, 1])
    geometry = [LonLat(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]
    for i, g in enumerate(groups):
        kind = "depart" if i == 0 else _maneuver(groups[i - 1]["end_bearing"], g["start_bearing"])
        glon, glat = graph.to_lonlat(g["start"][0], g["start"][1])
        text_id, text_en = _MANEUVER_TEXT[kind]
        label_id, label_en = g["name"] or "jalan tanpa nama", g["name"] or "unnamed road"
        steps.append(
            RouteStep(
                kind,
                g["name"],
                float(g["distance_m"]),
                float(g["duration_s"]),
                LonLat(float(glon), float(glat)),
                f"{text_id} ke {label_id}",
                f"{text_en} onto {label_en}",
            )
        )
    end_off = float(dest.offroad_m[0])
    steps.append(
        RouteStep(
            "arrive",
            "",
            end_off,
            end_off / graph.offroad_mps,
            geometry[-1],
            _MANEUVER_TEXT["arrive"][0],
            _MANEUVER_TEXT["arrive"][1],
        )
    )
    total_m = sum(s.distance_m for s in steps) + float(org.offroad_m[0])
    return Route(eta_s=eta_s, distance_m=total_m, geometry=geometry, steps=steps)
