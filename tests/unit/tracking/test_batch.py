"""Batches of the ingest pipeline: messages parsed as they arrive, nothing dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tracking.batch import Batch, Message
from tracking.plausibility import PlausibilityLimits

NOW = datetime(2026, 11, 23, 2, 15, 30, tzinfo=UTC)


def message(topic: str, payload, mid: int) -> Message:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Message(topic, body, mid, 1, 1, NOW)


def test_a_batch_keeps_every_message_with_its_fixes_rejections_and_ignored_items():
    fix = {"v": 1, "device_id": "D1", "seq": 1, "fix_time": "2026-11-23T02:15:00Z",
           "lat": -7.8, "lon": 110.36}
    batch = Batch()
    assert not batch
    batch.add(message("p/siaga/v1/pos/D1", [fix, {**fix, "seq": 2}, {**fix, "lat": 91}], 1),
              limits=PlausibilityLimits(), prefix="p/")
    batch.add(message("p/siaga/v1/pos/D1", b"{not json", 2), limits=PlausibilityLimits(),
              prefix="p/")
    batch.add(message("p/owntracks/u/phone", {"_type": "transition"}, 3),
              limits=PlausibilityLimits(), prefix="p/")
    assert batch and [m.mid for m in batch.messages] == [1, 2, 3]
    assert [f.seq for f in batch.fixes] == [1, 2]
    assert [r.reason for r in batch.rejections] == ["lat_out_of_range", "malformed_json"]
    assert batch.ignored == {"owntracks_transition": 1}
    assert batch.full(2, 100) and batch.full(100, 3) and not batch.full(3, 4)


def test_a_parser_failure_becomes_a_parse_error_reject_not_an_exception():
    # limits no configuration should hold (NaN seconds) make the parser itself raise: the
    # message is still kept, as a reject to acknowledge, instead of stopping the worker
    fix = {"v": 1, "device_id": "D1", "seq": 1, "fix_time": "2026-11-23T02:15:00Z",
           "lat": -7.8, "lon": 110.36}
    batch = Batch()
    broken = PlausibilityLimits(max_age_s=float("nan"))
    batch.add(message("siaga/v1/pos/D1", fix, 1), limits=broken, prefix="")
    batch.add(message("siaga/v1/pos/D1", {**fix, "seq": 2}, 2), limits=PlausibilityLimits(),
              prefix="")
    assert [m.mid for m in batch.messages] == [1, 2]
    (rejection,) = batch.rejections
    assert rejection.reason == "parse_error" and rejection.payload == json.dumps(fix).encode()
    assert rejection.message and rejection.message_en
    assert [f.seq for f in batch.fixes] == [2]
