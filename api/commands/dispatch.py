"""``siaga dispatch``: not implemented yet."""

from __future__ import annotations

app = None
