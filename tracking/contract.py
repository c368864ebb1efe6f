"""The MQTT position contract: topic + payload bytes -> fixes or typed rejections (pure).

Two inputs are accepted:

* native ``siaga/v1/pos/{device_id}``: one fix object or an array of fix objects, as described
  by ``schemas/mqtt/position.v1.json``. The checks below are hand-written equivalents of that
  schema (the fast path); ``tests/unit/tracking/test_contract_schema.py`` shows that the schema
  and this parser agree on every vector.
* status ``siaga/v1/status/{device_id}``: a tracker alive without a GPS fix
  (``schemas/mqtt/status.v1.json``, :mod:`tracking.status`): a :class:`StatusReport`, never a fix.
* OwnTracks ``owntracks/{user}/{device}`` with ``_type: location`` (:mod:`tracking.owntracks`).
  Other ``_type`` values and deeper topics (``.../event``, ``.../info``) are ignored and counted,
  not rejected.

A device id (a topic level) is 1-128 characters other than ``+ # /``, NUL and control
characters, so MQTT usernames such as ``budi@bpbd`` or ``Ambulans 2`` work as device ids. A
zero-length payload (the clearing of a retained message) is ignored and counted.

The payload is decoded within bounds (:mod:`tracking.payload`: 1 MiB, 16 levels of nesting) and
every accepted value fits its ``position`` column; anything else is a rejection with a machine
reason code and a message in Bahasa Indonesia and English, never an exception. A bad item in a
batch rejects that item only. Coordinates are WGS 84 degrees (EPSG:4326).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geo.timestamp import iso_utc
from tracking.fastpath import Window, native_fix
from tracking.fields import (
    DEVICE_ID_RE,
    MAX_SOURCE_LEN,
    Bad,
    envelope,
    finite_float,
    integer,
    is_number,
    number,
    parse_fix_time,
    show,
    text,
)
from tracking.fix import Fix
from tracking.owntracks import ignored_type, owntracks_fix
from tracking.payload import INT4_MAX, INT8_MAX, decode_json
from tracking.plausibility import PlausibilityLimits, Problem, check_coordinates, check_fix_time
from tracking.status import MAX_STATUS_BYTES, STATUS_PREFIX, StatusReport, status_report, too_large

__all__ = ["DEVICE_ID_RE", "MAX_BATCH", "SCHEMA_REASONS", "ParseResult", "Rejection",
           "fix_to_payload", "parse_fix_time", "parse_message"]

NATIVE_PREFIX = "siaga/v1/pos/"
OWNTRACKS_PREFIX = "owntracks/"
MAX_BATCH = 5000

#: Reason codes that the JSON Schema alone also rejects (the rest need topic, clock, history or
#: the transport's size limit).
SCHEMA_REASONS = frozenset({
    "malformed_json", "nesting_too_deep", "invalid_structure", "missing_field", "unknown_field",
    "invalid_type", "unsupported_version", "invalid_value", "invalid_device_id",
    "invalid_fix_time", "lat_out_of_range", "lon_out_of_range", "not_finite",
})

_REQUIRED = ("v", "device_id", "fix_time", "lat", "lon")
_ALLOWED = frozenset(_REQUIRED) | {"seq", "satellites", "ignition", "source", "speed_mps",
                                   "heading_deg", "altitude_m", "hdop", "accuracy_m",
                                   "battery_pct"}
#: the schema's names, kept for callers of the former private alias
_Bad = Bad


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
    """Outcome of one MQTT message: accepted fixes or statuses, rejections, and ignored
    (non-position) items."""

    fixes: list[Fix] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    ignored: str | None = None
    statuses: list[StatusReport] = field(default_factory=list)


def _native_item(obj: Any, topic_device: str, received_at: datetime) -> Fix:
    device_id = envelope(obj, _REQUIRED, _ALLOWED, "Setiap fix", "Each fix",
                         integral_version=False)
    fix_time = parse_fix_time(obj["fix_time"])
    lat, lon = obj["lat"], obj["lon"]
    if not (is_number(lat) and is_number(lon)):
        raise Bad("invalid_type", f"lat/lon harus berupa angka (lat={show(lat)}, "
                  f"lon={show(lon)}).", f"lat/lon must be numbers (lat={show(lat)}, "
                  f"lon={show(lon)}).")
    lat, lon = finite_float("lat", lat), finite_float("lon", lon)
    if abs(lat) > 90 or abs(lon) > 180:
        problem = check_coordinates(lon, lat)
        assert problem is not None
        raise Bad(problem.code, problem.message, problem.message_en)
    seq = integer(obj, "seq", INT8_MAX)
    sats = integer(obj, "satellites", INT4_MAX)
    ignition = obj.get("ignition")
    if ignition is not None and not isinstance(ignition, bool):
        raise Bad("invalid_type", f"ignition harus true/false, bukan {show(ignition)}.",
                  f"ignition must be true/false, not {show(ignition)}.")
    source = text(obj, "source", "native", MAX_SOURCE_LEN)
    speed_mps = number(obj, "speed_mps", 0.0, None)
    heading_deg = number(obj, "heading_deg", 0.0, 360.0)
    altitude_m = number(obj, "altitude_m", None, None)
    hdop = number(obj, "hdop", 0.0, None)
    accuracy_m = number(obj, "accuracy_m", 0.0, None)
    battery_pct = number(obj, "battery_pct", 0.0, 100.0)
    # after every check the schema makes, so a schema-invalid item never gets this reason
    if device_id != topic_device:
        raise Bad("device_mismatch",
                  f"device_id {show(device_id)} berbeda dengan topik ({show(topic_device)}).",
                  f"device_id {show(device_id)} does not match the topic ({show(topic_device)}).")
    return Fix(
        device_id=device_id, fix_time=fix_time, lon=lon, lat=lat, speed_mps=speed_mps,
        heading_deg=heading_deg, altitude_m=altitude_m, hdop=hdop, accuracy_m=accuracy_m,
        satellites=sats, seq=seq, battery_pct=battery_pct, ignition=ignition, source=source,
        received_at=received_at,
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
    if not payload:
        # a zero-length message clears a retained message (OwnTracks phones retain theirs)
        return ParseResult(ignored="empty_payload")
    if prefix and topic.startswith(prefix):
        topic_rel = topic[len(prefix):]
    else:
        topic_rel = topic
    if topic_rel.startswith(NATIVE_PREFIX):
        kind, device_id = "native", topic_rel[len(NATIVE_PREFIX):]
        valid = DEVICE_ID_RE.match(device_id) is not None
    elif topic_rel.startswith(STATUS_PREFIX):
        kind, device_id = "status", topic_rel[len(STATUS_PREFIX):]
        valid = DEVICE_ID_RE.match(device_id) is not None
    elif topic_rel.startswith(OWNTRACKS_PREFIX):
        levels = topic_rel.split("/")
        if len(levels) != 3:
            return ParseResult(ignored="owntracks_subtopic")
        kind, device_id = "owntracks", f"owntracks:{levels[1]}:{levels[2]}"
        valid = all(DEVICE_ID_RE.match(level) for level in levels[1:])
    else:
        kind, device_id, valid = "unknown", "", False
    if not valid:
        shown = show(topic, 200)
        bad_topic = Problem("invalid_topic", f"Topik {shown} tidak dikenal atau id perangkat "
                            "tidak valid.", f"Topic {shown} is not a position topic or its device "
                            "id is invalid.")
        return ParseResult(rejections=[_reject(bad_topic, topic, payload, received_at)])
    if kind == "status" and len(payload) > MAX_STATUS_BYTES:
        return ParseResult(rejections=[_reject(too_large(len(payload)), topic, payload,
                                               received_at, device_id)])
    doc, undecodable = decode_json(payload)
    if undecodable is not None:
        return ParseResult(rejections=[_reject(undecodable, topic, payload, received_at,
                                               device_id)])
    if kind == "owntracks":
        return _parse_owntracks(doc, topic, payload, device_id, received_at, limits)
    if kind == "status":
        try:
            return ParseResult(statuses=[status_report(doc, device_id, received_at)])
        except Bad as bad:
            return ParseResult(rejections=[_reject(bad.problem, topic, payload, received_at,
                                                   device_id)])
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
        except Bad as bad:
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
        return ParseResult(ignored=ignored_type(doc["_type"]))
    try:
        fix = owntracks_fix(doc, device_id, received_at)
    except Bad as bad:
        return ParseResult(rejections=[_reject(bad.problem, topic, payload, received_at,
                                               device_id)])
    implausible = _finish(fix, received_at, limits)
    if implausible is not None:
        return ParseResult(rejections=[_reject(implausible, topic, payload, received_at,
                                               device_id)])
    return ParseResult(fixes=[fix])


def fix_to_payload(fix: Fix) -> dict[str, Any]:
    """The native v1 payload object of a fix (inverse of the native parser)."""
    out: dict[str, Any] = {"v": 1, "device_id": fix.device_id, "fix_time": iso_utc(fix.fix_time),
                           "lat": fix.lat, "lon": fix.lon}
    for name in ("seq", "speed_mps", "heading_deg", "altitude_m", "hdop", "accuracy_m",
                 "satellites", "battery_pct", "ignition"):
        value = getattr(fix, name)
        if value is not None:
            out[name] = value
    out["source"] = fix.source
    return out
