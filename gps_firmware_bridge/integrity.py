"""Frames kept despite a wrong CRC or length field, and how to report them once per device.

Traccar does not verify the GT06 or Teltonika CRC: cheap GT06 clones compute it wrongly, and TCP
already protects the bytes in transit. The bridge decodes such frames too, but never silently:
each one carries a note in ``DecodeResult.notes`` (reason :data:`CRC_MISMATCH` or
:data:`LENGTH_MISMATCH`). A server keeps one :class:`IntegrityWatch` and logs what
:meth:`IntegrityWatch.observe` returns: one line the first time a device sends such a frame, then
only counts (:attr:`IntegrityWatch.counts`), so an operator can find a device with a broken CRC
without a log line per frame. ``strict_crc`` on a session refuses these frames instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from gps_firmware_bridge.fix import DecodeResult, Rejection

CRC_MISMATCH = "crc_mismatch"
LENGTH_MISMATCH = "length_mismatch"
INTEGRITY_NOTES = frozenset({CRC_MISMATCH, LENGTH_MISMATCH})


class IntegrityWatch:
    """Per-device counts of frames decoded despite a CRC or length mismatch.

    Attributes
    ----------
    counts : dict
        ``(device_id, reason) -> number of frames`` since the watch was created; ``device_id``
        is ``"?"`` for a frame sent before the device identified itself.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def observe(self, results: Iterable[DecodeResult], peer: str = "") -> list[str]:
        """Count the integrity notes of ``results``; return the lines to log.

        A line is returned only for the first note of each (device, reason) pair, so a device
        with a broken CRC is reported once, not once per frame.
        """
        lines: list[str] = []
        for result in results:
            for note in result.notes:
                if note.reason not in INTEGRITY_NOTES:
                    continue
                key = (note.device_id or result.device_id or "?", note.reason)
                seen = self.counts.get(key, 0)
                self.counts[key] = seen + 1
                if seen == 0:
                    lines.append(
                        f"{peer} device {key[0]}: {note.reason} ({note.detail}); frame decoded "
                        "as Traccar does, further ones are only counted (strict_crc refuses them)"
                    )
        return lines


def with_notes(result: DecodeResult, notes: tuple[Rejection, ...]) -> DecodeResult:
    """``result`` with the integrity ``notes`` added, unless the frame was refused anyway (a
    rejection and nothing decoded or answered): then its own rejection says enough."""
    refused = bool(result.rejections) and not (result.fixes or result.reply or result.extra)
    if not notes or refused:
        return result
    return replace(result, notes=result.notes + notes)
