"""The bridge and the platform judge a fix alike: shared vectors for both plausibility checks
(``tests/vectors/plausibility/fixes.json``), the same ``Fix`` field order, and limits with the
same names, meanings and defaults. The bridge keeps its own code (it imports nothing of ours)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest

from gps_firmware_bridge import plausibility as bridge_plaus
from gps_firmware_bridge.fix import Fix as BridgeFix
from tracking import plausibility as tracking_plaus
from tracking.fix import Fix as TrackingFix

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "plausibility" / "fixes.json"
DOC = json.loads(VECTORS.read_text(encoding="utf-8"))
NOW = datetime.fromisoformat(DOC["now"])


def _fix(cls: type, fields: dict) -> object:
    return cls(**{**fields, "fix_time": datetime.fromisoformat(fields["fix_time"])})


@pytest.mark.parametrize("vector", DOC["vectors"], ids=lambda v: v["name"])
def test_bridge_and_tracking_judge_alike(vector: dict) -> None:
    bridge = bridge_plaus.check_fix(_fix(BridgeFix, vector["fix"]), NOW)
    platform = tracking_plaus.check_fix(_fix(TrackingFix, vector["fix"]), now=NOW,
                                        limits=tracking_plaus.PlausibilityLimits())
    assert (bridge is None) == vector["accept"], bridge
    assert (platform is None) == vector["accept"], platform
    if not vector["accept"]:
        assert platform.code == vector["tracking_code"]
        assert platform.message and platform.message_en


def test_the_vectors_cover_both_outcomes() -> None:
    outcomes = [v["accept"] for v in DOC["vectors"]]
    assert outcomes.count(True) >= 5 and outcomes.count(False) >= 5


def test_fix_fields_in_the_same_order() -> None:
    bridge = [f.name for f in dataclasses.fields(BridgeFix)]
    platform = [f.name for f in dataclasses.fields(TrackingFix)]
    assert bridge[:4] == platform[:4] == ["device_id", "fix_time", "lon", "lat"]
    # The bridge's fields are the platform's, in the platform's order (seq and received_at are
    # given by the outbox and the server).
    assert [n for n in platform if n in bridge] == bridge


def test_limits_share_names_and_defaults() -> None:
    bridge = bridge_plaus.PlausibilityLimits()
    platform = tracking_plaus.PlausibilityLimits()
    for name in ("max_future_s", "max_age_s", "max_speed_mps"):
        assert getattr(bridge, name) == getattr(platform, name), name
