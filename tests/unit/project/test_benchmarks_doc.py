"""Every benchmark script owns exactly one section of BENCHMARKS.md, so one cannot erase another.

A section is a level-2 heading naming its script, e.g. ``## Ingest (`benchmarks/ingest.py`)``.
Removing a section, or adding a benchmark without recording its figures, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEADING = re.compile(r"^## .*\(`benchmarks/(?P<script>[a-z0-9_]+\.py)`\)\s*$", re.MULTILINE)


def _scripts() -> set[str]:
    return {p.name for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_")}


def _sections() -> list[str]:
    return HEADING.findall((ROOT / "BENCHMARKS.md").read_text(encoding="utf-8"))


def test_every_benchmark_script_has_its_own_section() -> None:
    missing = _scripts() - set(_sections())
    assert not missing, f"BENCHMARKS.md has no section for {sorted(missing)}"


def test_no_section_is_written_twice_or_orphaned() -> None:
    sections = _sections()
    duplicated = {s for s in sections if sections.count(s) > 1}
    assert not duplicated, f"sections written twice: {sorted(duplicated)}"
    orphaned = set(sections) - _scripts()
    assert not orphaned, f"sections without a script: {sorted(orphaned)}"


def test_each_section_gives_a_command_and_figures() -> None:
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    starts = [m.start() for m in HEADING.finditer(text)] + [len(text)]
    for begin, end in zip(starts, starts[1:], strict=False):
        body = text[begin:end]
        script = HEADING.match(body)["script"]  # type: ignore[index]
        assert f"benchmarks/{script}" in body.split("\n", 1)[1], f"{script}: no command"
        assert re.search(r"^\|.*\|\s*$", body, re.MULTILINE), f"{script}: no table of figures"
