"""NMEA 0183 sentences (RMC, GGA, VTG, GSA) merged into fixes, parsed with pynmea2.

Receivers print one burst of sentences per epoch (for example GGA, GSA, RMC, VTG every second).
:class:`NmeaAssembler` groups sentences by their UTC time-of-day: a time-stamped sentence with a
new time closes the previous epoch, which becomes a fix when it is valid (RMC status ``A`` and/or
GGA quality > 0; an explicit ``V`` or quality ``0`` makes the epoch a ``no_fix`` rejection).
GSA (HDOP) and VTG (speed, course) carry no time and join the open epoch.

The date comes from RMC; an epoch without RMC uses the last RMC date, advanced by one day when
the time of day goes backwards (midnight rollover). Checksums are required and verified.

:meth:`NmeaAssembler.flush` closes the open epoch early (end of input, or the source fell silent:
see :mod:`gps_firmware_bridge.nmeasource`). A time-stamped sentence that arrives after such a flush
with the time of the epoch just closed is a straggler of it and is rejected (``late_sentence``)
instead of producing a second fix for the same time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pynmea2

from gps_firmware_bridge.fix import KMH_MPS, KNOT_MPS, Fix, Rejection
from gps_firmware_bridge.plausibility import DEFAULT_LIMITS, PlausibilityLimits, check_fix

SOURCE = "nmea"
UERE_M = 5.0
"""User equivalent range error used to turn HDOP into an accuracy estimate (accuracy_m = hdop*5)."""


@dataclass
class _Epoch:
    tod: time
    date_: date | None = None
    valid: bool | None = None
    lat: float | None = None
    lon: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    hdop: float | None = None
    satellites: int | None = None
    has_rmc: bool = False


def _float(value: object) -> float | None:
    """A finite float, or ``None`` for an empty, unreadable, NaN or infinite field."""
    try:
        number = float(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


@dataclass
class NmeaAssembler:
    """Stateful NMEA reader for one receiver (one device id).

    Parameters
    ----------
    device_id : str
        Id published for the fixes of this receiver.
    limits : PlausibilityLimits
        Plausibility bounds applied to every fix.
    """

    device_id: str
    limits: PlausibilityLimits = DEFAULT_LIMITS
    _epoch: _Epoch | None = None
    _last_date: date | None = None
    _last_tod: time | None = None
    _pending_hdop: float | None = field(default=None)
    _flushed_tod: time | None = None

    def feed(self, line: str, now: datetime) -> list[Fix | Rejection]:
        """Consume one line; returns the fixes/rejections of epochs it closed (often empty)."""
        text = line.strip()
        if not text:
            return []
        try:
            msg = pynmea2.parse(text, check=True)
        except pynmea2.ChecksumError:
            return [Rejection("bad_checksum", text[:80], self.device_id)]
        except (pynmea2.ParseError, ValueError, AttributeError) as exc:
            return [Rejection("unparseable", f"{exc}"[:120], self.device_id)]
        kind = getattr(msg, "sentence_type", "")
        out: list[Fix | Rejection] = []
        if kind in ("RMC", "GGA"):
            tod = getattr(msg, "timestamp", None)
            if not isinstance(tod, time):
                return [Rejection("unparseable", f"{kind} without time", self.device_id)]
            if self._epoch is None and tod == self._flushed_tod:
                return [Rejection("late_sentence", f"{kind} {tod.isoformat()}", self.device_id)]
            if self._epoch is not None and self._epoch.tod != tod:
                out.extend(self._close(now))
            if self._epoch is None:
                self._epoch = _Epoch(tod=tod)
            try:
                self._apply(self._epoch, msg, kind)
            except (ValueError, TypeError, AttributeError, OverflowError) as exc:
                out.append(Rejection("unparseable", f"{kind}: {exc}"[:120], self.device_id))
        elif kind in ("GSA", "VTG") and self._epoch is not None:
            if kind == "GSA":
                self._epoch.hdop = _float(getattr(msg, "hdop", None))
            else:
                kmh = _float(getattr(msg, "spd_over_grnd_kmph", None))
                if kmh is not None and self._epoch.speed_mps is None:
                    self._epoch.speed_mps = kmh * KMH_MPS
                track = _float(getattr(msg, "true_track", None))
                if track is not None and self._epoch.heading_deg is None:
                    self._epoch.heading_deg = track
        return out

    def flush(self, now: datetime) -> list[Fix | Rejection]:
        """Close the open epoch (end of file or stream, or the source is idle)."""
        if self._epoch is not None:
            self._flushed_tod = self._epoch.tod
        return self._close(now)

    def _apply(self, ep: _Epoch, msg: pynmea2.NMEASentence, kind: str) -> None:
        if kind == "RMC":
            ep.has_rmc = True
            status_ok = getattr(msg, "status", "") == "A"
            ep.valid = status_ok if ep.valid is None else (ep.valid and status_ok)
            if isinstance(getattr(msg, "datestamp", None), date):
                ep.date_ = msg.datestamp
            if status_ok:
                ep.lat, ep.lon = float(msg.latitude), float(msg.longitude)
                knots = _float(msg.spd_over_grnd)
                ep.speed_mps = knots * KNOT_MPS if knots is not None else ep.speed_mps
                ep.heading_deg = _float(msg.true_course)
        else:
            quality = int(msg.gps_qual or 0)
            ep.valid = (quality > 0) if ep.valid is None else (ep.valid and quality > 0)
            if quality > 0:
                if ep.lat is None:
                    ep.lat, ep.lon = float(msg.latitude), float(msg.longitude)
                ep.altitude_m = _float(msg.altitude)
                sats = _float(msg.num_sats)
                ep.satellites = int(sats) if sats is not None and 0 <= sats <= 255 else None
                ep.hdop = _float(msg.horizontal_dil) if ep.hdop is None else ep.hdop

    def _close(self, now: datetime) -> list[Fix | Rejection]:
        ep, self._epoch = self._epoch, None
        if ep is None:
            return []
        day = ep.date_
        if day is None and self._last_date is not None and self._last_tod is not None:
            day = (
                self._last_date + timedelta(days=1) if ep.tod < self._last_tod else self._last_date
            )
        if day is not None:
            self._last_date, self._last_tod = day, ep.tod
        if ep.valid is not True or ep.lat is None or ep.lon is None:
            return [
                Rejection("no_fix", f"epoch {ep.tod.isoformat()} has no valid fix", self.device_id)
            ]
        if day is None:
            return [Rejection("no_date", "no RMC date seen yet", self.device_id)]
        when = datetime.combine(day, ep.tod.replace(tzinfo=None), tzinfo=UTC)
        fix = Fix(
            device_id=self.device_id,
            fix_time=when,
            lat=ep.lat,
            lon=ep.lon,
            speed_mps=ep.speed_mps,
            heading_deg=ep.heading_deg,
            altitude_m=ep.altitude_m,
            hdop=ep.hdop,
            accuracy_m=ep.hdop * UERE_M if ep.hdop is not None else None,
            satellites=ep.satellites,
            source=SOURCE,
        )
        rejection = check_fix(fix, now, self.limits)
        return [fix] if rejection is None else [rejection]


def decode_lines(
    device_id: str, lines: list[str], now: datetime, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> list[Fix | Rejection]:
    """Decode a whole list of lines (a file) into fixes and rejections, in order."""
    asm = NmeaAssembler(device_id, limits)
    out: list[Fix | Rejection] = []
    for line in lines:
        out.extend(asm.feed(line, now))
    out.extend(asm.flush(now))
    return out
