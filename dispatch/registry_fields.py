"""Fields of fleet and post rows: constants, row values and per-field checks (pure).

See :mod:`dispatch.registry_io` for the file formats. Every check raises :class:`RowProblem`
with a message in Bahasa Indonesia and in English.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dispatch.exceptions import DispatchValidationError

#: Largest file accepted (bytes) and most rows per file.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ROWS = 5000
#: Row problems listed in one error (the rest are counted).
MAX_LISTED = 20

POST_KINDS: tuple[str, ...] = ("fire_station", "bpbd_base", "puskesmas", "psc119_base",
                               "hospital", "police", "other")
#: Statuses a unit may be given by an import (the others belong to assignments).
IMPORT_STATUSES: tuple[str, ...] = ("available", "out_of_service")
PROTOCOLS: tuple[str, ...] = ("native", "gt06", "teltonika", "osmand", "nmea", "owntracks")

UNIT_COLUMNS: tuple[str, ...] = ("kode_kab", "call_sign", "agency", "vehicle_type", "profile",
                                 "capabilities", "home_post", "crew_size", "status", "device_id",
                                 "protocol")
POST_COLUMNS: tuple[str, ...] = ("kode_kab", "agency", "name", "kind", "lon", "lat", "address")

KODE_KAB_RE = re.compile(r"^\d{2}\.\d{2}$")
#: A tracker id that is also a valid MQTT username and topic level (no wildcards, '/', ':' or
#: control characters; ':' ends a username in Mosquitto's password file).
DEVICE_ID_RE = re.compile(r"^[^+#/:\x00-\x1f\x7f-\x9f]{1,128}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_TEXT_RE = re.compile(r"^[^\x00-\x1f\x7f]*$")


class RegistryFileError(DispatchValidationError):
    """A fleet or post file was refused as a whole; ``problems`` holds (row, id, en) triples."""

    def __init__(self, problems: Sequence[tuple[int, str, str]], *, total: int | None = None,
                 what: str = "file") -> None:
        self.problems = list(problems)[:MAX_LISTED]
        self.total = len(problems) if total is None else total
        more = self.total - len(self.problems)
        tail_id = f" (dan {more} masalah lain)" if more > 0 else ""
        tail_en = f" (and {more} more)" if more > 0 else ""
        text_id = "; ".join(f"baris {r}: {m}" if r else m for r, m, _ in self.problems)
        text_en = "; ".join(f"row {r}: {m}" if r else m for r, _, m in self.problems)
        self.message_id = f"Berkas ditolak, tidak ada yang diimpor: {text_id}{tail_id}"
        self.message_en = f"The {what} was refused, nothing was imported: {text_en}{tail_en}"
        super().__init__(f"{self.message_id} / {self.message_en}")

    def as_detail(self) -> list[dict[str, Any]]:
        return [{"row": r, "message": m_id, "message_en": m_en}
                for r, m_id, m_en in self.problems]


class RowProblem(DispatchValidationError):
    """One row's problem (collected into a :class:`RegistryFileError` by the file parsers)."""

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_id, self.message_en = message_id, message_en


@dataclass(frozen=True)
class UnitRow:
    """One unit of a fleet file (``row`` is its line or feature number)."""

    row: int
    kode_kab: str
    call_sign: str
    agency: str
    vehicle_type: str
    profile: str
    capabilities: tuple[str, ...] = ()
    home_post: str | None = None
    crew_size: int | None = None
    status: str = "available"
    device_id: str | None = None
    protocol: str | None = None


@dataclass(frozen=True)
class PostRow:
    """One post of a posts file; ``lon``/``lat`` in WGS 84 degrees."""

    row: int
    kode_kab: str
    agency: str
    name: str
    kind: str
    lon: float
    lat: float
    address: str = ""



def _text(value: Any, field: str, *, max_len: int, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RowProblem(f"kolom '{field}' wajib diisi", f"column '{field}' is required")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RowProblem(f"kolom '{field}' harus teks", f"column '{field}' must be text")
    text = str(value).strip()
    if len(text) > max_len:
        raise RowProblem(f"kolom '{field}' lebih dari {max_len} karakter",
                        f"column '{field}' is longer than {max_len} characters")
    if not _TEXT_RE.match(text):
        raise RowProblem(f"kolom '{field}' berisi karakter kendali",
                        f"column '{field}' holds control characters")
    return text


def _required(value: Any, field: str, max_len: int = 120) -> str:
    text = _text(value, field, max_len=max_len, required=True)
    assert text is not None
    return text


def _kode_kab(value: Any) -> str:
    text = _required(value, "kode_kab", 8)
    if not KODE_KAB_RE.match(text):
        raise RowProblem(f"kode_kab '{text}' bukan kode kabupaten/kota (contoh 51.06)",
                        f"kode_kab '{text}' is not a regency code (e.g. 51.06)")
    return text


def _code(value: Any, field: str) -> str:
    text = _required(value, field, 32)
    if not _CODE_RE.match(text):
        raise RowProblem(f"kolom '{field}' hanya boleh huruf, angka, _ . -",
                        f"column '{field}' may hold only letters, digits, _ . -")
    return text


def _choice(value: Any, field: str, allowed: Sequence[str], default: str | None) -> str | None:
    text = _text(value, field, max_len=32, required=False)
    if text is None:
        return default
    text = text.lower()
    if text not in allowed:
        options = ", ".join(allowed)
        raise RowProblem(f"kolom '{field}' = '{text}' tidak dikenal (pilihan: {options})",
                        f"column '{field}' = '{text}' is unknown (choices: {options})")
    return text


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise RowProblem(f"kolom '{field}' harus angka", f"column '{field}' must be a number") \
            from None
    if not math.isfinite(number):
        raise RowProblem(f"kolom '{field}' harus angka terhingga",
                        f"column '{field}' must be a finite number")
    return number


def _crew(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _number(value, "crew_size")
    if number != int(number) or not 0 <= number <= 99:
        raise RowProblem("crew_size harus bilangan bulat 0-99",
                        "crew_size must be a whole number 0-99")
    return int(number)


def _capabilities(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        items = value
    else:
        text = _text(value, "capabilities", max_len=1000, required=False) or ""
        items = re.split(r"[;|]", text)
    out: list[str] = []
    for item in items:
        cap = _text(item, "capabilities", max_len=48, required=False)
        if cap and cap not in out:
            out.append(cap)
    if len(out) > 20:
        raise RowProblem("paling banyak 20 kemampuan", "at most 20 capabilities")
    return tuple(out)


def _device(value: Any) -> str | None:
    text = _text(value, "device_id", max_len=128, required=False)
    if text is not None and not DEVICE_ID_RE.match(text):
        raise RowProblem("device_id tidak boleh berisi + # / : atau karakter kendali",
                        "device_id may not hold + # / : or control characters")
    return text


def check_point(lon: float, lat: float) -> None:
    """Raise a row problem unless (lon, lat) are WGS 84 degrees (lat -90..90, lon -180..180)."""
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
        raise RowProblem(f"koordinat lon={lon} lat={lat} di luar jangkauan (tertukar?)",
                        f"coordinates lon={lon} lat={lat} are out of range (swapped?)")


def unit_from_mapping(row: int, m: Mapping[str, Any]) -> UnitRow:
    """One unit from a CSV row or GeoJSON properties; raises ``RowProblem``."""
    return UnitRow(
        row=row, kode_kab=_kode_kab(m.get("kode_kab")),
        call_sign=_required(m.get("call_sign"), "call_sign", 48),
        agency=_code(m.get("agency"), "agency"),
        vehicle_type=_required(m.get("vehicle_type"), "vehicle_type", 48),
        profile=_code(m.get("profile"), "profile"),
        capabilities=_capabilities(m.get("capabilities")),
        home_post=_text(m.get("home_post"), "home_post", max_len=120, required=False),
        crew_size=_crew(m.get("crew_size")),
        status=_choice(m.get("status"), "status", IMPORT_STATUSES, "available") or "available",
        device_id=_device(m.get("device_id")),
        protocol=_choice(m.get("protocol"), "protocol", PROTOCOLS, None))


def post_from_mapping(row: int, m: Mapping[str, Any]) -> PostRow:
    """One post from a CSV row or GeoJSON properties (with ``lon``/``lat``)."""
    lon, lat = _number(m.get("lon"), "lon"), _number(m.get("lat"), "lat")
    check_point(lon, lat)
    return PostRow(row=row, kode_kab=_kode_kab(m.get("kode_kab")),
                   agency=_code(m.get("agency"), "agency"),
                   name=_required(m.get("name"), "name", 120),
                   kind=_choice(m.get("kind"), "kind", POST_KINDS, None) or "other",
                   lon=lon, lat=lat,
                   address=_text(m.get("address"), "address", max_len=300, required=False) or "")


