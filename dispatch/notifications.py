"""Notifications to the OPD standby lines (pure: no I/O).

An escalation, a new assignment for an agency or an overdue complaint becomes one notification
per channel the agency configured (``webhook``, ``email``, ``sms``). This module composes the
bilingual text, signs webhook bodies (HMAC-SHA256, like GitHub's ``X-Hub-Signature-256``), names
Gammu SMSD spool files, and says when a failed delivery is tried again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

__all__ = ["CHANNEL_KINDS", "KINDS", "MAX_ATTEMPTS", "Message", "compose", "next_attempt_at",
           "sign", "sms_spool_name", "valid_target"]

CHANNEL_KINDS = ("webhook", "email", "sms")
KINDS = ("escalation", "assignment", "complaint_overdue")
#: Attempts before a notification is given up (marked ``failed``); the console shows it.
MAX_ATTEMPTS = 6
#: Seconds before attempt n+1 (after the n-th failure): quick first retries, then minutes.
_BACKOFF_S = (10, 30, 60, 300, 900)
#: An SMS is one GSM 7-bit part (160 characters); longer texts are cut with an ellipsis.
SMS_MAX = 160

_PHONE = re.compile(r"\+?[0-9]{6,15}")
_EMAIL = re.compile(r"[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    #: the machine-readable body of a webhook
    payload: dict[str, Any]


def valid_target(kind: str, target: str) -> bool:
    """Whether ``target`` is usable for a channel of ``kind``."""
    if kind == "sms":
        return bool(_PHONE.fullmatch(target))
    if kind == "email":
        return bool(_EMAIL.fullmatch(target))
    if kind == "webhook":
        return target.startswith(("https://", "http://")) and len(target) <= 2000 \
            and not any(c.isspace() for c in target)
    return False


def compose(kind: str, data: dict[str, Any]) -> Message:
    """The bilingual message of a notification of ``kind`` about ``data``.

    ``data`` carries ``incident_id``, ``agency`` and, by kind: ``overdue_s`` (escalation),
    ``call_sign`` and ``eta_s`` (assignment), ``ticket`` and ``due_at`` (complaint); with
    ``drill`` true the subject and text start with LATIHAN/DRILL.
    """
    inc = data.get("incident_id")
    agency = data.get("agency", "")
    place = data.get("place") or ""
    where = f" {place}" if place else ""
    if kind == "escalation":
        minutes = round(float(data.get("overdue_s") or 0) / 60)
        subject = f"[112] ESKALASI kejadian #{inc} / escalation of incident #{inc}"
        text = (f"ESKALASI 112: {agency} belum konfirmasi kejadian #{inc}{where}, terlambat "
                f"{minutes} mnt. Segera konfirmasi. / {agency} has not acknowledged incident "
                f"#{inc}, {minutes} min overdue.")
    elif kind == "assignment":
        eta = data.get("eta_s")
        eta_text = "" if eta is None else f", ETA {round(float(eta) / 60)} mnt"
        subject = f"[112] Penugasan {data.get('call_sign', '')} / assignment, incident #{inc}"
        text = (f"PENUGASAN 112: unit {data.get('call_sign', '')} ({agency}) ke kejadian "
                f"#{inc}{where}{eta_text}. / unit assigned to incident #{inc}.")
    elif kind == "complaint_overdue":
        subject = f"[112] Aduan {data.get('ticket', '')} lewat tenggat / complaint overdue"
        text = (f"ADUAN LEWAT TENGGAT: tiket {data.get('ticket', '')} untuk {agency} "
                f"(tenggat {data.get('due_at', '')}). / complaint overdue.")
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    if data.get("drill"):  # a drill (latihan) says so first, even in a cut SMS
        subject, text = f"[LATIHAN/DRILL] {subject}", f"LATIHAN/DRILL: {text}"
    return Message(subject, text, {"kind": kind, **data})


def sms_text(message: Message) -> str:
    text = " ".join(message.text.split())
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes with the channel's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(message: Message, *, notification_id: int) -> bytes:
    return json.dumps({"id": notification_id, "subject": message.subject, "text": message.text,
                       **message.payload}, ensure_ascii=False, sort_keys=True,
                      default=str).encode()


def next_attempt_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; ``None``: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=_BACKOFF_S[min(max(attempts, 1), len(_BACKOFF_S)) - 1])


def sms_spool_name(recipient: str, at: datetime, notification_id: int) -> str:
    """Gammu SMSD ``files`` backend outbox name:
    ``OUT<priority><date>_<time>_<serial>_<recipient>_<note>.txt`` (priority A = highest)."""
    if not _PHONE.fullmatch(recipient):
        raise ValueError(f"not a phone number: {recipient!r}")
    return f"OUTA{at:%Y%m%d}_{at:%H%M%S}_00_{recipient}_siaga{notification_id}.txt"
