"""OwnTracks ``_type: location`` messages -> fixes (pure).

Topic ``owntracks/{user}/{device}`` (the device id becomes ``owntracks:{user}:{device}``);
payload fields ``tst`` epoch seconds, ``lat``/``lon`` WGS 84 degrees, ``vel`` km/h, ``cog``
degrees, ``acc`` m, ``alt`` m, ``batt`` %. Other ``_type`` values are ignored and counted under
a bounded set of names, not rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracking.fields import Bad, finite_float, is_integer, is_number, number, show
from tracking.fix import Fix
from tracking.plausibility import check_coordinates

_KMH_TO_MPS = 1.0 / 3.6
#: message types of the OwnTracks JSON format; anything else is counted as ``owntracks_other``
KNOWN_TYPES = frozenset({
    "beacon", "card", "cmd", "configuration", "encrypted", "lwt", "request", "status", "steps",
    "transition", "waypoint", "waypoints",
})


def ignored_type(kind: Any) -> str:
    """The counter name of a non-location message (bounded: unknown types share one name)."""
    return f"owntracks_{kind}" if isinstance(kind, str) and kind in KNOWN_TYPES else (
        "owntracks_other")


def owntracks_fix(obj: dict, device_id: str, received_at: datetime) -> Fix:
    """The fix of one ``_type: location`` object; raises :class:`Bad` on bad fields."""
    for name in ("tst", "lat", "lon"):
        if name not in obj:
            raise Bad("missing_field", f"Kolom OwnTracks {name} tidak ada.",
                      f"OwnTracks field {name} is missing.")
    tst, lat, lon = obj["tst"], obj["lat"], obj["lon"]
    if not is_integer(tst) or not (is_number(lat) and is_number(lon)):
        raise Bad("invalid_type", "tst/lat/lon OwnTracks harus berupa angka.",
                  "OwnTracks tst/lat/lon must be numbers.")
    lat, lon = finite_float("lat", lat), finite_float("lon", lon)
    problem = check_coordinates(lon, lat)
    if problem is not None and problem.code != "null_island":
        raise Bad(problem.code, problem.message, problem.message_en)
    try:
        fix_time = datetime.fromtimestamp(int(tst), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Bad("invalid_fix_time", f"tst {show(tst)} bukan waktu yang valid.",
                  f"tst {show(tst)} is not a valid time.") from exc
    vel = number(obj, "vel", 0.0, None)
    return Fix(
        device_id=device_id, fix_time=fix_time, lon=lon, lat=lat,
        speed_mps=None if vel is None else vel * _KMH_TO_MPS,
        heading_deg=number(obj, "cog", 0.0, 360.0),
        altitude_m=number(obj, "alt", None, None),
        accuracy_m=number(obj, "acc", 0.0, None),
        battery_pct=number(obj, "batt", 0.0, 100.0),
        source="owntracks", received_at=received_at,
    )
