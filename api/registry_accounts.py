"""Tracker registration with its MQTT login, in the order that leaves no stray login behind.

Shared by the HTTP routes and the ``siaga trackers`` commands: register (flush) → issue the
login → commit; if the commit fails the login is removed again. A revocation removes the login
first, then commits (a failed commit leaves a registered tracker without a login, never the
reverse).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.dynsec_accounts import MosquittoDynsecAccounts
from api.settings import Settings
from dispatch import trackers
from dispatch.registry_errors import LoginsNotConfigured, ProvisioningError
from dispatch.scope import Scope
from tracking.mqtt_accounts import AccountError, MosquittoFileAccounts, TrackerAccounts


def tracker_accounts(settings: Settings) -> TrackerAccounts | None:
    """The broker login store of the settings (``mqtt_logins``: the broker's files, or its
    dynamic security plugin), or ``None`` when none is configured."""
    if settings.mqtt_logins == "dynsec":
        if not settings.mqtt_dynsec_url:
            return None
        try:
            return MosquittoDynsecAccounts(settings.mqtt_dynsec_url)
        except AccountError as exc:
            raise ProvisioningError(str(exc)) from exc
    if settings.mqtt_passwd_file is None or settings.mqtt_acl_file is None:
        return None
    return MosquittoFileAccounts(settings.mqtt_passwd_file, settings.mqtt_acl_file,
                                 pid_file=settings.mqtt_pid_file,
                                 reload_command=settings.mqtt_reload_command)


def register(session: Session, device_id: str, *, kode_kab: str, scope: Scope, actor: str,
             accounts: TrackerAccounts | None, protocol: str | None = None,
             unit_id: int | None = None, label: str | None = None
             ) -> tuple[trackers.TrackerInfo, str | None]:
    """Register a tracker and issue its login; committed. Returns (tracker, password or None)."""
    now = datetime.now(UTC)
    trackers.register_tracker(session, device_id, kode_kab=kode_kab, scope=scope, actor=actor,
                              now=now, protocol=protocol, unit_id=unit_id, label=label)
    password = None
    if accounts is not None:
        password = _issue(session, device_id, scope=scope, accounts=accounts, now=now)
    _commit_or_revoke(session, device_id, accounts if password else None)
    return trackers.get_tracker(session, device_id, scope=scope), password


def reset_login(session: Session, device_id: str, *, scope: Scope,
                accounts: TrackerAccounts | None) -> str:
    """A new password for a registered tracker (the old one stops working); committed."""
    trackers.get_tracker(session, device_id, scope=scope)  # another regency's: not found
    if accounts is None:
        raise LoginsNotConfigured(
            "Login MQTT pelacak belum dikonfigurasi (SIAGA_MQTT_PASSWD_FILE dan "
            "SIAGA_MQTT_ACL_FILE, atau SIAGA_MQTT_LOGINS=dynsec dan SIAGA_MQTT_DYNSEC_URL) / "
            "tracker MQTT logins are not configured.")
    password = _issue(session, device_id, scope=scope, accounts=accounts,
                      now=datetime.now(UTC))
    _commit_or_revoke(session, device_id, accounts)
    return password


def revoke(session: Session, device_id: str, *, scope: Scope, actor: str,
           accounts: TrackerAccounts | None) -> trackers.TrackerInfo:
    """Remove the login, unregister the tracker; committed."""
    try:
        info = trackers.revoke_tracker(session, device_id, scope=scope, actor=actor,
                                       now=datetime.now(UTC), accounts=accounts)
    except AccountError as exc:
        raise ProvisioningError(str(exc)) from exc
    session.commit()
    return info


def _issue(session: Session, device_id: str, *, scope: Scope, accounts: TrackerAccounts,
           now: datetime) -> str:
    try:
        return trackers.issue_login(session, device_id, scope=scope, accounts=accounts, now=now)
    except AccountError as exc:
        raise ProvisioningError(str(exc)) from exc


def _commit_or_revoke(session: Session, device_id: str,
                      accounts: TrackerAccounts | None) -> None:
    try:
        session.commit()
    except BaseException:
        if accounts is not None:
            accounts.revoke(device_id)
        raise
