"""The outbox's ``recent`` table: the rows of the last K acknowledged messages, kept for a replay
after a broker crash. Bounded by K messages and by age from the newest acknowledgement, in
acknowledgement order, renewed when a replay is acknowledged, and kept across a bridge restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gps_firmware_bridge.exceptions import OutboxError
from gps_firmware_bridge.fix import Fix
from gps_firmware_bridge.flush import message_for
from gps_firmware_bridge.outbox import Outbox

from ._vectors import when

T0 = when("2026-11-23T01:00:00Z")


def _fix(device: str, i: int) -> Fix:
    return Fix(device, T0 + timedelta(seconds=i), 110.36 + i / 1000, -7.8, source="gt06")


def _ack_one_by_one(box: Outbox, now_s: float = 10.0) -> None:
    """Acknowledge every pending row as its own message, oldest first."""
    for row in box.pending():
        box.acknowledge([[row.id]], now_s=now_s)


def test_acknowledged_rows_move_to_recent_with_their_payloads(tmp_path):
    with Outbox(tmp_path / "o.sqlite", replay_last=5) as box:
        box.put_many([_fix("dev-A", i) for i in range(3)], now_s=1.0)
        sent = box.pending()
        assert box.acknowledge([[sent[0].id, sent[1].id], [sent[2].id]], now_s=2.0) == 3
        assert box.count() == 0
        # grouped as they were published: one array of two fixes, then a single fix
        assert box.replay_messages() == [[sent[0], sent[1]], [sent[2]]]
        assert message_for(box.replay_messages()[0]).payload == (
            "[" + sent[0].payload + "," + sent[1].payload + "]"
        )
        stats = box.stats(now_s=3.0)
        assert (stats.pending, stats.published_total, stats.recent, stats.replayed_total) == (
            0,
            3,
            3,
            0,
        )


def test_recent_keeps_only_the_last_k_messages_in_order(tmp_path):
    with Outbox(tmp_path / "o.sqlite", replay_last=200) as box:
        box.put_many([_fix("dev-A", i) for i in range(250)], now_s=1.0)
        _ack_one_by_one(box)
        kept = box.replay_messages()
        assert [m[0].seq for m in kept] == list(range(50, 250))
        assert all(len(m) == 1 for m in kept)


def test_k_counts_messages_not_rows(tmp_path):
    with Outbox(tmp_path / "o.sqlite", replay_last=2) as box:
        box.put_many([_fix("dev-A", i) for i in range(7)], now_s=1.0)
        ids = [r.id for r in box.pending()]
        box.acknowledge([ids[0:3], ids[3:6], ids[6:7]], now_s=2.0)
        assert [[r.seq for r in m] for m in box.replay_messages()] == [[3, 4, 5], [6]]


def test_recent_is_bounded_by_age_from_the_newest_acknowledgement(tmp_path):
    with Outbox(tmp_path / "o.sqlite", replay_last=200, replay_max_age_s=600.0) as box:
        box.put_many([_fix("dev-A", i) for i in range(3)], now_s=0.0)
        first, second, third = box.pending()
        box.acknowledge([[first.id]], now_s=100.0)
        box.acknowledge([[second.id]], now_s=650.0)
        # a long wait with no acknowledgement (a broker outage) expires nothing
        assert [m[0].seq for m in box.replay_messages()] == [0, 1]
        box.acknowledge([[third.id]], now_s=701.0)  # 601 s after the first acknowledgement
        assert [m[0].seq for m in box.replay_messages()] == [1, 2]


def test_an_acknowledged_replay_renews_its_rows(tmp_path):
    with Outbox(tmp_path / "o.sqlite", replay_last=3) as box:
        box.put_many([_fix("dev-A", i) for i in range(3)], now_s=1.0)
        _ack_one_by_one(box, now_s=2.0)
        replay = box.replay_messages()
        # the replay is acknowledged again, oldest first: the rows stay, now the newest
        for message in replay:
            assert box.acknowledge([[r.id for r in message]], now_s=3.0) == 0
        assert box.replay_messages() == replay
        box.put(_fix("dev-A", 3), now_s=4.0)
        _ack_one_by_one(box, now_s=5.0)
        # one new message pushes out the oldest replayed one only
        assert [m[0].seq for m in box.replay_messages()] == [1, 2, 3]
        stats = box.stats(now_s=6.0)
        assert (stats.published_total, stats.replayed_total, stats.recent) == (4, 3, 3)


def test_recent_survives_a_bridge_restart_and_a_smaller_k_trims_it(tmp_path):
    path = tmp_path / "o.sqlite"
    with Outbox(path, replay_last=10) as box:
        box.put_many([_fix("dev-A", i) for i in range(6)], now_s=1.0)
        _ack_one_by_one(box)
        before = box.replay_messages()
    with Outbox(path, replay_last=10) as box:
        assert box.replay_messages() == before
        assert box.stats().published_total == 6
    with Outbox(path, replay_last=4) as box:
        assert [m[0].seq for m in box.replay_messages()] == [2, 3, 4, 5]


def test_replay_last_zero_deletes_acknowledged_rows(tmp_path):
    with Outbox(tmp_path / "o.sqlite", replay_last=0) as box:
        box.put_many([_fix("dev-A", i) for i in range(3)], now_s=1.0)
        assert box.delete([r.id for r in box.pending()]) == 3
        assert box.replay_messages() == []
        stats = box.stats()
        assert (stats.published_total, stats.recent) == (3, 0)


def test_recent_rows_are_not_pending_and_seq_goes_on(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box:
        box.put_many([_fix("dev-A", i) for i in range(2)], now_s=1.0)
        _ack_one_by_one(box)
        assert box.pending() == [] and box.backlog_newest() == []
        assert box.put(_fix("dev-A", 2), now_s=3.0) == 2


def test_negative_replay_bounds_are_refused_with_a_bilingual_message(tmp_path):
    with pytest.raises(OutboxError, match="tidak boleh negatif.*must not be negative"):
        Outbox(tmp_path / "o.sqlite", replay_last=-1)
