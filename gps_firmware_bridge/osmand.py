"""OsmAnd / Traccar Client HTTP protocol: request decoder (the server lives in ``httpserver``).

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
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits, check_fix

SOURCE = "osmand"
SPEED_FACTORS = {"kn": KNOT_MPS, "mps": 1.0, "kmh": KMH_MPS}


def _time(value: str) -> datetime:
    text = value.strip()
    if text.lstrip("-").isdigit():
        stamp = int(text)
        seconds = stamp / 1000.0 if stamp >= 2**31 - 1 else float(stamp)
        return datetime.fromtimestamp(seconds, tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _opt(params: dict[str, str], *names: str) -> float | None:
    for name in names:
        if name in params and params[name] != "":
            value = float(params[name])
            return value if math.isfinite(value) else math.nan
    return None


def decode_params(
    params: dict[str, str],
    now: datetime,
    speed_unit: str = "kn",
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> DecodeResult:
    """Decode OsmAnd query/form parameters (last value of each name) into a fix.

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
        return DecodeResult(rejections=(Rejection("no_device", "missing id"),))
    if not DEVICE_ID_RE.match(device_id):
        return DecodeResult(rejections=(Rejection("bad_device", f"id {device_id[:70]!r}"),))
    try:
        if "location" in params:
            lat_s, lon_s = params["location"].split(",", 1)
            lat, lon = float(lat_s), float(lon_s)
        else:
            lat, lon = float(params["lat"]), float(params["lon"])
        fix_time = _time(params["timestamp"]) if params.get("timestamp") else now
        speed = _opt(params, "speed")
        heading = _opt(params, "bearing", "heading")
        battery = _opt(params, "batt")
        ignition_s = params.get("ignition")
        fix = Fix(
            device_id=device_id,
            fix_time=fix_time,
            lat=lat,
            lon=lon,
            speed_mps=speed * SPEED_FACTORS[speed_unit] if speed is not None else None,
            heading_deg=heading if heading is not None and heading >= 0 else None,
            altitude_m=_opt(params, "altitude"),
            hdop=_opt(params, "hdop"),
            accuracy_m=_opt(params, "accuracy"),
            battery_pct=battery,
            ignition=None if ignition_s is None else ignition_s.lower() in ("true", "1"),
            source=SOURCE,
        )
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        return DecodeResult(
            rejections=(Rejection("bad_request", f"{exc}"[:120], device_id),), device_id=device_id
        )
    if params.get("valid", "true").lower() in ("false", "0"):
        return DecodeResult(
            rejections=(Rejection("no_fix", "valid=false", device_id),), device_id=device_id
        )
    rejection = check_fix(fix, now, limits)
    if rejection is not None:
        return DecodeResult(rejections=(rejection,), device_id=device_id)
    return DecodeResult(fixes=(fix,), device_id=device_id)


def _json_params(body: dict[str, Any]) -> dict[str, str]:
    loc = body.get("location") or {}
    coords = loc.get("coords") or {}
    out: dict[str, str] = {}
    ident = body.get("device_id") or body.get("id")
    if ident is not None:
        out["id"] = str(ident)
    mapping = {
        "lat": "latitude",
        "lon": "longitude",
        "accuracy": "accuracy",
        "altitude": "altitude",
        "bearing": "heading",
        "speed": "speed",
    }
    for key, src in mapping.items():
        value = coords.get(src)
        if value is not None and not (key in ("speed", "bearing") and float(value) < 0):
            out[key] = str(value)
    if loc.get("timestamp"):
        out["timestamp"] = str(loc["timestamp"])
    level = (loc.get("battery") or {}).get("level")
    if level is not None and 0 <= float(level) <= 1:
        out["batt"] = str(round(float(level) * 100, 1))
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
    """Decode one HTTP request (method, request target, body) into a fix or a rejection."""
    query = urlsplit(target).query
    if method == "POST" and not query and body:
        if "json" in content_type.lower():
            try:
                obj = json.loads(body.decode("utf-8"))
                params = _json_params(obj if isinstance(obj, dict) else {})
            except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as exc:
                return DecodeResult(rejections=(Rejection("bad_request", f"JSON: {exc}"[:120]),))
            return decode_params(params, now, "mps", limits)
        query = body.decode("latin-1")
    parsed = parse_qs(query, keep_blank_values=True)
    params = {k: v[-1] for k, v in parsed.items()}
    return decode_params(params, now, speed_unit, limits)
