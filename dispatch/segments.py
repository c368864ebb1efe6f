"""The standard time segments of one response (pure; no I/O).

Names follow NFPA 1710 (and its 90th-percentile reporting); the averages are the SPM's
(Permendagri 114/2018 counts fire response time from receipt of the information to arrival):

=================  =====================================================  ======================
segment            from → to                                              NFPA 1710 name
=================  =====================================================  ======================
call_processing    report received → agency notified (or unit dispatched)  alarm processing time
turnout            unit dispatched → unit departed                          turnout time
travel             unit departed → unit arrived on scene                    travel time
total_response     report received → unit arrived on scene                  total response time
=================  =====================================================  ======================

Every segment is in seconds. A segment is ``None`` when one of its two events is missing or when
the events are out of order (a manual entry before the event it follows): such a value would
poison the means, so it is left out and counted in :attr:`Segments.inconsistent`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from dispatch.sla import percentile_nearest_rank

CALL_PROCESSING, TURNOUT, TRAVEL, TOTAL_RESPONSE = (
    "call_processing", "turnout", "travel", "total_response")
#: The segments in the order of the response.
SEGMENTS: tuple[str, ...] = (CALL_PROCESSING, TURNOUT, TRAVEL, TOTAL_RESPONSE)


@dataclass(frozen=True)
class Timeline:
    """The events of one assignment (or one agency record), aware UTC datetimes.

    ``notified_at`` is the moment the agency was notified (``None`` for a bare assignment: the
    call-processing segment then ends when the unit was dispatched). ``arrival_source`` is
    ``gps`` when the arrival was verified from the unit's tracker, ``manual`` otherwise.
    """

    received_at: datetime
    notified_at: datetime | None = None
    dispatched_at: datetime | None = None
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    arrival_source: str | None = None


@dataclass(frozen=True)
class Segments:
    """The four segments in seconds (``None`` when not measurable)."""

    call_processing_s: float | None
    turnout_s: float | None
    travel_s: float | None
    total_response_s: float | None
    #: The travel (and so the arrival) was verified by GPS; ``None`` when there is no arrival.
    gps_verified: bool | None
    #: Segments left out because their events are out of order.
    inconsistent: tuple[str, ...] = ()

    def get(self, name: str) -> float | None:
        """The segment ``name`` (one of :data:`SEGMENTS`) in seconds."""
        if name not in SEGMENTS:
            raise KeyError(name)
        value: float | None = getattr(self, f"{name}_s")
        return value

    def as_dict(self) -> dict[str, float | None]:
        return {f"{name}_s": self.get(name) for name in SEGMENTS}


def _span(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def segments(t: Timeline) -> Segments:
    """The segments of one timeline (see the module table)."""
    spans = {
        CALL_PROCESSING: _span(t.received_at, t.notified_at or t.dispatched_at),
        TURNOUT: _span(t.dispatched_at, t.departed_at),
        TRAVEL: _span(t.departed_at, t.arrived_at),
        TOTAL_RESPONSE: _span(t.received_at, t.arrived_at),
    }
    bad = tuple(name for name in SEGMENTS if (v := spans[name]) is not None and v < 0)
    clean = {name: (None if name in bad else spans[name]) for name in SEGMENTS}
    return Segments(
        call_processing_s=clean[CALL_PROCESSING], turnout_s=clean[TURNOUT],
        travel_s=clean[TRAVEL], total_response_s=clean[TOTAL_RESPONSE],
        gps_verified=None if t.arrived_at is None else t.arrival_source == "gps",
        inconsistent=bad,
    )


@dataclass(frozen=True)
class SegmentStats:
    """Count, mean (SPM) and 90th percentile (NFPA 1710, nearest rank) of one segment."""

    count: int
    mean_s: float | None
    p90_s: float | None


def segment_stats(values: Iterable[float | None]) -> SegmentStats:
    """Statistics over the measured values (``None`` entries are not measured and skipped)."""
    measured = [v for v in values if v is not None]
    if not measured:
        return SegmentStats(0, None, None)
    return SegmentStats(len(measured), sum(measured) / len(measured),
                        percentile_nearest_rank(measured, 90))


def summarize_segments(items: Iterable[Segments]) -> Mapping[str, SegmentStats]:
    """Per segment name, the statistics over ``items``."""
    rows = list(items)
    return {name: segment_stats(s.get(name) for s in rows) for name in SEGMENTS}
