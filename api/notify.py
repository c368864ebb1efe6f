"""Delivery of the OPD standby-line notifications: webhook (signed JSON over HTTP), email (SMTP)
and SMS (Gammu SMSD ``files`` spool, or an HTTP SMS gateway), with retries and an audit entry.

The worker runs :func:`deliver_due` as one of its jobs: it claims the due notifications
(``FOR UPDATE SKIP LOCKED``), sends each, and records ``sent`` or the error with the next attempt
in the same transaction. A notification is sent at least once; a crash between the send and the
commit sends it again (the webhook body carries its ``id`` so receivers can drop repeats).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from api.db import unit_of_work
from dispatch.notification_models import AgencyChannel, Notification
from dispatch.notification_service import claim_due, mark_failed, mark_sent
from dispatch.notifications import Message, sign, sms_spool_name, sms_text, webhook_body

log = logging.getLogger("siaga.notify")

__all__ = ["NotifyConfig", "deliver_due", "notify_job"]


@dataclass(frozen=True)
class NotifyConfig:
    """Where the channels' messages go out (``SIAGA_SMTP_*``, ``SIAGA_SMS_*`` settings)."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "siaga-112@localhost"
    #: Gammu SMSD ``files`` backend outbox directory (``OutboxPath`` of its smsdrc)
    sms_spool_dir: str = ""
    #: or an HTTP SMS gateway: POST JSON {"to", "text"} to this URL
    sms_gateway_url: str = ""
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> NotifyConfig:
        return cls(smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                   smtp_user=settings.smtp_user, smtp_password=settings.smtp_password,
                   smtp_starttls=settings.smtp_starttls, mail_from=settings.mail_from,
                   sms_spool_dir=settings.sms_spool_dir,
                   sms_gateway_url=settings.sms_gateway_url)


class DeliveryError(Exception):
    """A channel did not take the message (reason in the text)."""


def _message(n: Notification) -> Message:
    return Message(n.subject, n.text, dict(n.payload))


def send_webhook(cfg: NotifyConfig, n: Notification, ch: AgencyChannel) -> str:
    body = webhook_body(_message(n), notification_id=n.id)
    try:
        r = httpx.post(ch.target, content=body, timeout=cfg.timeout_s, headers={
            "Content-Type": "application/json", "User-Agent": "Siaga-112",
            "X-Siaga-Notification": str(n.id),
            "X-Siaga-Signature-256": sign(ch.secret or "", body)})
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc
    if not 200 <= r.status_code < 300:
        raise DeliveryError(f"webhook answered HTTP {r.status_code}")
    return f"HTTP {r.status_code}"


def send_email(cfg: NotifyConfig, n: Notification, ch: AgencyChannel) -> str:
    if not cfg.smtp_host:
        raise DeliveryError("email: no SMTP server configured (SIAGA_SMTP_HOST)")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg.mail_from, ch.target, n.subject
    msg["X-Siaga-Notification"] = str(n.id)
    msg.set_content(n.text)
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_s) as smtp:
            if cfg.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password)
            refused = smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"email: {type(exc).__name__}: {exc}") from exc
    if refused:
        raise DeliveryError(f"email refused: {refused}")
    return "SMTP accepted"


def send_sms(cfg: NotifyConfig, n: Notification, ch: AgencyChannel) -> str:
    text = sms_text(_message(n))
    if cfg.sms_spool_dir:
        outbox = Path(cfg.sms_spool_dir)
        name = sms_spool_name(ch.target, datetime.now(UTC), n.id)
        try:
            # written aside, then renamed: the SMS daemon never reads half a file
            fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".siaga-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, outbox / name)
        except OSError as exc:
            raise DeliveryError(f"sms spool {outbox}: {exc}") from exc
        return f"spooled {name}"
    if cfg.sms_gateway_url:
        try:
            r = httpx.post(cfg.sms_gateway_url, json={"to": ch.target, "text": text},
                           timeout=cfg.timeout_s)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"sms gateway: {type(exc).__name__}: {exc}") from exc
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"sms gateway answered HTTP {r.status_code}")
        return f"gateway HTTP {r.status_code}"
    raise DeliveryError("sms: no SMS spool or gateway configured (SIAGA_SMS_SPOOL_DIR)")


SENDERS: dict[str, Callable[[NotifyConfig, Notification, AgencyChannel], str]] = {
    "webhook": send_webhook, "email": send_email, "sms": send_sms}


def deliver_due(sessions: sessionmaker[Session], cfg: NotifyConfig, *,
                now: datetime | None = None, limit: int = 50) -> dict[str, int]:
    """Send the due notifications once each; ``{"sent": n, "failed": m}`` of this pass."""
    counts = {"sent": 0, "failed": 0}
    with unit_of_work(sessions) as session:
        at = now or datetime.now(UTC)
        for n, ch in claim_due(session, at, limit):
            try:
                detail = SENDERS[ch.kind](cfg, n, ch)
            except DeliveryError as exc:
                log.warning("notification %s to %s %s failed: %s", n.id, ch.kind, ch.id, exc)
                mark_failed(session, n, at, str(exc))
                counts["failed"] += 1
            else:
                mark_sent(session, n, at, detail=detail)
                counts["sent"] += 1
    return counts


def notify_job(sessions: sessionmaker[Session], cfg: NotifyConfig) -> Callable[[], list]:
    """A worker job: one delivery pass; it publishes nothing."""

    def run() -> list:
        deliver_due(sessions, cfg)
        return []

    return run
