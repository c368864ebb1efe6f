"""Population figures of kabupaten, kecamatan and desa from a CSV file (pure: no database).

The file has the columns of the pilot data's ``population.csv``::

    level,kode,kode_bps,nama,penduduk,laki_laki,perempuan,tahun,sumber

``level`` is ``kabupaten``, ``kecamatan`` or ``desa``; ``kode`` the Kemendagri code of that level
(``51.06``, ``51.06.01``, ``51.06.01.2001``); ``penduduk`` a non-negative integer; ``tahun`` the
year of the figure. The whole file is checked before anything is used: the first bad row refuses
the file with its row number (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

__all__ = ["LEVELS", "PopulationFileError", "PopulationRow", "parse_population_csv"]

LEVELS = ("kabupaten", "kecamatan", "desa")
_CODE = {
    "kabupaten": re.compile(r"\d{2}\.\d{2}"),
    "kecamatan": re.compile(r"\d{2}\.\d{2}\.\d{2}"),
    "desa": re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}"),
}
_REQUIRED = ("level", "kode", "penduduk", "tahun")
#: Largest population accepted (above Indonesia's total: a typo, not a figure).
_MAX_PEOPLE = 400_000_000


class PopulationFileError(ValueError):
    """A population file that cannot be used; the message names the row and the reason."""


@dataclass(frozen=True)
class PopulationRow:
    level: str
    kode: str
    nama: str
    penduduk: int
    tahun: int
    sumber: str
    laki_laki: int | None = None
    perempuan: int | None = None

    @property
    def kode_kab(self) -> str:
        return self.kode[:5]


def _fail(row: int, problem: str) -> PopulationFileError:
    return PopulationFileError(f"baris {row}: {problem} / row {row}: {problem}")


def _count(raw: str | None, row: int, column: str, *, required: bool) -> int | None:
    text = (raw or "").strip()
    if not text:
        if required:
            raise _fail(row, f"kolom '{column}' kosong / column '{column}' is empty")
        return None
    if not text.isdigit() or int(text) > _MAX_PEOPLE:
        raise _fail(row, f"'{column}' bukan bilangan bulat 0..{_MAX_PEOPLE:,} / '{column}' is not "
                         f"an integer 0..{_MAX_PEOPLE:,}: {text[:40]!r}")
    return int(text)


def parse_population_csv(data: bytes) -> list[PopulationRow]:
    """Every row of a population CSV, or :class:`PopulationFileError` for the first bad one."""
    try:
        return _parse(data)
    except csv.Error as exc:
        raise PopulationFileError(f"CSV rusak / malformed CSV: {exc}") from None


def _parse(data: bytes) -> list[PopulationRow]:
    if b"\x00" in data:
        raise PopulationFileError("berkas berisi byte NUL / the file contains NUL bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PopulationFileError(
            f"berkas bukan UTF-8 (byte {exc.start}) / the file is not UTF-8 (byte {exc.start})"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise PopulationFileError(
            f"kolom wajib tidak ada: {', '.join(missing)} / required columns missing: "
            f"{', '.join(missing)}"
        )
    rows: list[PopulationRow] = []
    seen: dict[tuple[str, int], int] = {}
    for i, raw in enumerate(reader, start=2):
        if None in raw:
            raise _fail(i, "kolom lebih banyak dari judul / more fields than the header")
        level = (raw["level"] or "").strip().lower()
        if level not in LEVELS:
            raise _fail(i, f"level harus salah satu dari {', '.join(LEVELS)} / level must be one "
                           f"of {', '.join(LEVELS)}: {level[:40]!r}")
        kode = (raw["kode"] or "").strip()
        if not _CODE[level].fullmatch(kode):
            raise _fail(i, f"kode {level} tidak sah / invalid {level} code: {kode[:40]!r}")
        tahun = _count(raw["tahun"], i, "tahun", required=True)
        if not 1900 <= tahun <= 2200:
            raise _fail(i, f"tahun di luar 1900..2200 / year outside 1900..2200: {tahun}")
        key = (kode, tahun)
        if key in seen:
            raise _fail(i, f"{kode} tahun {tahun} sudah ada di baris {seen[key]} / {kode} year "
                           f"{tahun} already given on row {seen[key]}")
        seen[key] = i
        rows.append(PopulationRow(
            level=level, kode=kode, nama=(raw.get("nama") or "").strip()[:200],
            penduduk=_count(raw["penduduk"], i, "penduduk", required=True), tahun=tahun,
            sumber=(raw.get("sumber") or "").strip()[:500],
            laki_laki=_count(raw.get("laki_laki"), i, "laki_laki", required=False),
            perempuan=_count(raw.get("perempuan"), i, "perempuan", required=False),
        ))
    if not rows:
        raise PopulationFileError("berkas tidak berisi baris data / the file has no data rows")
    return rows
