"""Re-checking an arrival against what cannot be quietly edited: positions, rule, audit chain.

:func:`check_evidence` recomputes the arrival from the stored positions with the rule recorded in
the evidence (``tracking.arrival.detect_arrival``), reads the arrival's audit entries and checks
their chain links (:mod:`dispatch.chain`), and :func:`compare` lists every disagreement with the
assignment's ``arrived_at``, ``arrival_source``, ``evidence_digest`` and on-scene SLA outcome.
An ``UPDATE assignment SET arrived_at = ...`` therefore shows up even when the evidence and its
digest still agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.arrival_evidence import rule_for
from dispatch.chain import link_hash
from dispatch.config import DispatchConfig
from dispatch.incident_records import point_of
from dispatch.models import Assignment, AuditChain, Incident, IncidentAgency, Unit
from dispatch.sla import evaluate
from dispatch.timestamp import iso_utc
from tracking.arrival import ArrivalRule, detect_arrival
from tracking.evidence import evidence_digest
from tracking.service import fixes_between

ARRIVAL_ACTIONS = ("arrive:gps", "arrive:manual", "arrival_revised")


@dataclass(frozen=True)
class ArrivalRecord:
    """One account of an arrival: when, how (``gps``/``manual``), with which evidence digest."""

    arrived_at: datetime | None
    source: str | None
    digest: str | None


@dataclass(frozen=True)
class SlaClock:
    """The agency's on-scene clock: start (aware UTC) and limit in minutes."""

    started_at: datetime
    limit_min: float


def _disagree(field: str, stored: Any, expected: Any, basis: str, id_text: str,
              en_text: str) -> dict[str, Any]:
    return {"field": field, "stored": stored, "expected": expected, "basis": basis,
            "message": f"{id_text} / {en_text}"}


def compare(stored: ArrivalRecord, *, digest_valid: bool | None, recomputed: datetime | None,
            chained: ArrivalRecord | None, chain_problems: list[dict[str, Any]],
            clock: SlaClock | None, now: datetime, cancelled: bool) -> list[dict[str, Any]]:
    """Every disagreement between the assignment's arrival and its independent accounts (pure).

    ``recomputed`` is the GPS arrival from the stored positions (``None``: none); ``chained`` the
    last arrival the audit chain recorded (``None``: no record).
    """
    out = list(chain_problems)
    if digest_valid is False:
        out.append(_disagree("evidence_digest", stored.digest, None, "evidence",
                             "Bukti tidak cocok dengan digest-nya",
                             "the evidence does not match its digest"))
    if chained is None:
        if stored.arrived_at is not None:
            out.append(_disagree("arrived_at", iso_utc(stored.arrived_at), None, "audit_chain",
                                 "Kedatangan tidak tercatat di rantai audit",
                                 "the arrival has no record in the audit chain"))
    else:
        for name in ("arrived_at", "source", "digest"):
            mine, theirs = getattr(stored, name), getattr(chained, name)
            if mine != theirs:
                field = {"source": "arrival_source", "digest": "evidence_digest"}.get(name, name)
                show = iso_utc if name == "arrived_at" else (lambda v: v)
                out.append(_disagree(field, show(mine), show(theirs), "audit_chain",
                                     f"{field} berbeda dari catatan rantai audit",
                                     f"{field} differs from the audit chain's record"))
    expected = stored.arrived_at
    if stored.source == "gps" or (stored.source is None and not cancelled):
        expected = recomputed
        if recomputed is None and stored.source == "gps":
            out.append(_disagree("arrival_source", "gps", None, "positions",
                                 "Posisi tersimpan tidak menunjukkan kedatangan GPS",
                                 "the stored positions show no GPS arrival"))
        elif recomputed != stored.arrived_at:
            out.append(_disagree("arrived_at", iso_utc(stored.arrived_at), iso_utc(recomputed),
                                 "positions",
                                 "Waktu tiba berbeda dari hasil hitung ulang posisi tersimpan",
                                 "arrived_at differs from the arrival recomputed from the "
                                 "stored positions"))
    elif chained is not None:
        expected = chained.arrived_at
    if clock is not None and expected != stored.arrived_at:
        have = evaluate(clock.started_at, stored.arrived_at, clock.limit_min, now).status
        want = evaluate(clock.started_at, expected, clock.limit_min, now).status
        if have != want:
            out.append(_disagree("outcome", have, want, "positions" if stored.source != "manual"
                                 else "audit_chain", "Hasil SLA berbeda dari hasil hitung ulang",
                                 "the SLA outcome differs from the recomputed one"))
    return out


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _recorded_rule(evidence: dict | None) -> ArrivalRule | None:
    try:
        raw = evidence["properties"]["rule"]  # type: ignore[index]
        names = {f.name for f in fields(ArrivalRule)}
        return ArrivalRule(**{k: v for k, v in raw.items() if k in names})
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def chained_arrival(session: Session, assignment_id: int
                    ) -> tuple[ArrivalRecord | None, list[dict[str, Any]]]:
    """The last arrival the audit log records for the assignment, and chain problems of the
    arrival entries (not chained, or changed since they were chained)."""
    entries = audit.entries(session, [("assignment", assignment_id)], actions=ARRIVAL_ACTIONS)
    if not entries:
        return None, []
    ids = [e.id for e in entries]
    links = {link.audit_id: link for link in session.scalars(
        select(AuditChain).where(AuditChain.audit_id.in_(ids)))}
    problems = []
    for row in audit.entry_rows(session, ids):
        link = links.get(row["id"])
        if link is None:
            problems.append(_disagree("audit_entry", row["id"], None, "audit_chain",
                                      "Entri audit kedatangan tidak ada di rantai",
                                      "the arrival's audit entry is not in the chain"))
        elif link_hash(link.prev_hash, link.seq, row) != link.entry_hash:
            problems.append(_disagree("audit_entry", row["id"], link.seq, "audit_chain",
                                      "Entri audit kedatangan diubah setelah dirantai",
                                      "the arrival's audit entry was changed after chaining"))
    last = max(entries, key=lambda e: e.id)
    after = last.after or {}
    source = after.get("arrival_source") or ("gps" if last.action == "arrival_revised" else
                                             last.action.removeprefix("arrive:"))
    return ArrivalRecord(_parse(after.get("arrived_at")), source,
                         after.get("evidence_digest")), problems


def check_evidence(session: Session, a: Assignment, unit: Unit, incident: Incident, *,
                   config: DispatchConfig | None, now: datetime) -> dict[str, Any]:
    """The arrival recomputed and cross-checked; ``consistent`` is False on any disagreement."""
    rule = _recorded_rule(a.evidence) or rule_for(config, incident.category)
    target = point_of(incident.geom)
    recomputed = None
    if target is not None and unit.device_id:
        end = max(a.cleared_at or now, a.dispatched_at)
        track = fixes_between(session, unit.device_id, a.dispatched_at, end)
        found = detect_arrival(track, target, rule, since=a.dispatched_at)
        recomputed = None if found is None else found.arrived_at
    chained, problems = chained_arrival(session, a.id)
    ia = session.scalars(select(IncidentAgency).where(
        IncidentAgency.incident_id == a.incident_id,
        IncidentAgency.agency_id == a.agency_id)).first()
    clock = None if ia is None else SlaClock(ia.notified_at or a.dispatched_at, ia.on_scene_min)
    stored = ArrivalRecord(a.arrived_at, a.arrival_source, a.evidence_digest)
    digest_valid = None if a.evidence is None else evidence_digest(a.evidence) == a.evidence_digest
    found_issues = compare(stored, digest_valid=digest_valid, recomputed=recomputed,
                           chained=chained, chain_problems=problems, clock=clock, now=now,
                           cancelled=a.status == "cancelled")
    return {"consistent": not found_issues, "rule": {f.name: getattr(rule, f.name)
                                                     for f in fields(ArrivalRule)},
            "recomputed_arrived_at": iso_utc(recomputed),
            "audit": None if chained is None else {
                "arrived_at": iso_utc(chained.arrived_at), "arrival_source": chained.source,
                "evidence_digest": chained.digest},
            "disagreements": found_issues}
