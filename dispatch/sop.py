"""Standard operating procedures (SOP) per incident category and agency: the document format,
which checklist applies to an incident, and how far it has got. Pure: no I/O.

A regency's SOP is a YAML/JSON document::

    kode_kab: "34.71"            # optional in a template (the shipped default set)
    sops:
      - category: landslide
        agency: PUPR
        steps:
          - id: Kirim alat berat (ekskavator) ke lokasi
            en: Send heavy equipment (excavator) to the scene
          - Pasang rambu dan batas aman   # a plain string: Bahasa Indonesia only

Steps are numbered from 1 in the order given; a step is known by
``(category, agency, step_no)``. The checklist of an incident is the steps of its category for
each of its agencies, in the order of its agencies.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.exceptions import DispatchValidationError

#: Limits of one document (a regency's whole SOP).
MAX_SOPS, MAX_STEPS, MAX_TEXT = 500, 50, 500
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_CATEGORY = re.compile(r"^[a-z0-9_]{1,48}$")
_KODE_KAB = re.compile(r"^\d{2}\.\d{2}$")


class SopError(DispatchValidationError):
    """An SOP document is invalid; ``problems`` lists every problem found (nothing stored)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("SOP tidak valid, tidak ada yang disimpan / invalid SOP, nothing was "
                         "stored: " + "; ".join(self.problems))


@dataclass(frozen=True)
class SopStep:
    """One step of the checklist of ``agency`` for incidents of ``category``."""

    category: str
    agency: str
    step_no: int
    text: str
    text_en: str = ""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.category, self.agency, self.step_no)


@dataclass(frozen=True)
class Tick:
    """A step ticked on an incident: by whom and when (aware UTC)."""

    category: str
    agency: str
    step_no: int
    checked_by: str
    checked_at: datetime

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.category, self.agency, self.step_no)


@dataclass(frozen=True)
class ChecklistItem:
    step: SopStep
    tick: Tick | None = None

    @property
    def done(self) -> bool:
        return self.tick is not None


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


def _text(value: Any, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: teks kosong / empty text")
        return ""
    if len(value) > MAX_TEXT:
        problems.append(f"{where}: lebih dari {MAX_TEXT} karakter / longer than {MAX_TEXT}")
    return value.strip()


def _steps(category: str, agency: str, raw: Any, where: str,
           problems: list[str]) -> list[SopStep]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}.steps: daftar langkah wajib / a non-empty list of steps")
        return []
    if len(raw) > MAX_STEPS:
        problems.append(f"{where}.steps: lebih dari {MAX_STEPS} langkah / over {MAX_STEPS}")
    out = []
    for n, step in enumerate(raw[:MAX_STEPS], start=1):
        at = f"{where}.steps[{n}]"
        if isinstance(step, Mapping):
            unknown = sorted(set(map(str, step)) - {"id", "en"})
            if unknown:
                problems.append(f"{at}: kunci tak dikenal / unknown keys {unknown}")
            text = _text(step.get("id"), f"{at}.id", problems)
            en = step.get("en", "")
            en = _text(en, f"{at}.en", problems) if en not in ("", None) else ""
        else:
            text, en = _text(step, at, problems), ""
        out.append(SopStep(category, agency, n, text, en))
    return out


def parse_document(doc: Any, *, categories: Collection[str] | None = None,
                   agencies: Collection[str] | None = None) -> tuple[str | None,
                                                                     tuple[SopStep, ...]]:
    """``(kode_kab or None, steps)`` of an SOP document, checked whole.

    ``categories`` and ``agencies`` (when given) are the codes the regency knows. Raises
    :class:`SopError` listing every problem; never anything else, whatever ``doc`` is.
    """
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise SopError(["dokumen harus berupa objek / the document must be a mapping"])
    unknown = sorted(set(map(str, doc)) - {"kode_kab", "sops"})
    if unknown:
        problems.append(f"kunci tak dikenal / unknown keys {unknown}")
    kode_kab = doc.get("kode_kab")
    if kode_kab is not None and not (isinstance(kode_kab, str) and _KODE_KAB.match(kode_kab)):
        problems.append("kode_kab: format 00.00 / must look like 34.71")
        kode_kab = None
    sops = doc.get("sops")
    if not isinstance(sops, list):
        raise SopError([*problems, "sops: daftar wajib / a list is required"])
    if len(sops) > MAX_SOPS:
        problems.append(f"sops: lebih dari {MAX_SOPS} / more than {MAX_SOPS}")
    steps: list[SopStep] = []
    seen: set[tuple[str, str]] = set()
    for n, sop in enumerate(sops[:MAX_SOPS], start=1):
        where = f"sops[{n}]"
        if not isinstance(sop, Mapping):
            problems.append(f"{where}: harus berupa objek / must be a mapping")
            continue
        unknown = sorted(set(map(str, sop)) - {"category", "agency", "steps"})
        if unknown:
            problems.append(f"{where}: kunci tak dikenal / unknown keys {unknown}")
        category, agency = sop.get("category"), sop.get("agency")
        if not (isinstance(category, str) and _CATEGORY.match(category)):
            problems.append(f"{where}.category: kode kategori / a category code")
            continue
        if categories is not None and category not in categories:
            problems.append(f"{where}.category: kategori tak dikenal / unknown category "
                            f"{category!r}")
        if not (isinstance(agency, str) and _CODE.match(agency)):
            problems.append(f"{where}.agency: kode OPD / an agency code")
            continue
        if agencies is not None and agency not in agencies:
            problems.append(f"{where}.agency: OPD tak dikenal di wilayah ini / unknown agency "
                            f"{agency!r}")
        if (category, agency) in seen:
            problems.append(f"{where}: {category}/{agency} ganda / given twice")
        seen.add((category, agency))
        steps += _steps(category, agency, sop.get("steps"), where, problems)
    if problems:
        raise SopError(problems)
    return (kode_kab if isinstance(kode_kab, str) else None), tuple(steps)


def as_document(kode_kab: str | None, steps: Iterable[SopStep]) -> dict[str, Any]:
    """The document :func:`parse_document` reads back to the same steps."""
    groups: dict[tuple[str, str], list[SopStep]] = {}
    for s in sorted(steps, key=lambda s: s.key):
        groups.setdefault((s.category, s.agency), []).append(s)
    sops = [{"category": c, "agency": a,
             "steps": [{"id": s.text, "en": s.text_en} if s.text_en else s.text for s in ss]}
            for (c, a), ss in groups.items()]
    doc: dict[str, Any] = {} if kode_kab is None else {"kode_kab": kode_kab}
    return doc | {"sops": sops}


def checklist(steps: Iterable[SopStep], category: str, agencies: Sequence[str],
              ticks: Iterable[Tick] = ()) -> list[ChecklistItem]:
    """The steps that apply to an incident of ``category`` with ``agencies`` (in that order,
    each agency's steps by number), each with its tick if any. Ticks of steps no longer in the
    SOP are not listed here (the timeline keeps them)."""
    order = {a: i for i, a in enumerate(dict.fromkeys(agencies))}
    done = {t.key: t for t in ticks}
    chosen = [s for s in steps if s.category == category and s.agency in order]
    chosen.sort(key=lambda s: (order[s.agency], s.step_no))
    return [ChecklistItem(s, done.get(s.key)) for s in chosen]


def progress(items: Iterable[ChecklistItem]) -> Progress:
    """How many of the checklist's steps are done."""
    items = list(items)
    return Progress(sum(1 for i in items if i.done), len(items))


def may_tick(step_agency: str, desk_agency: str | None) -> bool:
    """A dispatcher (no desk agency) ticks any step; an agency desk only its own agency's."""
    return desk_agency is None or desk_agency == step_agency
