"""Outbox durability, bounds and the flush plan (newest first, then batches in order)."""

import json
from datetime import timedelta

from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.flush import plan_flush
from gps_firmware_bridge.outbox import Outbox

from ._vectors import when

T0 = when("2026-11-23T01:00:00Z")


def _fix(i: int, device: str = "U1") -> Fix:
    return Fix(device, T0 + timedelta(seconds=i), 110.36, -7.8 - i * 1e-4, source="sim")


def test_sequence_numbers_are_per_device_and_survive_reopen(tmp_path):
    path = tmp_path / "o.sqlite"
    with Outbox(path) as box:
        assert box.put_many([_fix(0), _fix(1), _fix(0, "U2")]) == [0, 1, 0]
    with Outbox(path) as box:
        assert box.put(_fix(2)) == 2
        assert box.count() == 4
        assert box.stats().stored_total == 4


def test_wal_mode(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box:
        assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_drop_oldest_beyond_max_rows_is_counted(tmp_path):
    with Outbox(tmp_path / "o.sqlite", max_rows=5) as box:
        box.put_many([_fix(i) for i in range(8)])
        rows = box.pending()
        assert [r.seq for r in rows] == [3, 4, 5, 6, 7]
        assert box.stats().dropped_rows == 3
    with Outbox(tmp_path / "o.sqlite", max_rows=5) as box:
        assert box.stats().dropped_rows == 3


def test_drop_by_age_is_counted(tmp_path):
    with Outbox(tmp_path / "o.sqlite", max_age_s=60) as box:
        box.put(_fix(0), now_s=1000.0)
        box.put(_fix(1), now_s=1030.0)
        box.expire(now_s=1070.0)
        assert [r.seq for r in box.pending()] == [1]
        assert box.stats(now_s=1070.0).dropped_age == 1


def test_delete_only_acknowledged_rows(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box:
        box.put_many([_fix(i) for i in range(3)])
        first = box.pending()[0]
        assert box.delete([first.id]) == 1
        assert [r.seq for r in box.pending()] == [1, 2]
        assert box.stats().published_total == 1


def test_plan_newest_first_then_ordered_batches(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box:
        box.put_many(
            [_fix(i) for i in range(7)] + [_fix(i, "U2") for i in range(2)] + [_fix(0, "U3")]
        )
        newest = box.backlog_newest()
        assert [(r.device_id, r.seq) for r in newest] == [("U1", 6), ("U2", 1)]
        plan = plan_flush(box.pending(), batch_size=4, max_messages=10, newest=newest)
    seqs = [(m.topic.rsplit("/", 1)[1], m.seqs) for m in plan]
    assert seqs == [
        ("U1", (6,)),
        ("U2", (1,)),
        ("U1", (0, 1, 2, 3)),
        ("U1", (4, 5)),
        ("U2", (0,)),
        ("U3", (0,)),
    ]
    assert isinstance(json.loads(plan[0].payload), dict)
    assert [p["seq"] for p in json.loads(plan[2].payload)] == [0, 1, 2, 3]


def test_plan_respects_budget():
    from gps_firmware_bridge.outbox import OutboxRow

    rows = [OutboxRow(i, "U1", i, json.dumps({"seq": i})) for i in range(10)]
    plan = plan_flush(rows, batch_size=2, max_messages=3)
    assert [m.seqs for m in plan] == [(0, 1), (2, 3), (4, 5)]
