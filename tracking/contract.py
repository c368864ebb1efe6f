"""The MQTT position contract: topic + payload bytes -> fixes or typed rejections (pure).

Two inputs are accepted:

* native ``siaga/v1/pos/{device_id}``: one fix object or an array of fix objects, as described
  by ``schemas/mqtt/position.v1.json``. The checks below are hand-written equivalents of that
  schema (the fast path); ``tests/unit/tracking/test_contract_schema.py`` shows that the schema
  and this parser agree on every vector.
* OwnTracks ``owntracks/{user}/{device}`` with ``_type: location`` (``tst`` epoch seconds, ``lat``,
  ``lon``, ``vel`` km/h, ``cog`` degrees, ``acc`` m, ``alt`` m, ``batt`` %). Other ``_type`` values
  and deeper topics (``.../event``, ``.../info``) are ignored and counted, not rejected.

Every rejection carries a machine reason code and a message in Bahasa Indonesia and English;
a bad item in a batch rejects that item only. Coordinates are WGS 84 degrees (EPSG:4326).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracking.fastpath import Window, native_fix
from tracking.fix import Fix
from tracking.plausibility import PlausibilityLimits, Problem, check_coordinates, check_fix_time

NATIVE_PREFIX = "siaga/v1/pos/"
OWNTRACKS_PREFIX = "owntracks/"
MAX_BATCH = 5000
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_KMH_TO_MPS = 1.0 / 3.6

#: Reason codes that the JSON Schema alone also rejects (the rest need topic, clock or history).
SCHEMA_REASONS = frozenset({
    "malformed_json", "invalid_structure", "missing_field", "unknown_field", "invalid_type",
    "unsupported_version", "invalid_value", "invalid_device_id", "invalid_fix_time",
    "lat_out_of_range", "lon_out_of_range", "not_finite",
})

_REQUIRED = ("v", "device_id", "fix_time", "lat", "lon")
#: optional numeric fields: name -> (minimum, maximum)
_NUMBERS: dict[str, tuple[float | None, float | None]] = {
    "speed_mps": (0.0, None),
    "heading_deg": (0.0, 360.0),
    "altitude_m": (None, None),
    "hdop": (0.0, None),
    "accuracy_m": (0.0, None),
    "battery_pct": (0.0, 100.0),
}
_ALLOWED = frozenset(_REQUIRED) | frozenset(_NUMBERS) | {"seq", "satellites", "ignition", "source"}


@dataclass(frozen=True)
class Rejection:
    """One rejected message or batch item, kept for inspection (``position_reject``)."""

    reason: str
    message: str
    message_en: str
    topic: str
    payload: bytes
    received_at: datetime
    device_id: str | None = None
    item_index: int | None = None


@dataclass(frozen=True)
class ParseResult:
    """Outcome of one MQTT message: accepted fixes, rejections, and ignored (non-position) items."""

    fixes: list[Fix] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    ignored: str | None = None


class _Bad(Exception):
    def __init__(self, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.problem = Problem(code, message, message_en)


def _bad(code: str, message: str, message_en: str) -> _Bad:
    return _Bad(code, message, message_en)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )


def parse_fix_time(value: Any) -> datetime:
    """RFC 3339 date-time string -> aware UTC datetime; raises ``_Bad`` (``invalid_fix_time``)."""
    if not isinstance(value, str) or not _RFC3339_RE.match(value):
        raise _bad("invalid_fix_time", f"fix_time {value!r} bukan waktu ISO 8601 UTC (mis. "
                   "2026-11-23T02:15:30Z).",
                   f"fix_time {value!r} is not an ISO 8601 UTC time (e.g. 2026-11-23T02:15:30Z).")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise _bad("invalid_fix_time", f"fix_time {value!r} bukan tanggal yang ada.",
                   f"fix_time {value!r} is not a real date/time: {exc}.") from exc
    return parsed.astimezone(UTC)


def _number(obj: dict, name: str, lo: float | None, hi: float | None) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if not _is_number(value):
        raise _bad("invalid_type", f"Kolom {name} harus berupa angka, bukan {value!r}.",
                   f"Field {name} must be a number, not {value!r}.")
    value = float(value)
    if math.isnan(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        raise _bad("invalid_value", f"Kolom {name}={value} di luar rentang {rng}.",
                   f"Field {name}={value} is outside the range {rng}.")
    return value


def _native_item(obj: Any, topic_device: str, received_at: datetime) -> Fix:
    if not isinstance(obj, dict):
        raise _bad("invalid_structure", "Setiap fix harus berupa objek JSON.",
                   "Each fix must be a JSON object.")
    for name in _REQUIRED:
        if name not in obj:
            raise _bad("missing_field", f"Kolom wajib {name} tidak ada.",
                       f"Required field {name} is missing.")
    extra = obj.keys() - _ALLOWED
    if extra:
        names = ", ".join(sorted(extra))
        raise _bad("unknown_field", f"Kolom tidak dikenal: {names}.", f"Unknown fields: {names}.")
    v = obj["v"]
    if not _is_number(v) or v != 1:
        raise _bad("unsupported_version", f"Versi payload {v!r} tidak didukung (harus 1).",
                   f"Payload version {v!r} is not supported (must be 1).")
    device_id = obj["device_id"]
    if not isinstance(device_id, str) or not DEVICE_ID_RE.match(device_id):
        raise _bad("invalid_device_id", f"device_id {device_id!r} tidak valid.",
                   f"device_id {device_id!r} is invalid (1-64 of A-Z a-z 0-9 _ . : -).")
    fix_time = parse_fix_time(obj["fix_time"])
    lat, lon = obj["lat"], obj["lon"]
    if not (_is_number(lat) and _is_number(lon)):
        raise _bad("invalid_type", f"lat/lon harus berupa angka (lat={lat!r}, lon={lon!r}).",
                   f"lat/lon must be numbers (lat={lat!r}, lon={lon!r}).")
    lat, lon = float(lat), float(lon)
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        problem = check_coordinates(lon, lat)
        assert problem is not None
        raise _Bad(problem.code, problem.message, problem.message_en)
    seq = obj.get("seq")
    if seq is not None and (not _is_integer(seq) or seq < 0):
        raise _bad("invalid_type", f"seq harus bilangan bulat >= 0, bukan {seq!r}.",
                   f"seq must be an integer >= 0, not {seq!r}.")
    sats = obj.get("satellites")
    if sats is not None and (not _is_integer(sats) or sats < 0):
        raise _bad("invalid_type", f"satellites harus bilangan bulat >= 0, bukan {sats!r}.",
                   f"satellites must be an integer >= 0, not {sats!r}.")
    ignition = obj.get("ignition")
    if ignition is not None and not isinstance(ignition, bool):
        raise _bad("invalid_type", f"ignition harus true/false, bukan {ignition!r}.",
                   f"ignition must be true/false, not {ignition!r}.")
    source = obj.get("source", "native")
    if not isinstance(source, str):
        raise _bad("invalid_type", f"source harus berupa teks, bukan {source!r}.",
                   f"source must be a string, not {source!r}.")
    if device_id != topic_device:
        raise _bad("device_mismatch",
                   f"device_id {device_id!r} berbeda dengan topik ({topic_device!r}).",
                   f"device_id {device_id!r} does not match the topic ({topic_device!r}).")
    return Fix(
        device_id=device_id, fix_time=fix_time, lon=lon, lat=lat,
        speed_mps=_number(obj, "speed_mps", 0.0, None),
        heading_deg=_number(obj, "heading_deg", 0.0, 360.0),
        altitude_m=_number(obj, "altitude_m", None, None),
        hdop=_number(obj, "hdop", 0.0, None),
        accuracy_m=_number(obj, "accuracy_m", 0.0, None),
        satellites=None if sats is None else int(sats),
        seq=None if seq is None else int(seq),
        battery_pct=_number(obj, "battery_pct", 0.0, 100.0),
        ignition=ignition, source=source, received_at=received_at,
    )


def _owntracks_fix(obj: dict, device_id: str, received_at: datetime) -> Fix:
    for name in ("tst", "lat", "lon"):
        if name not in obj:
            raise _bad("missing_field", f"Kolom OwnTracks {name} tidak ada.",
                       f"OwnTracks field {name} is missing.")
    tst, lat, lon = obj["tst"], obj["lat"], obj["lon"]
    if not _is_integer(tst) or not (_is_number(lat) and _is_number(lon)):
        raise _bad("invalid_type", "tst/lat/lon OwnTracks harus berupa angka.",
                   "OwnTracks tst/lat/lon must be numbers.")
    lat, lon = float(lat), float(lon)
    problem = check_coordinates(lon, lat)
    if problem is not None and problem.code != "null_island":
        raise _Bad(problem.code, problem.message, problem.message_en)
    try:
        fix_time = datetime.fromtimestamp(int(tst), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _bad("invalid_fix_time", f"tst {tst!r} bukan waktu yang valid.",
                   f"tst {tst!r} is not a valid time.") from exc
    vel = _number(obj, "vel", 0.0, None)
    batt = obj.get("batt")
    return Fix(
        device_id=device_id, fix_time=fix_time, lon=lon, lat=lat,
        speed_mps=None if vel is None else vel * _KMH_TO_MPS,
        heading_deg=_number(obj, "cog", 0.0, 360.0),
        altitude_m=_number(obj, "alt", None, None),
        accuracy_m=_number(obj, "acc", 0.0, None),
        battery_pct=_number(obj, "batt", 0.0, 100.0) if batt is not None else None,
        source="owntracks", received_at=received_at,
    )


def _reject(problem: Problem, topic: str, payload: bytes, received_at: datetime,
            device_id: str | None = None, item_index: int | None = None) -> Rejection:
    return Rejection(problem.code, problem.message, problem.message_en, topic, payload,
                     received_at, device_id, item_index)


def _item_bytes(item: Any) -> bytes:
    try:
        return json.dumps(item, separators=(",", ":"), allow_nan=True).encode()
    except (TypeError, ValueError):
        return repr(item).encode()


def _finish(fix: Fix, now: datetime, limits: PlausibilityLimits) -> Problem | None:
    return check_coordinates(fix.lon, fix.lat) or check_fix_time(fix.fix_time, now=now,
                                                                   limits=limits)


def parse_message(topic: str, payload: bytes, *, received_at: datetime,
                  limits: PlausibilityLimits | None = None, prefix: str = "") -> ParseResult:
    """Decode one MQTT message into fixes and rejections; never raises on bad input.

    Parameters
    ----------
    topic : str
        The MQTT topic the message was published on (``prefix`` + a contract topic).
    payload : bytes
        The raw payload.
    received_at : datetime
        Server receive time (aware UTC); also the clock for the fix-time window.
    limits : PlausibilityLimits, optional
        Limits of the stateless plausibility checks (defaults otherwise).
    prefix : str
        A topic prefix to strip first (deployments or tests sharing one broker).
    """
    limits = limits or PlausibilityLimits()
    if prefix and topic.startswith(prefix):
        topic_rel = topic[len(prefix):]
    else:
        topic_rel = topic
    if topic_rel.startswith(NATIVE_PREFIX):
        kind, device_id = "native", topic_rel[len(NATIVE_PREFIX):]
    elif topic_rel.startswith(OWNTRACKS_PREFIX):
        levels = topic_rel.split("/")
        if len(levels) != 3:
            return ParseResult(ignored="owntracks_subtopic")
        kind, device_id = "owntracks", f"owntracks:{levels[1]}:{levels[2]}"
    else:
        kind, device_id = "unknown", ""
    if kind == "unknown" or not DEVICE_ID_RE.match(device_id):
        problem = Problem("invalid_topic", f"Topik {topic!r} tidak dikenal atau id perangkat tidak "
                          "valid.", f"Topic {topic!r} is not a position topic or its device id is "
                          "invalid.")
        return ParseResult(rejections=[_reject(problem, topic, payload, received_at)])
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        problem = Problem("malformed_json", f"Payload bukan JSON yang valid: {exc}.",
                          f"Payload is not valid JSON: {exc}.")
        return ParseResult(rejections=[_reject(problem, topic, payload, received_at, device_id)])
    if kind == "owntracks":
        return _parse_owntracks(doc, topic, payload, device_id, received_at, limits)
    if isinstance(doc, dict):
        items, batch = [doc], False
    elif isinstance(doc, list) and 1 <= len(doc) <= MAX_BATCH:
        items, batch = doc, True
    else:
        problem = Problem("invalid_structure",
                          f"Payload harus objek fix atau larik 1..{MAX_BATCH} fix.",
                          f"Payload must be a fix object or an array of 1..{MAX_BATCH} fixes.")
        return ParseResult(rejections=[_reject(problem, topic, payload, received_at, device_id)])
    fixes: list[Fix] = []
    rejections: list[Rejection] = []
    window = Window(received_at, limits.max_future_s, limits.max_age_s)
    for index, item in enumerate(items):
        quick = native_fix(item, device_id, received_at, window)
        if quick is not None:
            fixes.append(quick)
            continue
        try:
            fix = _native_item(item, device_id, received_at)
        except _Bad as bad:
            rejections.append(_reject(bad.problem, topic, _item_bytes(item) if batch else payload,
                                      received_at, device_id, index if batch else None))
            continue
        implausible = _finish(fix, received_at, limits)
        if implausible is not None:
            rejections.append(_reject(implausible, topic,
                                      _item_bytes(item) if batch else payload, received_at,
                                      device_id, index if batch else None))
        else:
            fixes.append(fix)
    return ParseResult(fixes=fixes, rejections=rejections)


def _parse_owntracks(doc: Any, topic: str, payload: bytes, device_id: str,
                     received_at: datetime, limits: PlausibilityLimits) -> ParseResult:
    if not isinstance(doc, dict) or "_type" not in doc:
        problem = Problem("invalid_structure", "Pesan OwnTracks harus objek dengan _type.",
                          "An OwnTracks message must be an object with _type.")
        return ParseResult(rejections=[_reject(problem, topic, payload, received_at, device_id)])
    if doc["_type"] != "location":
        return ParseResult(ignored=f"owntracks_{doc['_type']}")
    try:
        fix = _owntracks_fix(doc, device_id, received_at)
    except _Bad as bad:
        return ParseResult(rejections=[_reject(bad.problem, topic, payload, received_at,
                                               device_id)])
    implausible = _finish(fix, received_at, limits)
    if implausible is not None:
        return ParseResult(rejections=[_reject(implausible, topic, payload, received_at,
                                               device_id)])
    return ParseResult(fixes=[fix])


def fix_to_payload(fix: Fix) -> dict[str, Any]:
    """The native v1 payload object of a fix (inverse of the native parser)."""
    fix_time = fix.fix_time.astimezone(UTC).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {"v": 1, "device_id": fix.device_id, "fix_time": fix_time,
                           "lat": fix.lat, "lon": fix.lon}
    for name in ("seq", "speed_mps", "heading_deg", "altitude_m", "hdop", "accuracy_m",
                 "satellites", "battery_pct", "ignition"):
        value = getattr(fix, name)
        if value is not None:
            out[name] = value
    out["source"] = fix.source
    return out
