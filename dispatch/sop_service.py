"""SOP checklists: the regency's steps per (category, agency) stored in ``sop_step``, imported
and exported whole as a document (:mod:`dispatch.sop`), and the steps ticked on an incident.

A regency that has imported no SOP of its own uses the shipped default set
(``dispatch/data/sop_default.yaml``). Functions never commit; writes are audited.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.config import DispatchConfig
from dispatch.events import DomainEvent, Outcome
from dispatch.exceptions import DispatchError, IllegalTransition
from dispatch.incident_records import get_incident, incident_agencies, utcnow
from dispatch.models import Agency
from dispatch.panel_models import SopCheck, SopStepRow
from dispatch.scope import Scope
from dispatch.scoping import check_region
from dispatch.sop import (
    ChecklistItem,
    SopError,
    SopStep,
    Tick,
    as_document,
    checklist,
    may_tick,
    parse_document,
)
from dispatch.timestamp import iso_utc

DEFAULT_SOP_PATH = Path(__file__).with_name("data") / "sop_default.yaml"


class SopStepRefused(DispatchError):
    """An agency desk tried to tick another agency's step (HTTP 403)."""


@cache
def default_steps() -> tuple[SopStep, ...]:
    """The shipped default SOP set (read once)."""
    _, steps = parse_document(yaml.safe_load(DEFAULT_SOP_PATH.read_text(encoding="utf-8")))
    return steps


def _stored(session: Session, kode_kab: str) -> tuple[SopStep, ...]:
    rows = session.scalars(select(SopStepRow).where(SopStepRow.kode_kab == kode_kab)
                           .order_by(SopStepRow.category, SopStepRow.agency_code,
                                     SopStepRow.step_no))
    return tuple(SopStep(r.category, r.agency_code, r.step_no, r.text, r.text_en) for r in rows)


def regency_steps(session: Session, kode_kab: str) -> tuple[tuple[SopStep, ...], str]:
    """``(steps, source)``: the regency's own SOP (``"regency"``) or the default
    (``"default"``)."""
    stored = _stored(session, kode_kab)
    return (stored, "regency") if stored else (default_steps(), "default")


def export_document(session: Session, kode_kab: str, *,
                    scope: Scope) -> dict[str, Any]:
    """The regency's SOP (its own, else the default set) as a document for its region."""
    check_region(kode_kab, scope)
    steps, _ = regency_steps(session, kode_kab)
    return as_document(kode_kab, steps)


def import_document(session: Session, doc: Any, *, kode_kab: str, config: DispatchConfig,
                    actor: str, now: datetime | None = None,
                    scope: Scope) -> tuple[SopStep, ...]:
    """Replace the regency's SOP by ``doc``, validated whole against the categories of the
    configuration and the regency's agencies (:class:`SopError` lists every problem; nothing
    is stored then). Ticks already made on incidents are kept."""
    now = now or utcnow()
    check_region(kode_kab, scope)
    agencies = set(session.scalars(select(Agency.code).where(Agency.kode_kab == kode_kab)))
    named, steps = parse_document(doc, categories=set(config.categories), agencies=agencies)
    if named is not None and named != kode_kab:
        raise SopError([f"kode_kab {named} bukan {kode_kab} / the document is for {named}"])
    before = len(_stored(session, kode_kab))
    session.execute(delete(SopStepRow).where(SopStepRow.kode_kab == kode_kab))
    session.add_all([SopStepRow(kode_kab=kode_kab, category=s.category, agency_code=s.agency,
                                step_no=s.step_no, text=s.text, text_en=s.text_en)
                     for s in steps])
    session.flush()
    audit.record(session, actor=actor, at=now, entity="sop", entity_id=None,
                 action="sop_import", before={"steps": before},
                 after={"steps": len(steps), "sops": len({(s.category, s.agency)
                                                          for s in steps})},
                 kode_kab=kode_kab)
    return steps


def _ticks(session: Session, incident_id: int) -> list[Tick]:
    rows = session.scalars(select(SopCheck).where(SopCheck.incident_id == incident_id))
    return [Tick(r.category, r.agency_code, r.step_no, r.checked_by, r.checked_at) for r in rows]


def incident_checklist(session: Session, incident_id: int, *,
                       scope: Scope) -> tuple[Any, list[ChecklistItem]]:
    """``(incident, items)``: the SOP steps of the incident's category for its agencies."""
    incident = get_incident(session, incident_id, scope=scope)
    steps, _ = regency_steps(session, incident.kode_kab)
    codes = [a.code for _, a in incident_agencies(session, incident.id)]
    return incident, checklist(steps, incident.category, codes, _ticks(session, incident.id))


def _own_step(session: Session, incident_id: int, *, agency: str, step_no: int,
              scope: Scope) -> tuple[Any, ChecklistItem]:
    """The incident (locked) and its checklist item ``agency``/``step_no``, which the caller
    may tick or untick (:class:`SopError` when not on the list, :class:`SopStepRefused` when
    another agency's)."""
    incident = get_incident(session, incident_id, lock=True, scope=scope)
    _, items = incident_checklist(session, incident.id, scope=scope)
    item = next((i for i in items if (i.step.agency, i.step.step_no) == (agency, step_no)), None)
    if item is None:
        raise SopError([f"langkah {agency}/{step_no} tidak ada di daftar SOP kejadian ini / "
                        f"step {agency}/{step_no} is not on this incident's checklist"])
    if not may_tick(agency, scope.agency_code):
        raise SopStepRefused(f"Hanya langkah instansi sendiri / only your own agency's steps "
                             f"({scope.agency_code}), not {agency}.")
    return incident, item


def tick_step(session: Session, incident_id: int, *, agency: str, step_no: int, actor: str,
              now: datetime | None = None,
              scope: Scope) -> Outcome[ChecklistItem]:
    """Tick one step of the incident's checklist (audited). A dispatcher ticks any step, an
    agency desk only its own agency's (:class:`SopStepRefused` otherwise); a step is ticked
    once (:class:`IllegalTransition` the second time)."""
    now = now or utcnow()
    incident, item = _own_step(session, incident_id, agency=agency, step_no=step_no, scope=scope)
    if item.done:
        raise IllegalTransition("sop_step", "checked", "checked")
    s = item.step
    session.add(SopCheck(kode_kab=incident.kode_kab, incident_id=incident.id,
                         category=s.category, agency_code=s.agency, step_no=s.step_no,
                         text=s.text, checked_by=actor, checked_at=now))
    session.flush()
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="sop_check", before=None,
                 after={"category": s.category, "agency": s.agency, "step_no": s.step_no,
                        "text": s.text, "text_en": s.text_en},
                 kode_kab=incident.kode_kab)
    tick = Tick(s.category, s.agency, s.step_no, actor, now)
    return Outcome(ChecklistItem(s, tick), [DomainEvent("incident", {
        "action": "sop_check", "incident_id": incident.id, "kode_kab": incident.kode_kab,
        "agency": s.agency, "step_no": s.step_no})])


def untick_step(session: Session, incident_id: int, *, agency: str, step_no: int, actor: str,
                now: datetime | None = None, scope: Scope) -> Outcome[ChecklistItem]:
    """Undo the tick of one step (a step ticked by mistake): the same who-may rule as
    :func:`tick_step`; a step not ticked is :class:`IllegalTransition`. The tick and its undoing
    both stay in the audit trail (and the timeline): who ticked it, when, and who undid it."""
    now = now or utcnow()
    incident, item = _own_step(session, incident_id, agency=agency, step_no=step_no, scope=scope)
    if item.tick is None:
        raise IllegalTransition("sop_step", "unchecked", "unchecked")
    s, t = item.step, item.tick
    session.execute(delete(SopCheck).where(
        SopCheck.incident_id == incident.id, SopCheck.category == t.category,
        SopCheck.agency_code == t.agency, SopCheck.step_no == t.step_no))
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="sop_uncheck",
                 before={"category": t.category, "agency": t.agency, "step_no": t.step_no,
                         "checked_by": t.checked_by, "checked_at": iso_utc(t.checked_at)},
                 after={"category": s.category, "agency": s.agency, "step_no": s.step_no,
                        "text": s.text, "text_en": s.text_en},
                 kode_kab=incident.kode_kab)
    return Outcome(ChecklistItem(s, None), [DomainEvent("incident", {
        "action": "sop_uncheck", "incident_id": incident.id, "kode_kab": incident.kode_kab,
        "agency": s.agency, "step_no": s.step_no})])
