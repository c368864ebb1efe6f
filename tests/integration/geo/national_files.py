"""Test files shaped like the national downloads, built from the shipped pilot data.

* :func:`write_national`: one desa, one kecamatan and one kabupaten file holding the three pilot
  regencies plus a synthetic one, ``52.99`` "Kabupaten Uji Coba" (province 52, Nusa Tenggara
  Barat, which no pilot covers): Kota Yogyakarta moved by :data:`SHIFT` and given new codes.
* :func:`write_synthetic_roads`: Kota Yogyakarta's OSM roads moved the same way, as an OSM PBF
  (or XML) extract of the synthetic regency.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

DATA = Path(__file__).resolve().parents[3] / "data"
PILOTS = ("kota-yogyakarta", "bangli", "balikpapan")
SOURCE, SOURCE_KAB = "kota-yogyakarta", "34.71"
SYNTH_KAB, SYNTH_PROV = "52.99", "52"
SYNTH_NAME, SYNTH_PROV_NAME = "Kabupaten Uji Coba", "Nusa Tenggara Barat"
#: (degrees east, degrees north) added to every Kota Yogyakarta coordinate.
SHIFT = (6.0, -0.85)


def shifted(lon: float, lat: float) -> tuple[float, float]:
    """A Kota Yogyakarta point moved into the synthetic regency."""
    return lon + SHIFT[0], lat + SHIFT[1]


def _recode(value, old: str, new: str):
    if isinstance(value, str) and value.startswith(old):
        return new + value[len(old):]
    return value


def _synthetic(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = shapely.transform(out.geometry.values, lambda xy: xy + SHIFT)
    for col in ("kode_desa", "kode_kec", "kode_kab"):
        if col in out.columns:
            out[col] = [_recode(v, SOURCE_KAB + ".", SYNTH_KAB + ".") if col != "kode_kab"
                        else SYNTH_KAB for v in out[col]]
    for col, value in (("nama_kab", SYNTH_NAME), ("kode_prov", SYNTH_PROV),
                       ("nama_prov", SYNTH_PROV_NAME)):
        if col in out.columns:
            out[col] = value
    for col in ("kode_bps", "kode_bps_kec", "kode_bps_kab", "kode_desa_10"):
        if col in out.columns:
            out[col] = None
    return out


def write_national(folder: Path, *, suffix: str = ".geojson") -> dict[str, Path]:
    """The three levels, each in one file of four regencies; returns level → path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for level in ("desa", "kecamatan", "kabupaten"):
        frames = [gpd.read_file(DATA / name / f"{level}.geojson") for name in PILOTS]
        frames.append(_synthetic(frames[0]))
        merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
        path = folder / f"indonesia_{level}{suffix}"
        merged.to_file(path)
        paths[level] = path
    return paths


#: Added to the OSM ids of the moved copy in :func:`write_island` (no clash with the original).
ID_OFFSET = 10**11


def _moved(kind: str, id_offset: int):
    """The objects of Kota Yogyakarta's roads of one kind, moved by :data:`SHIFT`."""
    import osmium

    for obj in osmium.FileProcessor(str(DATA / SOURCE / "roads_drive.osm")):
        if kind == "node" and obj.is_node():
            lon, lat = shifted(obj.location.lon, obj.location.lat)
            yield obj.replace(id=obj.id + id_offset, location=osmium.osm.Location(lon, lat))
        elif kind == "way" and obj.is_way():
            yield obj.replace(id=obj.id + id_offset,
                              nodes=[n.ref + id_offset for n in obj.nodes])


def write_synthetic_roads(path: Path) -> Path:
    """Kota Yogyakarta's drivable roads moved into the synthetic regency; the format follows the
    file name (``.osm.pbf`` or ``.osm``), written with osmium."""
    import osmium

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        for obj in _moved("node", 0):
            writer.add_node(obj)
        for obj in _moved("way", 0):
            writer.add_way(obj)
    finally:
        writer.close()
    return path


def write_island(path: Path) -> Path:
    """An extract of two regencies' roads, like a Geofabrik province file: Kota Yogyakarta's as
    shipped and the synthetic regency's (moved, ids offset by :data:`ID_OFFSET`)."""
    import osmium

    original = DATA / SOURCE / "roads_drive.osm"
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        for obj in osmium.FileProcessor(str(original), osmium.osm.NODE):
            writer.add_node(obj)
        for obj in _moved("node", ID_OFFSET):
            writer.add_node(obj)
        for obj in osmium.FileProcessor(str(original), osmium.osm.WAY | osmium.osm.RELATION):
            writer.add(obj)
        for obj in _moved("way", ID_OFFSET):
            writer.add_way(obj)
    finally:
        writer.close()
    return path
