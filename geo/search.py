"""Forward geocoding: fuzzy search of desa/kelurahan and kecamatan names (pure).

Names are normalised before comparison (:func:`normalize_name`): case, accents, punctuation and
**all spaces** are removed, as is one leading administrative prefix ("desa", "kel.", "kelurahan",
"kec.", "kecamatan", "kab." ...; not "kota", which starts names such as Kotagede or Kotabaru).
So "Bayung Cerik" and "Bayungcerik", or "Gedong Tengen" and "Gedongtengen", normalise
to the same key. Each place is indexed under every spelling it has
(Kemendagri and BPS). The score (0..1) of a place is the best over its spellings of

* ``1.0`` for an identical key,
* rapidfuzz ``ratio`` (normalised Indel similarity) for typos ("Kotagde" → "Kotagede"),
* ``0.9 × partial_ratio`` when the query has at least 4 characters (prefixes, "Bayung" →
  "Bayung Cerik").

Candidates below ``min_score`` (default 0.6) are dropped; ties are ordered desa before kecamatan,
then by code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz
from shapely.geometry.base import BaseGeometry

from geo.area import AdminArea, KecamatanInfo
from geo.types import LonLat

_PREFIX = re.compile(
    r"^\s*(desa|ds|kelurahan|kel|kecamatan|kec|kabupaten|kab|distrik|nagari|gampong)"
    r"(\.|\s)+",
    re.IGNORECASE,
)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

DEFAULT_MIN_SCORE = 0.6


def normalize_name(text: str) -> str:
    """Comparison key of a place name: lower case ASCII letters/digits only, no prefixes.

    Examples
    --------
    >>> normalize_name("Kel. Gedong Tengen")
    'gedongtengen'
    >>> normalize_name("DESA Bayung-Cerik")
    'bayungcerik'
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = _PREFIX.sub("", folded, count=1)
    return _NON_ALNUM.sub("", folded.lower())


@dataclass(frozen=True)
class SearchCandidate:
    """One forward-search hit; ``point`` is a representative point inside the polygon (WGS 84)."""

    level: Literal["desa", "kecamatan"]
    kode: str
    nama: str
    kode_kec: str
    nama_kec: str
    kode_kab: str
    nama_kab: str
    score: float
    point: LonLat
    #: desa/kelurahan for desa hits, "kecamatan" otherwise.
    jenis: str = ""
    #: The spelling that matched best (Kemendagri or BPS).
    matched_name: str = ""
    kode_bps: str | None = None
    nama_bps: str | None = None

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "kode": self.kode,
            "nama": self.nama,
            "jenis": self.jenis,
            "kode_bps": self.kode_bps,
            "nama_bps": self.nama_bps,
            "kode_kec": self.kode_kec,
            "nama_kec": self.nama_kec,
            "kode_kab": self.kode_kab,
            "nama_kab": self.nama_kab,
            "score": self.score,
            "matched_name": self.matched_name,
            "lon": self.point.lon,
            "lat": self.point.lat,
        }


@dataclass(frozen=True)
class _Entry:
    candidate: SearchCandidate  # score unused (0)
    spellings: tuple[tuple[str, str], ...]  # (display spelling, normalised key)
    rank: int  # 0 desa, 1 kecamatan


def _rep_point(geom: BaseGeometry) -> LonLat:
    p = geom.representative_point()
    return LonLat(float(p.x), float(p.y))


def _spellings(*names: str | None) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for name in names:
        if name:
            key = normalize_name(name)
            if key and key not in seen:
                seen[key] = name
    return tuple((name, key) for key, name in seen.items())


class NameIndex:
    """Searchable list of desa and kecamatan names (a few thousand entries at most per region)."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self._entries = tuple(entries)

    @classmethod
    def build(
        cls,
        desa: Sequence[tuple[AdminArea, BaseGeometry]],
        kecamatan: Sequence[tuple[KecamatanInfo, BaseGeometry]],
    ) -> NameIndex:
        entries: list[_Entry] = []
        for area, geom in desa:
            cand = SearchCandidate(
                level="desa", kode=area.kode_desa, nama=area.nama_desa, kode_kec=area.kode_kec,
                nama_kec=area.nama_kec, kode_kab=area.kode_kab, nama_kab=area.nama_kab, score=0.0,
                point=_rep_point(geom), jenis=area.jenis, kode_bps=area.kode_bps,
                nama_bps=area.nama_bps,
            )
            entries.append(_Entry(cand, _spellings(area.nama_desa, area.nama_bps), 0))
        for info, geom in kecamatan:
            cand = SearchCandidate(
                level="kecamatan", kode=info.kode_kec, nama=info.nama_kec, kode_kec=info.kode_kec,
                nama_kec=info.nama_kec, kode_kab=info.kode_kab, nama_kab=info.nama_kab, score=0.0,
                point=_rep_point(geom), jenis="kecamatan", kode_bps=info.kode_bps_kec,
                nama_bps=info.nama_bps_kec,
            )
            entries.append(_Entry(cand, _spellings(info.nama_kec, info.nama_bps_kec), 1))
        return cls(entries)

    def search(
        self,
        q: str,
        *,
        kode_kab: str | None = None,
        kode_kec: str | None = None,
        limit: int = 10,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> list[SearchCandidate]:
        """Ranked candidates for ``q`` (best first), optionally within one kabupaten/kecamatan.

        Raises
        ------
        ValueError
            Empty query (nothing left after normalisation) or ``limit < 1``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        key = normalize_name(q or "")
        if not key:
            raise ValueError(f"query {q!r} contains no letters or digits")
        scored: list[tuple[float, int, str, SearchCandidate]] = []
        for entry in self._entries:
            cand = entry.candidate
            if kode_kab is not None and cand.kode_kab != kode_kab:
                continue
            if kode_kec is not None and cand.kode_kec != kode_kec:
                continue
            best, best_name = 0.0, cand.nama
            for name, nkey in entry.spellings:
                score = _score(key, nkey)
                if score > best:
                    best, best_name = score, name
            if best >= min_score:
                hit = _with_score(cand, round(best, 4), best_name)
                scored.append((-best, entry.rank, cand.kode, hit))
        scored.sort(key=lambda t: (t[0], t[1], t[2]))
        return [hit for *_, hit in scored[:limit]]


def _score(query_key: str, name_key: str) -> float:
    if query_key == name_key:
        return 1.0
    score = fuzz.ratio(query_key, name_key) / 100.0
    if len(query_key) >= 4:
        score = max(score, 0.9 * fuzz.partial_ratio(query_key, name_key) / 100.0)
    return min(score, 0.999)


def _with_score(cand: SearchCandidate, score: float, matched: str) -> SearchCandidate:
    from dataclasses import replace

    return replace(cand, score=score, matched_name=matched)
