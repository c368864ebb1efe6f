"""Cut a regency's roads out of a larger OSM extract (a province or island file from Geofabrik).

:func:`clip_extract` keeps every way tagged ``highway`` with at least one node inside the
regency's boundary grown by ``buffer_m`` (so roads that leave and re-enter it, and the approaches
of stations near the border, stay connected), writes those ways whole with all their nodes, and
nothing else. Input and output are OSM PBF or XML (by file name), read and written with pyosmium.
Coordinates are WGS 84 (EPSG:4326).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.exceptions import RoadNetworkError

#: Default growth of the boundary before clipping (metres).
DEFAULT_BUFFER_M = 3000.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True)
class ClipReport:
    """What :func:`clip_extract` kept: ways and nodes written, ways of the source read."""

    target: Path
    ways_read: int
    ways_kept: int
    nodes_kept: int
    buffer_m: float

    def to_dict(self) -> dict:
        return {"target": str(self.target), "ways_read": self.ways_read,
                "ways_kept": self.ways_kept, "nodes_kept": self.nodes_kept,
                "buffer_m": self.buffer_m}


def grow(boundary: BaseGeometry, buffer_m: float) -> BaseGeometry:
    """``boundary`` (lon/lat degrees) grown by at least ``buffer_m`` metres in every direction."""
    lat = abs(boundary.centroid.y)
    deg = buffer_m / min(_M_PER_DEG_LAT, _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)))
    return boundary.buffer(deg) if buffer_m > 0 else boundary


def clip_extract(source: Path, boundary: BaseGeometry, target: Path, *,
                 buffer_m: float = DEFAULT_BUFFER_M) -> ClipReport:
    """Write to ``target`` the highways of ``source`` that touch ``boundary`` grown by
    ``buffer_m``.

    Raises
    ------
    RoadNetworkError
        Unreadable source, or no highway of the source touches the area (wrong file or region).
    """
    import osmium

    source, target = Path(source), Path(target)
    if not source.is_file():
        raise RoadNetworkError(f"roads file not found: {source}")
    area = grow(boundary, buffer_m)
    shapely.prepare(area)
    x0, y0, x1, y1 = area.bounds
    keep_ways: set[int] = set()
    keep_nodes: set[int] = set()
    read = 0
    try:
        for way in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY) \
                .with_locations().with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)) \
                .with_filter(osmium.filter.KeyFilter("highway")):
            read += 1
            refs = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
            if not refs:
                continue
            xy = np.array([(lon, lat) for _, lon, lat in refs])
            box = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
            if not box.any() or not shapely.contains_xy(area, xy[box, 0], xy[box, 1]).any():
                continue
            keep_ways.add(way.id)
            keep_nodes.update(n.ref for n in way.nodes)
    except RuntimeError as exc:  # osmium: unreadable or truncated file
        raise RoadNetworkError(f"cannot read roads file {source.name}: {exc}") from exc
    if not keep_ways:
        raise RoadNetworkError(
            f"tidak ada jalan dalam {source.name} di wilayah ini (+{buffer_m:.0f} m): berkas atau "
            f"kode wilayah salah? / no highway of {source.name} lies in this region "
            f"(+{buffer_m:.0f} m): wrong file or region code?")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{target.suffix}")
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp))
    try:
        for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node() and obj.id in keep_nodes:
                writer.add_node(obj)
            elif obj.is_way() and obj.id in keep_ways:
                writer.add_way(obj)
    finally:
        writer.close()
    tmp.replace(target)
    return ClipReport(target, read, len(keep_ways), len(keep_nodes), buffer_m)
