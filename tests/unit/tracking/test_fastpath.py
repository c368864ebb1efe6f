"""The native-item shortcut agrees with the full contract checks, edge by edge."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracking.contract import _Bad, _finish, _native_item, parse_message
from tracking.fastpath import Window, _make_fix, native_fix
from tracking.fix import Fix
from tracking.plausibility import PlausibilityLimits

NOW = datetime(2026, 11, 23, 2, 15, 30, tzinfo=UTC)
DEV = "yk-damkar-01"
LIMITS = PlausibilityLimits()
BASE = {"v": 1, "device_id": DEV, "seq": 7, "fix_time": "2026-11-23T02:15:00Z", "lat": -7.8,
        "lon": 110.36}


def full_path(item):
    """The full checks: the fix, or None when rejected."""
    try:
        fix = _native_item(item, DEV, NOW)
    except _Bad:
        return None
    return None if _finish(fix, NOW, LIMITS) else fix


def variants():
    yield BASE
    yield {**BASE, "speed_mps": 8.5, "heading_deg": 359.9, "altitude_m": -3.0, "hdop": 0.9,
           "accuracy_m": 4, "satellites": 11, "battery_pct": 100, "ignition": True,
           "source": "gt06"}
    for key in ("seq", "satellites"):
        for value in (0, 5, -1, 5.0, 5.5, True, None, "5"):
            yield {**BASE, key: value}
    for key in ("speed_mps", "heading_deg", "altitude_m", "hdop", "accuracy_m", "battery_pct"):
        for value in (0, 0.0, -0.1, 1e9, 360.1, 100.1, float("nan"), float("inf"),
                      float("-inf"), True, None, "1"):
            yield {**BASE, key: value}
    for lat, lon in ((0, 0), (0.0, 0.0), (0.0, 1.0), (90, 180), (90.0001, 1), (1, -180.01),
                     (float("nan"), 1.0), (1.0, float("inf")), (True, 1.0), ("1", 1.0)):
        yield {**BASE, "lat": lat, "lon": lon}
    for v in (1, 1.0, True, 2, "1", None):
        yield {**BASE, "v": v}
    for fix_time in ("2026-11-23T02:15:00.123Z", "2026-11-23T02:15:00.1234567Z",
                     "2026-11-23t02:15:00z", "2026-11-23T09:15:00+07:00", "2026-11-23 02:15:00Z",
                     "2026-11-23T02:15:00", "2026-02-30T02:15:00Z", "2026-11-23T24:00:00Z",
                     "2026-11-23T02:20:30Z", "2026-11-23T02:20:30.001Z", "2026-11-23T02:20:29Z",
                     "2025-11-23T02:15:30Z", "2025-11-23T02:15:31Z", "1999-01-01T00:00:00Z",
                     "2026-11-23T02:15:00Z\n", 1795400100, None):
        yield {**BASE, "fix_time": fix_time}
    yield {**BASE, "device_id": "other"}
    yield {**BASE, "extra": 1}
    yield {**BASE, "ignition": 1}
    yield {**BASE, "source": None}
    yield {**BASE, "source": 3}
    yield {k: v for k, v in BASE.items() if k != "lat"}
    yield {k: v for k, v in BASE.items() if k != "seq"}
    yield [BASE]
    yield "fix"


@pytest.mark.parametrize("item", list(variants()), ids=repr)
def test_the_shortcut_never_disagrees_with_the_full_checks(item):
    fast = native_fix(item, DEV, NOW, Window(NOW, LIMITS.max_future_s, LIMITS.max_age_s))
    if fast is not None:
        assert fast == full_path(item)
        assert vars(fast) == vars(full_path(item))


def test_ordinary_items_take_the_shortcut():
    window = Window(NOW, LIMITS.max_future_s, LIMITS.max_age_s)
    assert native_fix(BASE, DEV, NOW, window) is not None
    assert native_fix({**BASE, "speed_mps": 3, "heading_deg": 90.0, "satellites": 9,
                       "fix_time": "2026-11-23T02:15:00.250Z"}, DEV, NOW, window) is not None


def test_the_shared_vectors_parse_the_same_with_and_without_the_shortcut(monkeypatch):
    import tracking.contract as contract

    vectors = sorted((Path(__file__).resolve().parents[2] / "vectors" / "mqtt").glob("**/*.json"))
    assert vectors
    for path in vectors:
        doc = json.loads(path.read_text())
        payload = json.dumps(doc.get("payload", doc)).encode() if isinstance(doc, dict) else \
            json.dumps(doc).encode()
        topic = doc.get("topic", f"siaga/v1/pos/{DEV}") if isinstance(doc, dict) else \
            f"siaga/v1/pos/{DEV}"
        received = NOW
        with_fast = parse_message(topic, payload, received_at=received)
        monkeypatch.setattr(contract, "native_fix", lambda *a: None)
        without = parse_message(topic, payload, received_at=received)
        monkeypatch.undo()
        assert with_fast == without, path.name


def test_make_fix_equals_the_constructor():
    args = (DEV, NOW, 110.36, -7.8, 1.0, 2.0, 3.0, 0.9, 4.0, 9, 7, 55.0, False, "native",
            NOW + timedelta(seconds=1))
    made, built = _make_fix(*args), Fix(*args)
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert made.lonlat == built.lonlat
