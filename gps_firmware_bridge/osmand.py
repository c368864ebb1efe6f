"""OsmAnd / Traccar Client HTTP protocol: request decoder (the server lives in :mod:`httpserver`).

``GET /?id=..&lat=..&lon=..&timestamp=..&speed=..&bearing=..&altitude=..&accuracy=..&batt=..``
(or the same fields form-encoded in a POST body; ``deviceid`` for ``id``, ``location=lat,lon``,
``heading`` for ``bearing``, ``hdop``, ``ignition``). ``timestamp`` is Unix seconds, Unix
milliseconds, ISO 8601 or ``yyyy-MM-dd HH:mm:ss`` (UTC).

Speed unit: the OsmAnd protocol carries **knots** (Traccar's ``OsmAndProtocolDecoder`` reads it
with ``convertSpeed(value, "kn")``, and Traccar Client converts its m/s to knots before sending),
so the default here is knots; ``speed_unit`` (``kn``/``mps``/``kmh``) overrides it for apps that
send other units. The JSON body of newer Traccar Client versions (``{"device_id":..,
"location":{"timestamp":..,"coords":{..}}}``) is also accepted; its ``coords.speed`` is m/s.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gps_firmware_bridge.fix import DEVICE_ID_RE, KMH_MPS, KNOT_MPS, DecodeResult, Fix, Rejection
from gps_firmware_bridge.plausibility import (
    DEFAULT_LIMITS,
    PlausibilityLimits,
    check_fix,
    drop_bad_optionals,
)

SOURCE = "osmand"
SPEED_FACTORS = {"kn": KNOT_MPS, "mps": 1.0, "kmh": KMH_MPS}
REQUEST_ERRORS = frozenset({"no_device", "bad_device", "bad_request", "bad_coordinate"})
"""Rejection reasons that mean the request itself is wrong (HTTP 400); any other rejection is a
well-formed request whose fix is deliberately not stored (HTTP 200, the phone must not resend)."""


def _time(value: str) -> datetime:
    text = value.strip()
    if text.lstrip("-").isdigit():
        stamp = int(text)
        seconds = stamp / 1000.0 if stamp >= 2**31 - 1 else float(stamp)
        return datetime.fromtimestamp(seconds, tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (ValueError, OverflowError):
        return None


def _opt(
    params: dict[str, str], notes: list[Rejection], device_id: str, *names: str
) -> float | None:
    """The first present optional value; an unreadable one is dropped with a note."""
    for name in names:
        if name in params and params[name] != "":
            value = _number(params[name])
            if value is None:
                notes.append(
                    Rejection(
                        "dropped_field",
                        f"{name}={params[name][:40]!r} diabaikan (bukan angka) / "
                        f"{name}={params[name][:40]!r} dropped (not a number)",
                        device_id,
                    )
                )
            return value
    return None


def _coordinates(params: dict[str, str], device_id: str) -> tuple[float, float] | Rejection:
    if "location" in params:
        lat_s, _, lon_s = params["location"].partition(",")
    elif "lat" in params and "lon" in params:
        lat_s, lon_s = params["lat"], params["lon"]
    else:
        return Rejection(
            "bad_request",
            "lat dan lon (atau location=lat,lon) wajib diisi / "
            "lat and lon (or location=lat,lon) are required",
            device_id,
        )
    lat, lon = _number(lat_s), _number(lon_s)
    shown = f"lat={lat_s[:40]!r} lon={lon_s[:40]!r}"
    if lat is None or lon is None:
        return Rejection(
            "bad_coordinate",
            f"koordinat bukan angka: {shown} / coordinate is not a number: {shown}",
            device_id,
        )
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return Rejection(
            "bad_coordinate",
            f"koordinat bukan bilangan hingga: {shown} / coordinate is not finite: {shown}",
            device_id,
        )
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return Rejection(
            "bad_coordinate",
            f"koordinat di luar rentang (lat -90..90, lon -180..180): {shown} / "
            f"coordinate out of range (lat -90..90, lon -180..180): {shown}",
            device_id,
        )
    return lat, lon


def decode_params(
    params: dict[str, str],
    now: datetime,
    speed_unit: str = "kn",
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> DecodeResult:
    """Decode OsmAnd query/form parameters (last value of each name) into a fix.

    A missing/invalid id, missing coordinates, coordinates that are not numbers, not finite or
    out of range, and an unreadable timestamp reject the request (reasons in
    :data:`REQUEST_ERRORS`). An optional value (speed, bearing, altitude, hdop, accuracy, batt)
    that is unreadable, not finite or out of range is dropped and noted in
    ``DecodeResult.notes``; the position is kept.

    Parameters
    ----------
    params : dict
        Parameter name to value.
    now : datetime
        Receiving clock (aware UTC); also the fix time when ``timestamp`` is absent.
    speed_unit : {"kn", "mps", "kmh"}
        Unit of ``speed``.
    """
    device_id = params.get("id") or params.get("deviceid")
    if not device_id:
        return DecodeResult(rejections=(Rejection("no_device", "id wajib diisi / missing id"),))
    if not DEVICE_ID_RE.match(device_id):
        shown = repr(device_id[:70])
        return DecodeResult(
            rejections=(
                Rejection(
                    "bad_device",
                    f"id {shown} tidak sah (A-Z a-z 0-9 _ . : -, maks. 64) / "
                    f"id {shown} not allowed (A-Z a-z 0-9 _ . : -, max 64)",
                ),
            )
        )
    coords = _coordinates(params, device_id)
    if isinstance(coords, Rejection):
        return DecodeResult(rejections=(coords,), device_id=device_id)
    try:
        fix_time = _time(params["timestamp"]) if params.get("timestamp") else now
    except (ValueError, OverflowError, OSError):
        shown = repr(params["timestamp"][:40])
        return DecodeResult(
            rejections=(
                Rejection(
                    "bad_request",
                    f"timestamp {shown} tidak terbaca / timestamp {shown} is unreadable",
                    device_id,
                ),
            ),
            device_id=device_id,
        )
    notes: list[Rejection] = []
    speed = _opt(params, notes, device_id, "speed")
    heading = _opt(params, notes, device_id, "bearing", "heading")
    ignition_s = params.get("ignition")
    fix = Fix(
        device_id=device_id,
        fix_time=fix_time,
        lat=coords[0],
        lon=coords[1],
        speed_mps=speed * SPEED_FACTORS[speed_unit] if speed is not None else None,
        heading_deg=heading if heading is not None and heading >= 0 else None,
        altitude_m=_opt(params, notes, device_id, "altitude"),
        hdop=_opt(params, notes, device_id, "hdop"),
        accuracy_m=_opt(params, notes, device_id, "accuracy"),
        battery_pct=_opt(params, notes, device_id, "batt"),
        ignition=None if ignition_s is None else ignition_s.lower() in ("true", "1"),
        source=SOURCE,
    )
    fix, dropped = drop_bad_optionals(fix, limits)
    notes.extend(dropped)
    if params.get("valid", "true").lower() in ("false", "0"):
        return DecodeResult(
            rejections=(Rejection("no_fix", "valid=false", device_id),), device_id=device_id
        )
    rejection = check_fix(fix, now, limits)
    if rejection is not None:
        return DecodeResult(rejections=(rejection,), device_id=device_id, notes=tuple(notes))
    return DecodeResult(fixes=(fix,), device_id=device_id, notes=tuple(notes))


def _scalar(value: Any) -> str | None:
    """A JSON scalar as query text; objects, arrays, null and booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _json_params(body: Any) -> dict[str, str]:
    obj = body if isinstance(body, dict) else {}
    loc = obj.get("location")
    loc = loc if isinstance(loc, dict) else {}
    coords = loc.get("coords")
    coords = coords if isinstance(coords, dict) else {}
    out: dict[str, str] = {}
    ident = _scalar(obj.get("device_id", obj.get("id")))
    if ident is not None:
        out["id"] = ident
    mapping = {
        "lat": "latitude",
        "lon": "longitude",
        "accuracy": "accuracy",
        "altitude": "altitude",
        "bearing": "heading",
        "speed": "speed",
    }
    for key, src in mapping.items():
        value = _scalar(coords.get(src))
        if value is None:
            continue
        number = _number(value)
        # Traccar Client reports -1 for an unknown speed or heading: leave it out.
        if key in ("speed", "bearing") and number is not None and number < 0:
            continue
        out[key] = value
    stamp = _scalar(loc.get("timestamp"))
    if stamp:
        out["timestamp"] = stamp
    battery = loc.get("battery")
    level = _number(_scalar(battery.get("level")) or "") if isinstance(battery, dict) else None
    if level is not None and 0 <= level <= 1:
        out["batt"] = str(round(level * 100, 1))
    return out


def decode_request(
    method: str,
    target: str,
    body: bytes,
    content_type: str,
    now: datetime,
    speed_unit: str = "kn",
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> DecodeResult:
    """Decode one HTTP request (method, request target, body) into a fix or a rejection.

    Never raises for bad input: garbage gives a rejection whose reason is in
    :data:`REQUEST_ERRORS`.
    """
    try:
        query = urlsplit(target).query
    except ValueError as exc:
        return DecodeResult(
            rejections=(Rejection("bad_request", f"URL tidak sah / invalid URL: {exc}"[:160]),)
        )
    if method == "POST" and not query and body:
        if "json" in content_type.lower():
            try:
                obj = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                return DecodeResult(
                    rejections=(
                        Rejection("bad_request", f"JSON tidak sah / invalid JSON: {exc}"[:160]),
                    )
                )
            return decode_params(_json_params(obj), now, "mps", limits)
        query = body.decode("latin-1")
    try:
        parsed = parse_qs(query, keep_blank_values=True, max_num_fields=200)
    except ValueError as exc:
        return DecodeResult(
            rejections=(
                Rejection("bad_request", f"parameter tidak sah / bad parameters: {exc}"[:160]),
            )
        )
    params = {k: v[-1] for k, v in parsed.items()}
    return decode_params(params, now, speed_unit, limits)
