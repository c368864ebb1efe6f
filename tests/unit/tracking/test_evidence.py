"""Arrival evidence: GeoJSON content and a digest that detects tampering."""

from __future__ import annotations

import copy
import json

from tests.unit.tracking.test_arrival import RULE, approach_and_stop
from tests.unit.tracking.tracks import TARGET
from tracking.arrival import detect_arrival
from tracking.evidence import build_evidence, canonical_json, evidence_digest

META = {"assignment_id": 42, "device_id": "AMB-1"}


def make():
    track = approach_and_stop()
    arrival = detect_arrival(track, TARGET, RULE)
    return build_evidence(track, TARGET, RULE, arrival, meta=META), track


def test_evidence_is_geojson_with_track_fixes_fence_rule_and_arrival():
    evidence, track = make()
    assert evidence["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in evidence["features"]]
    assert kinds.count("track") == 1 and kinds.count("fix") == len(track)
    assert "geofence" in kinds and "exit_fence" in kinds and "target" in kinds
    line = next(f for f in evidence["features"] if f["properties"]["kind"] == "track")
    assert len(line["geometry"]["coordinates"]) == len(track)
    props = evidence["properties"]
    assert props["rule"]["radius_m"] == 100.0 and props["meta"] == META
    assert props["arrival"]["arrived_at"] == "2026-11-23T02:01:25Z"
    in_dwell = [f for f in evidence["features"] if f["properties"].get("in_dwell")]
    assert len(in_dwell) == 3
    json.dumps(evidence)  # plain JSON


def test_digest_is_stable_and_detects_a_changed_coordinate():
    evidence, _ = make()
    digest = evidence_digest(evidence)
    assert len(digest) == 64
    assert evidence_digest(copy.deepcopy(evidence)) == digest
    assert evidence_digest(json.loads(json.dumps(evidence))) == digest
    tampered = copy.deepcopy(evidence)
    fix_feature = next(f for f in tampered["features"] if f["properties"]["kind"] == "fix")
    fix_feature["geometry"]["coordinates"][1] += 0.00001  # ~1 m
    assert evidence_digest(tampered) != digest


def test_digest_detects_a_changed_arrival_time():
    evidence, _ = make()
    tampered = copy.deepcopy(evidence)
    tampered["properties"]["arrival"]["arrived_at"] = "2026-11-23T02:01:20Z"
    assert evidence_digest(tampered) != evidence_digest(evidence)


def test_canonical_json_sorts_keys_and_fixes_floats():
    assert canonical_json({"b": 1.5, "a": [1, None, True]}) == '{"a":[1,null,true],"b":1.5000000}'


def test_evidence_without_arrival():
    evidence = build_evidence([], TARGET, RULE, None, meta={})
    assert evidence["properties"]["arrival"] is None
    assert evidence_digest(evidence)
