"""The outbox's refused table: refused fixes leave the send queue, are counted apart from the
published ones, come back intact with --retry-refused, and are bounded like the outbox."""

from __future__ import annotations

from datetime import timedelta

from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.outbox import Outbox

from ._vectors import when

T0 = when("2026-11-23T01:00:00Z")


def _fix(device: str, i: int) -> Fix:
    return Fix(device, T0 + timedelta(seconds=i), 110.36 + i / 1000, -7.8, source="gt06")


def test_refuse_and_requeue_keep_ids_seqs_and_payloads(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box:
        box.put_many([_fix("dev-A", 0), _fix("dev-B", 1), _fix("dev-B", 2)], now_s=100.0)
        before = {r.id: r for r in box.pending()}
        refused_ids = [r.id for r in before.values() if r.device_id == "dev-B"]
        assert box.refuse(refused_ids, "Not authorized", now_s=101.0) == 2
        assert [r.device_id for r in box.pending()] == ["dev-A"]
        stats = box.stats(now_s=102.0)
        assert (stats.published_total, stats.refused_total, stats.refused_held) == (0, 2, 2)
        assert [(row, why) for row, why in box.refused_rows()] == [
            (before[i], "Not authorized") for i in refused_ids
        ]
        assert box.requeue_refused() == 2
        assert box.pending() == sorted(before.values(), key=lambda r: r.id)
        assert box.stats(now_s=103.0).refused_held == 0


def test_refused_rows_are_bounded_by_age_and_count(tmp_path):
    with Outbox(tmp_path / "o.sqlite", max_rows=3, max_age_s=1000.0) as box:
        box.put_many([_fix("dev-B", i) for i in range(3)], now_s=0.0)
        box.refuse([r.id for r in box.pending()], "Not authorized", now_s=1.0)
        box.put_many([_fix("dev-B", i) for i in range(3, 7)], now_s=10.0)
        box.refuse([r.id for r in box.pending()], "Not authorized", now_s=11.0)
        box.put(_fix("dev-A", 9), now_s=12.0)  # enforces the bounds
        assert [r.seq for r, _ in box.refused_rows()] == [4, 5, 6]
        box.expire(now_s=2000.0)
        assert box.refused_rows() == [] and box.count() == 0
        assert box.stats().dropped_age == 4 and box.stats().dropped_rows == 4
