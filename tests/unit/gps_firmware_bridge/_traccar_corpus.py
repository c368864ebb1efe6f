"""Run the frames of Traccar's decoder tests (tests/vectors/bridge/traccar_frames.json) through
the bridge decoders and count what they produce.

Run alone for the figures: ``python -m tests.unit.gps_firmware_bridge._traccar_corpus``.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gps_firmware_bridge import gt06, osmand, teltonika
from gps_firmware_bridge.crc import crc16_ibm, crc16_x25
from gps_firmware_bridge.fix import DecodeResult, Fix, Rejection
from gps_firmware_bridge.plausibility import PlausibilityLimits
from gps_firmware_bridge.tracker_status import (
    CommandResponse,
    NoFix,
    no_fix_records,
    responses,
)

from ._vectors import BRIDGE_VECTORS

CORPUS = BRIDGE_VECTORS / "traccar_frames.json"
NOW = datetime(2027, 1, 1, tzinfo=UTC)
LIMITS = PlausibilityLimits(max_future_s=300.0, max_age_s=40 * 365 * 86400.0)
"""Traccar's frames are years old: accept any fix time up to 40 years before ``NOW``."""
DEVICE = "356307042441013"


@dataclass
class Outcome:
    """What the bridge made of one frame of the corpus."""

    fixes: list[Fix] = field(default_factory=list)
    no_fix: list[NoFix] = field(default_factory=list)
    answers: list[CommandResponse] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[Rejection] = field(default_factory=list)
    reply: bytes = b""
    error: str | None = None
    ignition: bool | None = None
    battery_pct: float | None = None


def load() -> list[dict[str, Any]]:
    return json.loads(CORPUS.read_text())["frames"]


def _collect(results: list[DecodeResult]) -> Outcome:
    out = Outcome()
    for r in results:
        out.fixes.extend(r.fixes)
        out.no_fix.extend(no_fix_records(r.extra))
        out.answers.extend(responses(r.extra))
        out.rejections.extend(r.rejections)
        out.notes.extend(r.notes)
        out.reply += r.reply
    return out


def run(frame: dict[str, Any], strict_crc: bool = False) -> Outcome:
    """Decode one corpus frame; an exception is caught and reported in ``error``.

    ``strict_crc`` is passed to the session: frames failing their CRC or length field are then
    refused instead of decoded with a note.
    """
    try:
        if frame["protocol"] == "gt06":
            session = gt06.Gt06Session(
                device_id=DEVICE, model=frame.get("model"), strict_crc=strict_crc
            )
            results, _ = gt06.decode_stream(session, bytes.fromhex(frame["hex"]), NOW, LIMITS)
            out = _collect(results)
            out.ignition, out.battery_pct = session.ignition, session.battery_pct
            return out
        if frame["protocol"] == "teltonika":
            data = bytes.fromhex(frame["hex"])
            tsession = teltonika.TeltonikaSession(
                device_id=None if data[:2] != b"\x00\x00" else DEVICE, strict_crc=strict_crc
            )
            tresults, _, _ = teltonika.decode_stream(tsession, data, NOW, LIMITS)
            return _collect(tresults)
        body = frame.get("body", "").encode()
        result = osmand.decode_request(
            frame["method"],
            frame["target"],
            body,
            frame.get("content_type", ""),
            NOW,
            "kn",
            LIMITS,
        )
        return _collect([result])
    except Exception:  # noqa: BLE001 - the count of crashes is what is measured
        return Outcome(error=traceback.format_exc(limit=3))


def is_corrupt(frame: dict[str, Any]) -> bool:
    """True when a binary frame fails its own integrity check (CRC or length field).

    Computed from the bytes alone, independently of the decoders: Traccar never verifies these
    checksums, so a few of its test frames were edited by hand without updating them.
    """
    data = bytes.fromhex(frame.get("hex", ""))
    if frame["protocol"] == "gt06":
        if data[:2] not in (b"\x78\x78", b"\x79\x79") or len(data) < 10:
            return False
        head = 3 if data[:2] == b"\x78\x78" else 4
        if head == 3 and data[3] in (0x17, 0x69) and data[2] != 0x28:
            return False  # Wi-Fi packets without length or CRC
        declared = int.from_bytes(data[2:head])
        if head + declared + 2 != len(data):
            return len(data) > head + declared + 2 or data[1] == 0x78
        return crc16_x25(data[2:-4]) != int.from_bytes(data[-4:-2])
    if frame["protocol"] == "teltonika" and data[:4] == bytes(4) and len(data) >= 12:
        declared = int.from_bytes(data[4:8])
        if declared + 12 != len(data):
            return True
        return crc16_ibm(data[8:-4]) != int.from_bytes(data[-4:])
    return False


def _plausible(fix: Fix) -> bool:
    """Traccar's ``verifyPosition`` checks: coordinates in range, a time after 2000 and not
    in the future, speed and course in range."""
    return (
        -90.0 <= fix.lat <= 90.0
        and -180.0 <= fix.lon <= 180.0
        and datetime(2000, 1, 1, tzinfo=UTC) <= fix.fix_time <= NOW
        and (fix.speed_mps is None or 0.0 <= fix.speed_mps <= 415 * 0.514444)
        and (fix.heading_deg is None or 0.0 <= fix.heading_deg <= 360.0)
    )


def _matches_position(fix: Fix, expected: dict[str, Any]) -> bool:
    when = datetime.fromisoformat(expected["fix_time"].replace("Z", "+00:00"))
    return (
        fix.fix_time == when
        and abs(fix.lat - expected["lat"]) < 1e-5
        and abs(fix.lon - expected["lon"]) < 1e-5
    )


MAPPED_ATTRIBUTES = {"ignition": "ignition", "batteryLevel": "battery_pct"}
"""Traccar attribute keys the bridge carries, and the :class:`Outcome` field holding each."""


@dataclass
class Counts:
    """The measurement over the whole corpus."""

    frames: int = 0
    exceptions: int = 0
    position_frames: int = 0
    invalid_gps: int = 0
    invalid_gps_no_fix: int = 0
    carrying_gps: int = 0
    corrupt: int = 0
    corrupt_fix_ok: int = 0
    fix_ok: int = 0
    misses: list[str] = field(default_factory=list)
    cells_only: int = 0
    cells_only_no_fix: int = 0
    attributes_mapped: int = 0
    attributes_matched: int = 0
    attributes_unmapped: int = 0

    @property
    def fix_ratio(self) -> float:
        """Fixes matching Traccar's checks over every GPS-carrying position frame, those failing
        their own CRC or length field included."""
        return self.fix_ok / max(self.carrying_gps, 1)

    @property
    def well_formed_fix_ratio(self) -> float:
        """The same over the GPS-carrying position frames whose CRC and length are right."""
        return (self.fix_ok - self.corrupt_fix_ok) / max(self.carrying_gps - self.corrupt, 1)

    def report(self) -> str:
        return "\n".join(
            [
                f"frames: {self.frames}, answered without exception: "
                f"{self.frames - self.exceptions}",
                f"position frames: {self.position_frames} "
                f"(GPS flagged invalid / 0 satellites: {self.invalid_gps}, "
                f"of which typed no-fix records: {self.invalid_gps_no_fix})",
                f"carrying a GPS fix: {self.carrying_gps}; decoded to a fix matching Traccar's "
                f"checks: {self.fix_ok}",
                f"of which failing their own CRC/length: {self.corrupt}, decoded with a note: "
                f"{self.corrupt_fix_ok}",
                f"fix ratio: {self.fix_ratio:.1%} of all, "
                f"{self.well_formed_fix_ratio:.1%} of well-formed frames",
                f"cell/Wi-Fi-only frames: {self.cells_only}, typed no-fix records: "
                f"{self.cells_only_no_fix}",
                f"asserted attributes: {self.attributes_mapped} carried by the bridge, "
                f"{self.attributes_matched} equal; {self.attributes_unmapped} not carried",
                f"misses: {', '.join(self.misses) or 'none'}",
            ]
        )


def _is_position_frame(frame: dict[str, Any]) -> bool:
    call = frame["traccar"]
    return call == "verifyPosition" or (
        call == "verifyPositions" and frame.get("check_location", True)
    )


def measure(frames: list[dict[str, Any]]) -> Counts:
    """Run every frame and count (see :class:`Counts`)."""
    c = Counts()
    for frame in frames:
        name = f"{frame['protocol']}#{frame['index']}"
        out = run(frame)
        c.frames += 1
        if out.error is not None:
            c.exceptions += 1
            c.misses.append(f"{name} raised")
            continue
        if frame.get("cells_only"):
            c.cells_only += 1
            c.cells_only_no_fix += bool(out.no_fix) and not out.fixes
        attribute = frame.get("attribute")
        if attribute is not None:
            if attribute["key"] in MAPPED_ATTRIBUTES:
                c.attributes_mapped += 1
                got = getattr(out, MAPPED_ATTRIBUTES[attribute["key"]])
                if got == attribute["value"]:
                    c.attributes_matched += 1
                else:
                    c.misses.append(f"{name} {attribute['key']}={got!r}")
            else:
                c.attributes_unmapped += 1
        if not _is_position_frame(frame):
            continue
        c.position_frames += 1
        if frame.get("gps_valid") is False:
            c.invalid_gps += 1
            c.invalid_gps_no_fix += bool(out.no_fix)
            continue
        c.carrying_gps += 1
        corrupt = is_corrupt(frame)
        c.corrupt += corrupt
        ok = bool(out.fixes) and all(_plausible(f) for f in out.fixes)
        if ok and "position" in frame:
            ok = _matches_position(out.fixes[0], frame["position"])
        c.fix_ok += ok
        c.corrupt_fix_ok += ok and corrupt
        if not ok:
            c.misses.append(f"{name} no matching fix" + (" (fails its CRC/length)" * corrupt))
    return c


if __name__ == "__main__":
    print(measure(load()).report())
