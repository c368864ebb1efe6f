"""Masking of caller phone numbers for lists and exports (pure)."""

from __future__ import annotations


def mask_phone(phone: str | None, *, keep_start: int = 4, keep_end: int = 3) -> str | None:
    """``081234567890`` → ``0812*****890``: digits between the first ``keep_start`` and the last
    ``keep_end`` become ``*``. Short numbers are masked except for the last digit."""
    if phone is None:
        return None
    s = phone.strip()
    if len(s) <= keep_start + keep_end:
        return "*" * max(0, len(s) - 1) + s[-1:] if s else s
    return s[:keep_start] + "*" * (len(s) - keep_start - keep_end) + s[-keep_end:]
