"""Local time zones of Indonesian provinces (WIB / WITA / WIT) by Kemendagri province code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalZone:
    """An Indonesian time zone: label shown to users, IANA name, UTC offset in hours."""

    label: str
    iana: str
    utc_offset_h: int


WIB = LocalZone("WIB", "Asia/Jakarta", 7)
WITA = LocalZone("WITA", "Asia/Makassar", 8)
WIT = LocalZone("WIT", "Asia/Jayapura", 9)

#: Province codes (first two digits of a Kemendagri code) outside WIB.
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}


def zone_for_code(kode: str) -> LocalZone:
    """Zone of a region from any Kemendagri code (``34.71``, ``51.06.01.2001``, ``64``).

    Bali (51), Nusa Tenggara, South/East/North Kalimantan and Sulawesi are WITA; Maluku and Papua
    are WIT; Sumatra, Java, West and Central Kalimantan are WIB.
    """
    prov = kode.strip()[:2]
    if len(prov) != 2 or not prov.isdigit():
        raise ValueError(f"not a Kemendagri region code: {kode!r}")
    if prov in _WITA:
        return WITA
    if prov in _WIT:
        return WIT
    return WIB


def zone_table() -> dict[str, dict[str, object]]:
    """Province code prefix → zone, for the browser (``{"51": {"label": "WITA", ...}}``)."""
    table: dict[str, dict[str, object]] = {}
    for prov in sorted(_WITA | _WIT):
        z = zone_for_code(prov)
        table[prov] = {"label": z.label, "iana": z.iana, "utc_offset_h": z.utc_offset_h}
    return table
