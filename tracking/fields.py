"""Field checks shared by the native and OwnTracks position parsers (pure).

Each check returns the value as stored or raises :class:`Bad` with a reason code and a message in
Bahasa Indonesia and English; the parsers turn :class:`Bad` into a typed rejection. Values that
pass fit their ``position`` column: ``int8`` ``seq``, ``int4`` ``satellites``, finite ``float8``
numbers, ``text`` without NUL or lone surrogates (limits in :mod:`tracking.payload`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from tracking.payload import FLOAT8_MAX, text_problem
from tracking.plausibility import Problem

#: a device id as a topic level: 1-128 characters, none of the MQTT wildcards ``+ #``, the level
#: separator ``/``, NUL, control characters (Mosquitto refuses them in topics) or lone surrogates
DEVICE_ID_RE = re.compile(r"^[^+#/\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,128}$")
#: longest ``source`` name stored
MAX_SOURCE_LEN = 64
_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)


class Bad(Exception):
    """One field (or item) that cannot be accepted; ``problem`` says why."""

    def __init__(self, code: str, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.problem = Problem(code, message, message_en)


def show(value: Any, limit: int = 80) -> str:
    """A short ASCII ``repr`` of an input value for messages (NUL/surrogates escaped)."""
    if isinstance(value, (list, dict)):
        text = f"<{type(value).__name__} of {len(value)}>"
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        text = f"<integer of {value.bit_length()} bits>"
    else:
        text = ascii(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )


def finite_float(name: str, value: Any) -> float:
    """A JSON number as a finite float8; ``not_finite`` for NaN, infinities and overflow."""
    if isinstance(value, int) and abs(value) > FLOAT8_MAX:
        value = math.inf  # float(value) would raise OverflowError
    value = float(value)
    if not math.isfinite(value):
        raise Bad("not_finite", f"Kolom {name}={show(value)} bukan bilangan berhingga.",
                  f"Field {name}={show(value)} is not a finite number.")
    return value


def number(obj: dict, name: str, lo: float | None, hi: float | None) -> float | None:
    """Optional number field ``name`` of ``obj`` within ``lo..hi`` (``None`` if absent/null)."""
    value = obj.get(name)
    if value is None:
        return None
    if not is_number(value):
        raise Bad("invalid_type", f"Kolom {name} harus berupa angka, bukan {show(value)}.",
                  f"Field {name} must be a number, not {show(value)}.")
    value = finite_float(name, value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        raise Bad("invalid_value", f"Kolom {name}={value} di luar rentang {rng}.",
                  f"Field {name}={value} is outside the range {rng}.")
    return value


def integer(obj: dict, name: str, maximum: int) -> int | None:
    """Optional integer field ``name`` in ``0..maximum`` (the range of its column)."""
    value = obj.get(name)
    if value is None:
        return None
    if not is_integer(value) or value < 0:
        raise Bad("invalid_type", f"{name} harus bilangan bulat >= 0, bukan {show(value)}.",
                  f"{name} must be an integer >= 0, not {show(value)}.")
    if value > maximum:
        raise Bad("invalid_value", f"{name}={show(value)} melebihi batas {maximum}.",
                  f"{name}={show(value)} exceeds the maximum {maximum}.")
    return int(value)


def text(obj: dict, name: str, default: str, max_len: int) -> str:
    """Optional text field: a string of at most ``max_len`` characters, no NUL/lone surrogate."""
    value = obj.get(name, default)
    if not isinstance(value, str):
        raise Bad("invalid_type", f"{name} harus berupa teks, bukan {show(value)}.",
                  f"{name} must be a string, not {show(value)}.")
    if len(value) > max_len or text_problem(value):
        raise Bad("invalid_value",
                  f"{name} {show(value)} terlalu panjang (> {max_len}) atau memuat NUL/surrogate.",
                  f"{name} {show(value)} is longer than {max_len} or holds NUL/lone surrogates.")
    return value


def parse_fix_time(value: Any) -> datetime:
    """RFC 3339 date-time string -> aware UTC datetime; else :class:`Bad` ``invalid_fix_time``."""
    if not isinstance(value, str) or not _RFC3339_RE.match(value):
        raise Bad("invalid_fix_time", f"fix_time {show(value)} bukan waktu ISO 8601 UTC (mis. "
                  "2026-11-23T02:15:30Z).",
                  f"fix_time {show(value)} is not an ISO 8601 UTC time "
                  "(e.g. 2026-11-23T02:15:30Z).")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise Bad("invalid_fix_time", f"fix_time {show(value)} bukan tanggal yang ada.",
                  f"fix_time {show(value)} is not a real date/time: {exc}.") from exc
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # a real time whose UTC date falls before year 1 or after 9999: the nearest representable
        # instant, which the fix-time window then rejects (too old / in the future)
        return (datetime.min if parsed.year == 1 else datetime.max).replace(tzinfo=UTC)


def envelope(obj: Any, required: Any, allowed: Any, what_id: str, what_en: str,
             *, integral_version: bool) -> str:
    """Check the envelope shared by every Siaga message (an object, its required and allowed
    fields, ``v`` = 1, a valid ``device_id``) and return the device id; raises :class:`Bad`.

    ``what_id`` / ``what_en`` name the object in the messages ("Setiap fix" / "Each fix");
    ``integral_version`` refuses ``1.0`` as a version (the status schema says integer).
    """
    if not isinstance(obj, dict):
        raise Bad("invalid_structure", f"{what_id} harus berupa objek JSON.",
                  f"{what_en} must be a JSON object.")
    for name in required:
        if name not in obj:
            raise Bad("missing_field", f"Kolom wajib {name} tidak ada.",
                      f"Required field {name} is missing.")
    extra = obj.keys() - allowed
    if extra:
        names = ", ".join(show(n, 40) for n in sorted(extra)[:10])
        raise Bad("unknown_field", f"Kolom tidak dikenal: {names}.", f"Unknown fields: {names}.")
    v = obj["v"]
    if not (is_integer(v) if integral_version else is_number(v)) or v != 1:
        raise Bad("unsupported_version", f"Versi payload {show(v)} tidak didukung (harus 1).",
                  f"Payload version {show(v)} is not supported (must be 1).")
    device_id = obj["device_id"]
    if not isinstance(device_id, str) or not DEVICE_ID_RE.match(device_id):
        raise Bad("invalid_device_id", f"device_id {show(device_id)} tidak valid.",
                  f"device_id {show(device_id)} is invalid (1-128 characters, none of + # / "
                  "NUL or control characters).")
    return device_id
