"""One incident's whole story as one list sorted by time: the call, triage, edits, notes,
status changes, assignments and their steps, agency acknowledgements and hand-offs, standby-line
notifications, SOP steps ticked and any other audit entry.

Each item is ``{"kind", "at", "actor", "text", "text_en", "ref"}``: ``kind`` one of
:data:`KINDS`, ``text`` in Bahasa Indonesia and ``text_en`` in English, ``ref`` what it is about
(``"assignment:12"``). Reading only; never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.incident_records import get_incident, incident_agencies
from dispatch.models import Assignment, AuditLog, Unit
from dispatch.notification_models import Notification
from dispatch.panel_models import IncidentNote
from dispatch.scope import Scope

KINDS = ("call", "triage", "edit", "note", "status", "assignment", "agency", "handoff",
         "notification", "sop", "audit")
_STEP = {"assign": ("ditugaskan", "dispatched"), "acknowledge": ("menerima tugas", "acknowledged"),
         "depart": ("berangkat", "departed"), "arrive": ("tiba di lokasi", "arrived"),
         "arrival_revised": ("waktu tiba direvisi (GPS)", "arrival revised (GPS)"),
         "clear": ("selesai", "cleared"), "cancel": ("dibatalkan", "cancelled")}
_FIELD = {"location": ("lokasi", "location"), "category": ("kategori", "category"),
          "description": ("uraian", "description")}


def _item(kind: str, at: datetime, actor: str | None, text: str, text_en: str,
          ref: str) -> dict[str, Any]:
    return {"kind": kind, "at": at, "actor": actor or "", "text": text, "text_en": text_en,
            "ref": ref}


def _place(state: dict[str, Any] | None) -> str:
    s = state or {}
    if s.get("lat") is None:
        return "-"
    name = s.get("nama_desa") or s.get("place_text") or ""
    return f"{name} ({s['lat']:.5f}, {s['lon']:.5f})".strip()


def _incident_entry(e: AuditLog) -> tuple[str, str, str]:
    after, before = e.after or {}, e.before or {}
    action, _, q = e.action.partition(":")
    if action == "create":
        return "call", "Panggilan diterima, kejadian dibuat", "Call received, incident created"
    if action in ("triage", "triage_override"):
        agencies = ", ".join(a[0] for a in after.get("agencies", []) if a)
        text = f"Triase: prioritas {after.get('priority')}, OPD {agencies}"
        text_en = f"Triage: priority {after.get('priority')}, agencies {agencies}"
        if action == "triage_override":
            reason = after.get("override_reason", "")
            text, text_en = (f"{text} (diubah dispatcher: {reason})",
                             f"{text_en} (dispatcher override: {reason})")
        elif after.get("rerun_reason"):  # "<Bahasa Indonesia> / <English>"
            why_id, _, why_en = str(after["rerun_reason"]).partition(" / ")
            text, text_en = f"{text} ({why_id})", f"{text_en} ({why_en or why_id})"
        return "triage", text, text_en
    if action == "edit":
        if q == "location":
            old, new = _place(before), _place(after)
        else:
            old, new = str(before.get(q, "")), str(after.get(q, ""))
        name, name_en = _FIELD.get(q, (q, q))
        return "edit", f"{name.capitalize()} diubah: {old} → {new}", \
            f"{name_en.capitalize()} changed: {old} → {new}"
    if action == "status":
        reason = after.get("reason")
        tail = f" — {reason}" if reason else ""
        return "status", f"Status: {q}{tail}", f"Status: {q}{tail}"
    if action == "sop_check":
        return ("sop", f"SOP {after.get('agency')} langkah {after.get('step_no')} selesai: "
                       f"{after.get('text')}",
                f"SOP {after.get('agency')} step {after.get('step_no')} done: "
                f"{after.get('text_en') or after.get('text')}")
    if action == "sop_uncheck":
        who = before.get("checked_by") or ""
        return ("sop", f"SOP {after.get('agency')} langkah {after.get('step_no')} dibatalkan "
                       f"(dicentang {who}): {after.get('text')}",
                f"SOP {after.get('agency')} step {after.get('step_no')} undone "
                f"(ticked by {who}): {after.get('text_en') or after.get('text')}")
    return "audit", e.action, e.action


def _agency_entry(e: AuditLog, code: str) -> tuple[str, str, str]:
    after = e.after or {}
    if e.action == "handoff":
        ref = after.get("handoff_ref") or ""
        return "handoff", f"Diserahkan ke {code}, nomor referensi {ref}", \
            f"Handed off to {code}, reference {ref}"
    if e.action == "acknowledge":
        return "agency", f"{code} menerima kejadian", f"{code} acknowledged the incident"
    if e.action.startswith("escalat"):
        return "agency", f"{code}: eskalasi ({e.action})", f"{code}: escalation ({e.action})"
    return "agency", f"{code}: {e.action}", f"{code}: {e.action}"


def incident_timeline(session: Session, incident_id: int, *,
                      scope: Scope) -> list[dict[str, Any]]:
    """Every event of the incident, oldest first (the incident must be visible to ``scope``;
    an agency desk sees the whole story of an incident its agency takes part in)."""
    incident = get_incident(session, incident_id, scope=scope)
    ia_code = {ia.id: a.code for ia, a in incident_agencies(session, incident.id)}
    agency_code = {a.id: a.code for _, a in incident_agencies(session, incident.id)}
    signs = {r[0]: r[1] for r in session.execute(
        select(Assignment.id, Unit.call_sign).join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.incident_id == incident.id))}
    notes = list(session.scalars(select(IncidentNote).where(
        IncidentNote.incident_id == incident.id)))
    refs = ([("incident", incident.id)] + [("incident_agency", i) for i in ia_code]
            + [("assignment", i) for i in signs])
    items = []
    for e in audit.entries(session, refs):
        if e.entity == "incident":
            kind, text, text_en = _incident_entry(e)
        elif e.entity == "incident_agency":
            kind, text, text_en = _agency_entry(e, ia_code.get(e.entity_id or 0, "?"))
        else:
            sign = signs.get(e.entity_id or 0, f"#{e.entity_id}")
            base = e.action.partition(":")[0]
            word, word_en = _STEP.get(base, (e.action, e.action))
            gps = " (GPS)" if e.action.endswith(":gps") else ""
            kind, text, text_en = "assignment", f"{sign} {word}{gps}", f"{sign} {word_en}{gps}"
        items.append(_item(kind, e.at, e.actor, text, text_en, f"{e.entity}:{e.entity_id}"))
    for n in notes:
        items.append(_item("note", n.created_at, n.author, f"Catatan: {n.body}",
                           f"Note: {n.body}", f"note:{n.id}"))
    for m in session.scalars(select(Notification).where(
            Notification.incident_id == incident.id)):
        code = agency_code.get(m.agency_id, "?")
        at = m.sent_at or m.created_at
        word, word_en = {"sent": ("terkirim", "sent"), "failed": ("gagal", "failed")}.get(
            m.status, ("menunggu", "pending"))
        items.append(_item("notification", at, "sistem", f"Pemberitahuan ke {code} ({m.kind}): "
                           f"{word}", f"Notification to {code} ({m.kind}): {word_en}",
                           f"notification:{m.id}"))
    items.sort(key=lambda i: i["at"])  # stable: audit order kept within one instant
    return items
