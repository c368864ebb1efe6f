"""Arrival evidence: the track as GeoJSON with the rule that fired, and a tamper-evident digest.

Coordinates are WGS 84 degrees (EPSG:4326, GeoJSON order lon, lat); times are ISO 8601 UTC.
The digest is SHA-256 over a canonical JSON text: keys sorted, no whitespace, every float written
with 7 decimals (about 1 cm in degrees, 1 mm in metres), so the same evidence always gives the
same digest and any change to a coordinate, time or rule parameter changes it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from geo.timestamp import iso_utc
from geo.types import LonLat
from tracking.arrival import Arrival, ArrivalRule, distance_to_m, sort_fixes
from tracking.fix import Fix
from tracking.geodesy import EARTH_RADIUS_M

EVIDENCE_VERSION = 1
_CIRCLE_VERTICES = 64


def circle_polygon(center: LonLat, radius_m: float, vertices: int = _CIRCLE_VERTICES) -> list:
    """A closed GeoJSON ring approximating a circle of ``radius_m`` metres around ``center``."""
    lat_rad = math.radians(center.lat)
    ring = []
    for i in range(vertices):
        angle = 2.0 * math.pi * i / vertices
        dlat = (radius_m * math.cos(angle)) / EARTH_RADIUS_M
        dlon = (radius_m * math.sin(angle)) / (EARTH_RADIUS_M * math.cos(lat_rad))
        ring.append([center.lon + math.degrees(dlon), center.lat + math.degrees(dlat)])
    ring.append(ring[0])
    return [ring]


def build_evidence(fixes: Sequence[Fix], target: LonLat, rule: ArrivalRule,
                   arrival: Arrival | None, *, meta: dict) -> dict:
    """A GeoJSON FeatureCollection proving (or not) an arrival.

    Features: the track LineString (time order), one Point per fix (time, speed, distance to the
    target in metres, whether it is part of the qualifying dwell), the target Point, and the
    entry and exit geofence polygons. Top-level ``properties`` hold the rule, the arrival (time,
    first/last fix, dwell) and ``meta`` (assignment, device, unit ... given by the caller).
    """
    ordered = sort_fixes(fixes)
    dwell_from = arrival.first_fix.fix_time if arrival else None
    dwell_to = arrival.last_fix.fix_time if arrival else None
    features: list[dict[str, Any]] = []
    if len(ordered) >= 2:
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[f.lon, f.lat] for f in ordered]},
            "properties": {"kind": "track", "start": iso_utc(ordered[0].fix_time),
                           "end": iso_utc(ordered[-1].fix_time), "fixes": len(ordered)},
        })
    for fix in ordered:
        in_dwell = bool(dwell_from and dwell_to and dwell_from <= fix.fix_time <= dwell_to)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [fix.lon, fix.lat]},
            "properties": {"kind": "fix", "device_id": fix.device_id,
                           "fix_time": iso_utc(fix.fix_time), "seq": fix.seq,
                           "speed_mps": fix.speed_mps, "accuracy_m": fix.accuracy_m,
                           "distance_m": distance_to_m(fix, target), "in_dwell": in_dwell,
                           "received_at": iso_utc(fix.received_at)},
        })
    features.append({"type": "Feature",
                     "geometry": {"type": "Point", "coordinates": [target.lon, target.lat]},
                     "properties": {"kind": "target"}})
    for kind, radius_m in (("geofence", rule.radius_m), ("exit_fence", rule.exit_radius_m)):
        features.append({"type": "Feature",
                         "geometry": {"type": "Polygon",
                                      "coordinates": circle_polygon(target, radius_m)},
                         "properties": {"kind": kind, "radius_m": radius_m}})
    arrival_props = None
    if arrival is not None:
        arrival_props = {"arrived_at": iso_utc(arrival.arrived_at),
                         "first_fix_time": iso_utc(arrival.first_fix.fix_time),
                         "last_fix_time": iso_utc(arrival.last_fix.fix_time),
                         "fixes_in_dwell": arrival.fixes_in_dwell, "dwell_s": arrival.dwell_s}
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {"evidence_version": EVIDENCE_VERSION, "method": "geofence_dwell",
                       "distance": "haversine_m", "crs": "EPSG:4326",
                       "rule": asdict(rule), "arrival": arrival_props,
                       "target": {"lon": target.lon, "lat": target.lat}, "meta": meta},
    }


def _canonical(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("evidence cannot contain NaN or infinity")
        text = f"{value:.7f}"
        return "0.0000000" if text == "-0.0000000" else text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _canonical(v)
                              for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, datetime):
        return json.dumps(iso_utc(value))
    raise TypeError(f"cannot put {type(value).__name__} into evidence")


def canonical_json(evidence: dict) -> str:
    """The canonical text that :func:`evidence_digest` hashes."""
    return _canonical(evidence)


def evidence_digest(evidence: dict) -> str:
    """Hex SHA-256 of :func:`canonical_json` (UTF-8)."""
    return hashlib.sha256(canonical_json(evidence).encode("utf-8")).hexdigest()
