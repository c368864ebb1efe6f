"""Choosing regencies from a boundary file that holds many (a national or provincial file).

A technician onboarding one kabupaten/kota downloads the national desa/kecamatan/kabupaten files
(BPS/OCHA COD-AB, with Kemendagri codes) and names the province (``51``) or the regencies
(``51.06``) to import. :func:`list_kabupaten` reads only the code and name columns (no geometry);
:func:`choose_kabupaten` checks the requested codes against them and says what the file holds when
they do not match. Each chosen regency is then read and validated on its own by
:func:`geo.regions.read_region` with ``only_kab``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from geo.exceptions import RegionImportError
from geo.regions import RegionData, read_region

_PROVINCE = re.compile(r"^\d{2}$")
_KAB = re.compile(r"^\d{2}\.\d{2}$")
#: How many codes an error message lists before "...".
_SHOWN = 12


@dataclass(frozen=True)
class KabupatenEntry:
    """One regency found in a boundary file: code, name and number of desa features."""

    kode_kab: str
    nama_kab: str
    desa_count: int


def _shown(codes: Iterable[str]) -> str:
    codes = sorted(codes)
    text = ", ".join(codes[:_SHOWN])
    return text + (f", ... ({len(codes)} in all)" if len(codes) > _SHOWN else "") or "(none)"


def list_kabupaten(desa_path: str | Path) -> dict[str, KabupatenEntry]:
    """The regencies of a desa file by code, read from its attribute table only.

    Raises
    ------
    RegionImportError
        The file is missing, unreadable or has no ``kode_kab`` column.
    """
    import pyogrio

    path = Path(desa_path)
    if not path.exists():
        raise RegionImportError(f"{path.name}: desa file not found ({path})")
    try:
        fields = [str(f) for f in pyogrio.read_info(path)["fields"]]
    except Exception as exc:  # noqa: BLE001 - any driver error is a bad file
        raise RegionImportError(f"{path.name}: cannot be read as a desa boundary file: {exc}"
                                ) from exc
    lower = {f.lower(): f for f in fields}
    if "kode_kab" not in lower:
        raise RegionImportError(
            f"{path.name}: missing column kode_kab (found: {', '.join(fields) or 'none'})")
    columns = [lower["kode_kab"]] + ([lower["nama_kab"]] if "nama_kab" in lower else [])
    try:
        table = pyogrio.read_dataframe(path, columns=columns, read_geometry=False)
    except Exception as exc:  # noqa: BLE001
        raise RegionImportError(f"{path.name}: cannot be read: {exc}") from exc
    out: dict[str, list] = {}
    names = table[columns[1]] if len(columns) > 1 else [None] * len(table)
    for code, name in zip(table[columns[0]], names, strict=True):
        key = str(code).strip() if code is not None else ""
        entry = out.setdefault(key, [str(name).strip() if name else key, 0])
        entry[1] += 1
    return {k: KabupatenEntry(k, v[0], v[1]) for k, v in out.items()}


def choose_kabupaten(
    available: Mapping[str, KabupatenEntry],
    *,
    province: str | None = None,
    kabupaten: Iterable[str] = (),
    file_name: str = "desa file",
) -> list[str]:
    """The regency codes to import from a file holding ``available``.

    Parameters
    ----------
    province : str, optional
        Two-digit province code (``51`` = Bali): every regency of it.
    kabupaten : codes, optional
        Regency codes ``NN.NN``; with ``province`` they must belong to it.

    With neither, a file of exactly one regency yields that regency; a file of several is refused
    (importing a whole country by accident would take hours and mix tenants).

    Raises
    ------
    RegionImportError
        Malformed codes, codes absent from the file, a regency outside the province, or no
        filter for a file of several regencies. Messages are bilingual and list what the file
        holds.
    """
    wanted = [k.strip() for k in kabupaten]
    if province is not None:
        province = province.strip()
        if not _PROVINCE.match(province):
            raise RegionImportError(
                f"kode provinsi {province!r} tidak valid (contoh 51) / invalid province code "
                f"{province!r} (two digits, e.g. 51 for Bali)")
    bad = [k for k in wanted if not _KAB.match(k)]
    if bad:
        raise RegionImportError(
            f"kode kabupaten/kota {', '.join(map(repr, bad))} tidak valid (contoh 51.06) / "
            f"invalid regency code(s) {', '.join(map(repr, bad))} (NN.NN, e.g. 51.06)")
    if province is not None:
        outside = [k for k in wanted if not k.startswith(province + ".")]
        if outside:
            raise RegionImportError(
                f"{', '.join(outside)} bukan bagian dari provinsi {province} / "
                f"not in province {province}")
    if wanted:
        missing = [k for k in wanted if k not in available]
        if missing:
            near = [k for k in available if k[:2] in {m[:2] for m in missing}] or list(available)
            raise RegionImportError(
                f"{file_name}: kabupaten/kota {', '.join(missing)} tidak ada dalam berkas / "
                f"not in the file; it holds {_shown(near)}")
        return sorted(set(wanted))
    if province is not None:
        chosen = sorted(k for k in available if k.startswith(province + "."))
        if not chosen:
            provinces = {k[:2] for k in available}
            raise RegionImportError(
                f"{file_name}: provinsi {province} tidak ada dalam berkas / province {province} "
                f"is not in the file; it holds provinces {_shown(provinces)}")
        return chosen
    if len(available) == 1:
        return list(available)
    raise RegionImportError(
        f"{file_name} berisi {len(available)} kabupaten/kota: pilih dengan --province atau "
        f"--kabupaten / holds {len(available)} regencies: choose with --province or --kabupaten "
        f"({_shown(available)})")


def read_chosen(
    desa_path: str | Path,
    *,
    kecamatan_path: str | Path | None = None,
    kabupaten_path: str | Path | None = None,
    province: str | None = None,
    kabupaten: Iterable[str] = (),
) -> list[RegionData]:
    """Read and validate every chosen regency of the files (all of them before any write).

    A file of one regency read without a filter is read whole, as :func:`read_region` does.

    Raises
    ------
    RegionImportError
        See :func:`choose_kabupaten` and :func:`geo.regions.read_region`; the message names the
        regency it is about.
    """
    kabupaten = list(kabupaten)
    available = list_kabupaten(desa_path)
    chosen = choose_kabupaten(available, province=province, kabupaten=kabupaten,
                              file_name=Path(desa_path).name)
    filtered = province is not None or bool(kabupaten) or len(available) > 1
    out = []
    for code in chosen:
        try:
            out.append(read_region(desa_path, kecamatan_path=kecamatan_path,
                                   kabupaten_path=kabupaten_path,
                                   only_kab=code if filtered else None))
        except RegionImportError as exc:
            raise RegionImportError(f"kabupaten/kota {code}: {exc}") from exc
    return out
