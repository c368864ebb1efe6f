"""Storage of the Perbup SLA rule sets (versions by effective date), scoped to the regency.

Functions take ``*, session`` and a :class:`~dispatch.scope.Scope`, never commit, and audit every
new version. A regency outside the caller's scope is reported as not found (404), exactly like
a regency without rules. A stored version is never changed: an edit is a new version (the
highest version of the same ``effective_from`` wins, :func:`dispatch.perbup.in_force`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.config import DispatchConfig
from dispatch.exceptions import DispatchNotFound
from dispatch.models import Agency
from dispatch.perbup import (
    DEFAULT_EFFECTIVE_FROM,
    RuleSet,
    SlaRuleSpec,
    category_kinds,
    from_region_config,
    in_force,
    parse_rule_set,
)
from dispatch.rule_models import SlaRuleSetRow
from dispatch.scope import Scope
from dispatch.timestamp import iso_utc

#: Namespace of the transaction-level advisory lock that serialises new versions per regency.
_LOCK_NAMESPACE = 0x51A


class RuleSetNotFound(DispatchNotFound):
    """No rule set for the regency (or the regency is outside the caller's scope)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _not_found(kode_kab: str) -> RuleSetNotFound:
    return RuleSetNotFound(f"Aturan SLA untuk wilayah {kode_kab} tidak ditemukan / no SLA rules "
                           f"for region {kode_kab}.")


def _check(scope: Scope, kode_kab: str) -> None:
    if not scope.allows(kode_kab):
        raise _not_found(kode_kab)


def _to_rule_set(row: SlaRuleSetRow) -> RuleSet:
    # validated when stored; categories removed from the configuration since then are kept
    return replace(parse_rule_set(row.document), version=row.version)


def rule_sets(session: Session, scope: Scope, kode_kab: str) -> list[RuleSet]:
    """Every version of the regency's rule set, oldest version first."""
    _check(scope, kode_kab)
    rows = session.scalars(select(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab == kode_kab)
                           .order_by(SlaRuleSetRow.version))
    return [_to_rule_set(r) for r in rows]


def rule_sets_by_region(session: Session, scope: Scope,
                        kode_kabs: Iterable[str]) -> dict[str, list[RuleSet]]:
    """Every version per regency (only the regencies in ``scope``), for reports."""
    wanted = [k for k in set(kode_kabs) if scope.allows(k)]
    out: dict[str, list[RuleSet]] = {k: [] for k in wanted}
    if not wanted:
        return out
    for row in session.scalars(select(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab.in_(wanted))
                               .order_by(SlaRuleSetRow.version)):
        out[row.kode_kab].append(_to_rule_set(row))
    return out


def rule_set_in_force(session: Session, scope: Scope, kode_kab: str,
                      at: datetime | None = None) -> RuleSet:
    """The version in force at ``at`` (now by default); :class:`RuleSetNotFound` if none."""
    found = in_force(rule_sets(session, scope, kode_kab), at or utcnow())
    if found is None:
        raise _not_found(kode_kab)
    return found


def rule_in_force(session: Session, *, kode_kab: str, agency: str, category: str,
                  kind: str | None, at: datetime | None = None) -> SlaRuleSpec | None:
    """The rule for ``agency`` and ``category`` in the regency's rule set in force at ``at``
    (now by default); ``None`` when the regency has no rule set. Internal (no scope): the
    caller has already found the incident or agency in its scope."""
    found = in_force(rule_sets(session, Scope.everything(), kode_kab), at or utcnow())
    return None if found is None else found.rule_for(agency, category, kind)


def versions(session: Session, scope: Scope, kode_kab: str) -> list[dict[str, Any]]:
    """The versions' metadata (no rules), newest first."""
    _check(scope, kode_kab)
    rows = session.scalars(select(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab == kode_kab)
                           .order_by(SlaRuleSetRow.version.desc()))
    return [{"version": r.version, "effective_from": iso_utc(r.effective_from),
             "reference": r.reference, "created_by": r.created_by,
             "created_at": iso_utc(r.created_at), "rules": len(r.document.get("rules") or [])}
            for r in rows]


def region_agency_codes(session: Session, kode_kab: str) -> set[str]:
    return set(session.scalars(select(Agency.code).where(Agency.kode_kab == kode_kab)))


def validate_document(session: Session, doc: Any, *, config: DispatchConfig,
                      kode_kab: str | None = None) -> RuleSet:
    """Validate a whole document against the configured categories and the regency's stored
    agencies (:class:`~dispatch.exceptions.SlaRuleError` lists every problem)."""
    kode = kode_kab or (doc.get("kode_kab") if isinstance(doc, Mapping) else None)
    agencies = region_agency_codes(session, kode) if isinstance(kode, str) else set()
    return parse_rule_set(doc, categories=category_kinds(config), agencies=agencies,
                          kode_kab=kode_kab)


def store_rule_set(session: Session, scope: Scope, rule_set: RuleSet, *, actor: str,
                   now: datetime | None = None) -> RuleSet:
    """Append ``rule_set`` as the regency's next version (audited); returns it with its
    version number. Concurrent writers of one regency queue on an advisory lock."""
    _check(scope, rule_set.kode_kab)
    now = now or utcnow()
    session.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:kode))"),
                    {"ns": _LOCK_NAMESPACE, "kode": rule_set.kode_kab})
    last = session.scalar(select(func.max(SlaRuleSetRow.version))
                          .where(SlaRuleSetRow.kode_kab == rule_set.kode_kab))
    stored = replace(rule_set, version=(last or 0) + 1)
    row = SlaRuleSetRow(kode_kab=stored.kode_kab, version=stored.version,
                        effective_from=stored.effective_from, reference=stored.reference,
                        document=stored.as_document(), created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, at=now, entity="sla_rule_set", entity_id=row.id,
                 action="create", before=None,
                 after={"version": stored.version, "effective_from": stored.effective_from,
                        "reference": stored.reference, "rules": len(stored.rules)},
                 kode_kab=stored.kode_kab)
    return stored


def import_document(session: Session, scope: Scope, doc: Any, *, config: DispatchConfig,
                    actor: str, kode_kab: str | None = None,
                    now: datetime | None = None) -> RuleSet:
    """Validate the whole document, then store it as a new version (nothing half-imported)."""
    if kode_kab is not None:
        _check(scope, kode_kab)
    rule_set = validate_document(session, doc, config=config, kode_kab=kode_kab)
    return store_rule_set(session, scope, rule_set, actor=actor, now=now)


def seed_default_rule_set(session: Session, config: DispatchConfig, kode_kab: str, *,
                          actor: str = "system:seed",
                          effective_from: datetime = DEFAULT_EFFECTIVE_FROM,
                          now: datetime | None = None) -> RuleSet | None:
    """Store the packaged ``agencies.yaml`` rules as the regency's first version, unless it
    already has one (idempotent: a re-seed never overrides an admin's rules)."""
    exists = session.scalar(select(SlaRuleSetRow.id).where(SlaRuleSetRow.kode_kab == kode_kab)
                            .limit(1))
    if exists is not None:
        return None
    rule_set = from_region_config(config, kode_kab, effective_from)
    return store_rule_set(session, Scope.everything(), rule_set, actor=actor, now=now)
