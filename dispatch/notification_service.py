"""Storage of the OPD standby-line notifications: channels per agency, the queue the worker
delivers from, and what the console shows (was the standby line reached?).

Notifications are written in the caller's transaction (the escalation or assignment that caused
them), so nothing is sent for an event that was rolled back; the worker delivers them after the
commit (:mod:`api.notify`). Every function here only flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.exceptions import DispatchValidationError, IncidentNotFound
from dispatch.models import Agency, Incident
from dispatch.notification_models import AgencyChannel, Notification
from dispatch.notifications import CHANNEL_KINDS, compose, next_attempt_at, valid_target
from dispatch.privacy import mask_phone
from dispatch.scope import Scope
from dispatch.scoping import check_region, incident_condition

__all__ = ["ChannelInput", "Delivery", "add_channel", "claim_due", "deliveries",
           "enqueue", "list_channels", "mark_failed", "mark_sent"]


class ChannelInvalid(DispatchValidationError):
    """A channel that cannot be used (unknown kind, bad address, unknown agency)."""


@dataclass(frozen=True)
class ChannelInput:
    agency_code: str
    kind: str
    target: str
    secret: str | None = None


def _agency(session: Session, kode_kab: str, code: str) -> Agency:
    agency = session.scalars(select(Agency).where(Agency.kode_kab == kode_kab,
                                                  Agency.code == code)).first()
    if agency is None:
        raise ChannelInvalid(f"OPD {code} tidak dikenal di {kode_kab} / unknown agency {code} "
                             f"in {kode_kab}")
    return agency


def add_channel(session: Session, *, scope: Scope, kode_kab: str, channel: ChannelInput,
                actor: str, now: datetime) -> AgencyChannel:
    """Add a standby-line channel of an agency (audited)."""
    check_region(kode_kab, scope)
    if channel.kind not in CHANNEL_KINDS:
        raise ChannelInvalid(f"jenis saluran harus {', '.join(CHANNEL_KINDS)} / channel kind "
                             f"must be one of {', '.join(CHANNEL_KINDS)}")
    if not valid_target(channel.kind, channel.target):
        raise ChannelInvalid(f"alamat {channel.kind} tidak sah / invalid {channel.kind} "
                             f"address: {channel.target[:80]!r}")
    if channel.kind == "webhook" and not channel.secret:
        raise ChannelInvalid("webhook perlu rahasia untuk tanda tangan / a webhook needs a "
                             "secret to sign its bodies")
    agency = _agency(session, kode_kab, channel.agency_code)
    row = AgencyChannel(kode_kab=kode_kab, agency_id=agency.id, kind=channel.kind,
                        target=channel.target, secret=channel.secret, active=True)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, at=now, entity="agency_channel", entity_id=row.id,
                 action="create", after={"agency": agency.code, "kind": row.kind,
                                         "target": row.target}, kode_kab=kode_kab)
    return row


def list_channels(session: Session, *, scope: Scope, kode_kab: str
                  ) -> list[tuple[AgencyChannel, str]]:
    check_region(kode_kab, scope)
    return [(c, code) for c, code in session.execute(
        select(AgencyChannel, Agency.code).join(Agency, Agency.id == AgencyChannel.agency_id)
        .where(AgencyChannel.kode_kab == kode_kab).order_by(Agency.code, AgencyChannel.id))]


def enqueue(session: Session, *, kind: str, kode_kab: str, agency_code: str,
            incident_id: int | None, data: dict[str, Any], now: datetime) -> list[Notification]:
    """One pending notification per active channel of the agency (none when it has none)."""
    channels = session.execute(
        select(AgencyChannel).join(Agency, Agency.id == AgencyChannel.agency_id)
        .where(AgencyChannel.kode_kab == kode_kab, Agency.code == agency_code,
               AgencyChannel.active.is_(True))).scalars().all()
    if not channels:
        return []
    if incident_id is not None and session.scalar(
            select(Incident.drill).where(Incident.id == incident_id)):
        data = {**data, "drill": True}  # the standby line must know it is a drill (latihan)
    message = compose(kind, {"incident_id": incident_id, "agency": agency_code, **data})
    made = []
    for ch in channels:
        n = Notification(kode_kab=kode_kab, agency_id=ch.agency_id, channel_id=ch.id,
                         incident_id=incident_id, kind=kind, subject=message.subject,
                         text=message.text, payload=message.payload, status="pending",
                         attempts=0, next_attempt_at=now, created_at=now)
        session.add(n)
        made.append(n)
    session.flush()
    return made


def claim_due(session: Session, now: datetime, limit: int = 50
              ) -> list[tuple[Notification, AgencyChannel]]:
    """Pending notifications due at ``now``, locked (``SKIP LOCKED``: workers never send one
    twice at the same time)."""
    rows = session.execute(
        select(Notification, AgencyChannel)
        .join(AgencyChannel, AgencyChannel.id == Notification.channel_id)
        .where(Notification.status == "pending",
               or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit).with_for_update(of=Notification, skip_locked=True)).all()
    return [(n, c) for n, c in rows]


def mark_sent(session: Session, n: Notification, now: datetime, *, detail: str = "") -> None:
    n.status, n.sent_at, n.attempts, n.next_attempt_at = "sent", now, n.attempts + 1, None
    n.last_error = None
    audit.record(session, actor="system:notify", at=now, entity="notification",
                 entity_id=n.id, action="delivered",
                 after={"kind": n.kind, "channel_id": n.channel_id, "detail": detail[:200]},
                 kode_kab=n.kode_kab)


def mark_failed(session: Session, n: Notification, now: datetime, error: str) -> None:
    n.attempts += 1
    n.last_error = error[:500]
    n.next_attempt_at = next_attempt_at(n.attempts, now)
    if n.next_attempt_at is None:
        n.status = "failed"
        audit.record(session, actor="system:notify", at=now, entity="notification",
                     entity_id=n.id, action="delivery_failed",
                     after={"kind": n.kind, "channel_id": n.channel_id, "attempts": n.attempts,
                            "error": n.last_error}, kode_kab=n.kode_kab)


@dataclass(frozen=True)
class Delivery:
    id: int
    kind: str
    agency: str
    channel: str
    target: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def deliveries(session: Session, *, scope: Scope, incident_id: int) -> list[Delivery]:
    """What was sent to the standby lines about one incident (404 outside the scope)."""
    found = session.scalar(select(Incident.id).where(Incident.id == incident_id,
                                                     incident_condition(scope)))
    if found is None:
        raise IncidentNotFound(incident_id)
    rows = session.execute(
        select(Notification, AgencyChannel, Agency.code)
        .join(AgencyChannel, AgencyChannel.id == Notification.channel_id)
        .join(Agency, Agency.id == Notification.agency_id)
        .where(and_(Notification.incident_id == incident_id,
                    True if scope.agency_code is None else Agency.code == scope.agency_code))
        .order_by(Notification.id)).all()
    return [Delivery(n.id, n.kind, code, c.kind,
                     mask_phone(c.target) if c.kind == "sms" else c.target, n.status,
                     n.attempts, n.last_error, n.created_at, n.sent_at) for n, c, code in rows]

