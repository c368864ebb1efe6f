"""Ed25519 signatures of a monthly chain head, and the pure arrival cross-check."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.chain_signature import (
    ChainSignatureError,
    generate_key,
    load_private_key,
    load_public_key,
    sign_head,
    verify_document,
)
from dispatch.evidence_check import ArrivalRecord, SlaClock, compare

HEAD = "ab" * 32


def signed():
    private_pem, public_pem = generate_key()
    doc = sign_head(load_private_key(private_pem), month="2026-11", seq=42, head_hash=HEAD,
                    signed_at=datetime(2026, 12, 1, tzinfo=UTC))
    return doc, load_public_key(public_pem)


def test_signature_verifies_with_the_regency_key():
    doc, key = signed()
    statement = verify_document(doc, key)
    assert (statement.month, statement.seq, statement.head_hash) == ("2026-11", 42, HEAD)
    assert statement.signed_at == "2026-12-01T00:00:00+00:00"
    assert verify_document(doc).seq == 42  # the embedded key: the file is intact


@pytest.mark.parametrize("field,value", [("seq", 41), ("head_hash", "cd" * 32),
                                         ("month", "2026-10")])
def test_changed_statement_is_refused(field, value):
    doc, key = signed()
    forged = copy.deepcopy(doc)
    forged["statement"][field] = value
    with pytest.raises(ChainSignatureError, match="does not verify"):
        verify_document(forged, key)


def test_another_key_is_refused():
    doc, _ = signed()
    _, other = signed()
    with pytest.raises(ChainSignatureError, match="another key"):
        verify_document(doc, other)


@pytest.mark.parametrize("doc", [{}, {"statement": {}}, [], "x",
                                 {"statement": {"kind": "x", "seq": 1}, "signature": "!!",
                                  "public_key": "nope"}])
def test_malformed_files_give_a_typed_error(doc):
    with pytest.raises(ChainSignatureError):
        verify_document(doc)


@pytest.mark.parametrize("field,value", [("seq", "42"), ("seq", True), ("seq", None),
                                         ("month", 202611), ("head_hash", ["ab"]),
                                         ("signed_at", None)])
def test_a_statement_of_the_wrong_types_is_refused_before_its_signature(field, value):
    doc, key = signed()
    doc["statement"][field] = value
    with pytest.raises(ChainSignatureError, match="not an audit chain head"):
        verify_document(doc, key)


def test_non_ed25519_or_garbage_keys_are_refused():
    with pytest.raises(ChainSignatureError):
        load_private_key(b"not a key")
    with pytest.raises(ChainSignatureError):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


T0 = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
CLOCK = SlaClock(T0, 15.0)
GPS_AT = T0 + timedelta(minutes=20)  # a breach of the 15 min on-scene SLA


def fields_of(issues):
    return sorted((i["field"], i["basis"]) for i in issues)


def test_consistent_gps_arrival_has_no_disagreement():
    rec = ArrivalRecord(GPS_AT, "gps", "d1")
    assert compare(rec, digest_valid=True, recomputed=GPS_AT, chained=rec, chain_problems=[],
                   clock=CLOCK, now=T0 + timedelta(hours=1), cancelled=False) == []


def test_edited_arrival_time_is_flagged_against_positions_chain_and_outcome():
    chained = ArrivalRecord(GPS_AT, "gps", "d1")
    stored = ArrivalRecord(T0 + timedelta(minutes=10), "gps", "d1")  # breach made "met"
    issues = compare(stored, digest_valid=True, recomputed=GPS_AT, chained=chained,
                     chain_problems=[], clock=CLOCK, now=T0 + timedelta(hours=1),
                     cancelled=False)
    assert fields_of(issues) == [("arrived_at", "audit_chain"), ("arrived_at", "positions"),
                                 ("outcome", "positions")]
    outcome = next(i for i in issues if i["field"] == "outcome")
    assert (outcome["stored"], outcome["expected"]) == ("met", "breached")
    assert " / " in outcome["message"]


def test_source_switched_to_manual_is_flagged():
    chained = ArrivalRecord(GPS_AT, "gps", "d1")
    stored = ArrivalRecord(GPS_AT, "manual", "d1")
    issues = compare(stored, digest_valid=True, recomputed=GPS_AT, chained=chained,
                     chain_problems=[], clock=CLOCK, now=T0, cancelled=False)
    assert fields_of(issues) == [("arrival_source", "audit_chain")]


def test_gps_arrival_without_positions_and_without_record_is_flagged():
    stored = ArrivalRecord(GPS_AT, "gps", None)
    issues = compare(stored, digest_valid=None, recomputed=None, chained=None,
                     chain_problems=[], clock=None, now=T0, cancelled=False)
    assert fields_of(issues) == [("arrival_source", "positions"), ("arrived_at", "audit_chain")]


def test_invalid_digest_is_flagged():
    rec = ArrivalRecord(GPS_AT, "gps", "d1")
    issues = compare(rec, digest_valid=False, recomputed=GPS_AT, chained=rec,
                     chain_problems=[], clock=CLOCK, now=T0, cancelled=False)
    assert fields_of(issues) == [("evidence_digest", "evidence")]
