"""Standby-line notification texts, signatures, retry schedule and spool names."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.notifications import (
    MAX_ATTEMPTS,
    SMS_MAX,
    compose,
    next_attempt_at,
    sign,
    sms_spool_name,
    sms_text,
    valid_target,
    webhook_body,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_escalation_text_is_bilingual_and_fits_one_sms():
    m = compose("escalation", {"incident_id": 42, "agency": "DAMKAR", "overdue_s": 310,
                               "place": "Suryatmajan"})
    assert "ESKALASI" in m.text and "DAMKAR" in m.text and "#42" in m.text
    assert "5 mnt" in m.text and "overdue" in m.text and "Suryatmajan" in m.text
    assert len(sms_text(m)) <= SMS_MAX
    assert m.payload["kind"] == "escalation" and m.payload["incident_id"] == 42
    a = compose("assignment", {"incident_id": 7, "agency": "PSC119", "call_sign": "YK-PSC-01",
                               "eta_s": 420.0})
    assert "YK-PSC-01" in a.text and "ETA 7 mnt" in a.text
    with pytest.raises(ValueError):
        compose("party", {})


def test_signature_is_hmac_sha256_of_the_exact_body():
    m = compose("escalation", {"incident_id": 1, "agency": "BPBD", "overdue_s": 60})
    body = webhook_body(m, notification_id=9)
    assert json.loads(body)["id"] == 9
    want = hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret-s3cret-s3cret", body) == f"sha256={want}"
    assert sign("other", body) != sign("s3cret-s3cret-s3cret", body)


def test_retry_schedule_backs_off_then_gives_up():
    waits = [(next_attempt_at(n, NOW) - NOW).total_seconds() for n in range(1, MAX_ATTEMPTS)]
    assert waits == sorted(waits) and waits[0] == 10 and waits[-1] == 900
    assert next_attempt_at(MAX_ATTEMPTS, NOW) is None
    assert next_attempt_at(0, NOW) == NOW + timedelta(seconds=10)


def test_gammu_spool_name():
    name = sms_spool_name("+6281234567890", NOW, 15)
    assert name == "OUTA20261127_100000_00_+6281234567890_siaga15.txt"
    with pytest.raises(ValueError):
        sms_spool_name("../etc/passwd", NOW, 1)


@pytest.mark.parametrize(("kind", "target", "ok"), [
    ("sms", "+6281234567", True), ("sms", "0812-345", False), ("sms", "081234567890", True),
    ("email", "piket@damkar.banglikab.go.id", True), ("email", "a@b", False),
    ("webhook", "https://hooks.example.go.id/siaga", True), ("webhook", "ftp://x", False),
    ("webhook", "https://x y", False), ("fax", "123", False)])
def test_targets(kind, target, ok):
    assert valid_target(kind, target) is ok


@given(st.text(max_size=400))
def test_sms_text_never_exceeds_one_part(text):
    m = compose("complaint_overdue", {"incident_id": 1, "agency": text[:50], "ticket": text})
    assert len(sms_text(m)) <= SMS_MAX
