"""Fleet and post files: parse and validate CSV and GeoJSON, write them back (pure, no I/O).

A file is validated whole before anything is written: :func:`parse_units` and
:func:`parse_posts` return every row as a frozen value, or raise :class:`RegistryFileError`
listing the bad rows (row number and reason, Bahasa Indonesia and English). Row numbers are the
line numbers of a CSV file (the header is line 1) and the 1-based feature numbers of a GeoJSON
FeatureCollection.

Units (CSV columns or GeoJSON properties)::

    kode_kab, call_sign, agency, vehicle_type, profile, capabilities, home_post, crew_size,
    status, device_id, protocol

``capabilities`` are separated by ``;`` (or ``|``); ``home_post`` is the name of a post of the
same regency; ``status`` is ``available`` (default) or ``out_of_service``. A unit's GeoJSON
geometry is ignored on import (it is written as the home post's point on export).

Posts (CSV columns; in GeoJSON the point geometry replaces ``lon``/``lat``)::

    kode_kab, agency, name, kind, lon, lat, address

Coordinates are WGS 84 degrees (EPSG:4326). CSV files may use ``,`` or ``;`` as separator
(spreadsheets set to Indonesian use ``;`` and decimal commas, both accepted) and may start with
a UTF-8 byte-order mark.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from dispatch.registry_fields import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    POST_COLUMNS,
    UNIT_COLUMNS,
    PostRow,
    RegistryFileError,
    RowProblem,
    UnitRow,
    post_from_mapping,
    unit_from_mapping,
)

__all__ = ["PostRow", "RegistryFileError", "UnitRow", "format_of", "parse_posts",
           "parse_units"]

_UNIT_REQUIRED = frozenset({"kode_kab", "call_sign", "agency", "vehicle_type", "profile"})
_POST_REQUIRED = frozenset({"kode_kab", "agency", "name", "kind", "lon", "lat"})


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if len(data) > MAX_FILE_BYTES:
        raise RegistryFileError([(0, f"berkas lebih dari {MAX_FILE_BYTES} byte",
                                  f"the file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegistryFileError([(0, "berkas bukan teks UTF-8",
                                  "the file is not UTF-8 text")]) from None


def _csv_rows(text: str, columns: Sequence[str],
              required: frozenset[str]) -> list[tuple[int, dict[str, str]]]:
    if "\x00" in text:
        raise RegistryFileError([(0, "berkas berisi byte NUL", "the file holds NUL bytes")])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise RegistryFileError([(1, f"baris judul CSV rusak: {exc}",
                                  f"malformed CSV header: {exc}")]) from None
    missing = sorted(required - set(header))
    unknown = sorted(set(header) - set(columns))
    dupes = sorted({h for h in header if header.count(h) > 1})
    if missing or unknown or dupes or not header:
        names = ", ".join(columns)
        raise RegistryFileError([(1, f"kolom judul salah (kurang: {missing}, tak dikenal: "
                                     f"{unknown}, ganda: {dupes}); kolom: {names}",
                                  f"wrong header (missing: {missing}, unknown: {unknown}, "
                                  f"duplicated: {dupes}); columns: {names}")])
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            line = reader.line_num
            if len(values) != len(header):
                rows.append((line, {"__error__": f"{len(values)}/{len(header)}"}))
            else:
                rows.append((line, dict(zip(header, values, strict=True))))
            if len(rows) > MAX_ROWS:
                raise RegistryFileError([(line, f"lebih dari {MAX_ROWS} baris",
                                          f"more than {MAX_ROWS} rows")])
    except csv.Error as exc:
        raise RegistryFileError([(reader.line_num, f"CSV rusak: {exc}",
                                  f"malformed CSV: {exc}")]) from None
    return rows


def _features(text: str) -> list[tuple[int, dict[str, Any], Any]]:
    """(feature number, properties, geometry) of a GeoJSON FeatureCollection."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RegistryFileError([(0, f"GeoJSON tidak dapat dibaca: {exc}",
                                  f"GeoJSON could not be read: {exc}")]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise RegistryFileError([(0, "GeoJSON harus FeatureCollection",
                                  "GeoJSON must be a FeatureCollection")])
    if len(doc["features"]) > MAX_ROWS:
        raise RegistryFileError([(0, f"lebih dari {MAX_ROWS} fitur",
                                  f"more than {MAX_ROWS} features")])
    out = []
    for i, feature in enumerate(doc["features"], start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            out.append((i, {"__error__": "feature"}, None))
            continue
        props = feature.get("properties")
        out.append((i, props if isinstance(props, dict) else {"__error__": "properties"},
                    feature.get("geometry")))
    return out


def _point_props(props: dict[str, Any], geometry: Any) -> dict[str, Any]:
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise RowProblem("geometri harus Point", "the geometry must be a Point")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) not in (2, 3):
        raise RowProblem("koordinat Point harus [lon, lat]",
                        "Point coordinates must be [lon, lat]")
    return {**props, "lon": coords[0], "lat": coords[1]}


_T = TypeVar("_T", UnitRow, PostRow)


def _collect(items: Iterable[tuple[int, Callable[[], _T]]], what: str) -> list[_T]:
    problems: list[tuple[int, str, str]] = []
    out: list[_T] = []
    for row, build in items:
        try:
            out.append(build())
        except RowProblem as exc:
            problems.append((row, exc.message_id, exc.message_en))
    if problems:
        raise RegistryFileError(problems, what=what)
    return out


def _bad_shape(marker: str) -> RowProblem:
    if marker == "feature":
        return RowProblem("bukan Feature GeoJSON", "not a GeoJSON Feature")
    if marker == "properties":
        return RowProblem("properties harus objek", "properties must be an object")
    return RowProblem(f"jumlah kolom salah ({marker})", f"wrong number of columns ({marker})")


def _unit_builder(row: int, m: dict[str, Any]) -> Callable[[], UnitRow]:
    def build() -> UnitRow:
        if "__error__" in m:
            raise _bad_shape(m["__error__"])
        return unit_from_mapping(row, m)
    return build


def _post_builder(row: int, m: dict[str, Any], geometry: Any = None,
                  geojson: bool = False) -> Callable[[], PostRow]:
    def build() -> PostRow:
        if "__error__" in m:
            raise _bad_shape(m["__error__"])
        return post_from_mapping(row, _point_props(m, geometry) if geojson else m)
    return build


def parse_units(data: bytes | str, fmt: str) -> list[UnitRow]:
    """Every unit of a fleet file (``fmt`` ``csv`` or ``geojson``), checked as a whole."""
    text = _decode(data)
    if fmt == "csv":
        items = [(r, _unit_builder(r, m)) for r, m in _csv_rows(text, UNIT_COLUMNS,
                                                                 _UNIT_REQUIRED)]
    elif fmt == "geojson":
        items = [(r, _unit_builder(r, p)) for r, p, _ in _features(text)]
    else:
        raise RegistryFileError([(0, f"format '{fmt}' tidak dikenal (csv, geojson)",
                                  f"unknown format '{fmt}' (csv, geojson)")])
    units = _collect(items, "fleet file")
    _check_unique(units, lambda u: (u.kode_kab, u.call_sign.casefold()), "call_sign",
                  "fleet file")
    _check_unique([u for u in units if u.device_id], lambda u: u.device_id, "device_id",
                  "fleet file")
    return units


def parse_posts(data: bytes | str, fmt: str) -> list[PostRow]:
    """Every post of a posts file (``fmt`` ``csv`` or ``geojson``), checked as a whole."""
    text = _decode(data)
    if fmt == "csv":
        items = [(r, _post_builder(r, m)) for r, m in _csv_rows(text, POST_COLUMNS,
                                                                 _POST_REQUIRED)]
    elif fmt == "geojson":
        items = [(r, _post_builder(r, p, g, geojson=True)) for r, p, g in _features(text)]
    else:
        raise RegistryFileError([(0, f"format '{fmt}' tidak dikenal (csv, geojson)",
                                  f"unknown format '{fmt}' (csv, geojson)")])
    posts = _collect(items, "posts file")
    _check_unique(posts, lambda p: (p.kode_kab, p.name.casefold()), "name", "posts file")
    return posts


def _check_unique(rows: Sequence[UnitRow] | Sequence[PostRow], key: Callable[[Any], Any],
                  field: str, what: str) -> None:
    seen: dict[Any, int] = {}
    problems = []
    for r in rows:
        k = key(r)
        if k in seen:
            problems.append((r.row, f"{field} sama dengan baris {seen[k]}",
                             f"{field} repeats row {seen[k]}"))
        else:
            seen[k] = r.row
    if problems:
        raise RegistryFileError(problems, what=what)


def format_of(filename: str) -> str:
    """``csv`` or ``geojson`` from a file name (``.csv``, ``.geojson``/``.json``)."""
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".geojson", ".json")):
        return "geojson"
    raise RegistryFileError([(0, f"jenis berkas '{filename}' tidak dikenal (.csv, .geojson)",
                              f"unknown file type '{filename}' (.csv, .geojson)")])
