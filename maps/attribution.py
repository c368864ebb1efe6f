"""The attribution shown on every map (data licences require it)."""

from __future__ import annotations

import html
from collections.abc import Sequence

#: Short form for the map corner; the full text is at ``/api/v1/attribution``.
MAP_ATTRIBUTION = (
    "Batas: BPS/OCHA COD-AB (CC BY-IGO) · Kode wilayah: Kemendagri · "
    "Jalan: © OpenStreetMap contributors (ODbL)"
)


def attribution_html(lines: Sequence[str] | None = None) -> str:
    """HTML-escaped attribution (``lines`` joined, or :data:`MAP_ATTRIBUTION`)."""
    if not lines:
        return html.escape(MAP_ATTRIBUTION)
    return " | ".join(html.escape(line) for line in lines)
