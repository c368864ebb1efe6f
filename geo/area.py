"""Administrative areas as plain values (pure): what the geocoder and the name search index.

Codes are Kemendagri (``NN.NN.NN.NNNN`` for a desa/kelurahan); BPS codes and names when known.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["AdminArea", "KecamatanInfo"]


@dataclass(frozen=True)
class AdminArea:
    """One desa/kelurahan with its parents (Kemendagri codes ``NN.NN.NN.NNNN``; BPS when known)."""

    kode_desa: str
    nama_desa: str
    jenis: str
    kode_kec: str
    nama_kec: str
    kode_kab: str
    nama_kab: str
    kode_prov: str | None
    nama_prov: str | None
    kode_bps: str | None
    nama_bps: str | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class KecamatanInfo:
    """One kecamatan with its regency (names for forward search)."""

    kode_kec: str
    nama_kec: str
    kode_kab: str
    nama_kab: str
    kode_bps_kec: str | None = None
    nama_bps_kec: str | None = None
