"""Write units and posts as CSV and GeoJSON (pure): the files :mod:`dispatch.registry_io` reads.

An export read back with :func:`dispatch.registry_io.parse_units` / ``parse_posts`` gives the same
rows (a round trip the tests check). Coordinates are WGS 84 degrees, longitude first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from dispatch.registry_io import POST_COLUMNS, UNIT_COLUMNS, PostRow, UnitRow
from geo.types import LonLat


def _unit_values(u: UnitRow) -> dict[str, object]:
    return {"kode_kab": u.kode_kab, "call_sign": u.call_sign, "agency": u.agency,
            "vehicle_type": u.vehicle_type, "profile": u.profile,
            "capabilities": ";".join(u.capabilities), "home_post": u.home_post or "",
            "crew_size": "" if u.crew_size is None else u.crew_size, "status": u.status,
            "device_id": u.device_id or "", "protocol": u.protocol or ""}


def _post_values(p: PostRow) -> dict[str, object]:
    return {"kode_kab": p.kode_kab, "agency": p.agency, "name": p.name, "kind": p.kind,
            "lon": repr(p.lon), "lat": repr(p.lat), "address": p.address}


def _csv(columns: Sequence[str], rows: Sequence[dict[str, object]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def units_csv(units: Sequence[UnitRow]) -> str:
    return _csv(UNIT_COLUMNS, [_unit_values(u) for u in units])


def posts_csv(posts: Sequence[PostRow]) -> str:
    return _csv(POST_COLUMNS, [_post_values(p) for p in posts])


def units_geojson(units: Sequence[UnitRow],
                  post_points: Mapping[tuple[str, str], LonLat] | None = None) -> str:
    """Units as a FeatureCollection; a unit's point is its home post's (``None`` without one).

    ``post_points`` maps (kode_kab, post name) to the post's position.
    """
    points = post_points or {}
    features = []
    for u in units:
        values = _unit_values(u)
        values["capabilities"] = list(u.capabilities)
        values["crew_size"] = u.crew_size
        for key in ("home_post", "device_id", "protocol"):
            values[key] = values[key] or None
        point = points.get((u.kode_kab, u.home_post or ""))
        geometry = None if point is None else {"type": "Point",
                                               "coordinates": [point.lon, point.lat]}
        features.append({"type": "Feature", "geometry": geometry, "properties": values})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, indent=1)


def posts_geojson(posts: Sequence[PostRow]) -> str:
    features = [{"type": "Feature",
                 "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                 "properties": {"kode_kab": p.kode_kab, "agency": p.agency, "name": p.name,
                                "kind": p.kind, "address": p.address}} for p in posts]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, indent=1)
