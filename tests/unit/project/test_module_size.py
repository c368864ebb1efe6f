"""No Python module of the repository is over 400 lines (packages, tests, benchmarks, scripts,
migrations): a module that grows past it is split by responsibility.

Only generated or vendored files may be listed in :data:`EXEMPT` (none today). A module being
split by the engineer who owns it may sit in :data:`BEING_SPLIT` for a while: its test is then a
strict expected failure, so it reminds until the split lands and fails once the entry is stale.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MAX_LINES = 400
#: Directories that are not our source (virtualenv, state, caches, build output).
SKIP_DIRS = frozenset({".venv", ".siaga", ".git", "node_modules", "build", "dist", "__pycache__",
                       ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
                       "siaga.egg-info"})
#: Generated or vendored files (path relative to the repository) -> why they may be longer.
EXEMPT: dict[str, str] = {}
#: Modules over the limit whose split is under way -> who splits it.
BEING_SPLIT: dict[str, str] = {}


def _modules() -> list[Path]:
    out = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        out += [(Path(folder) / f).relative_to(ROOT) for f in files if f.endswith(".py")]
    return sorted(out)


def _lines(rel: Path) -> int:
    return len((ROOT / rel).read_text(encoding="utf-8").splitlines())


def _case(rel: Path):
    name = rel.as_posix()
    if name in BEING_SPLIT:
        return pytest.param(rel, id=name, marks=pytest.mark.xfail(
            strict=True, reason=f"over {MAX_LINES} lines: {BEING_SPLIT[name]}"))
    return pytest.param(rel, id=name)


@pytest.mark.parametrize("rel", [_case(r) for r in _modules() if r.as_posix() not in EXEMPT])
def test_module_stays_under_the_size_limit(rel: Path) -> None:
    lines = _lines(rel)
    assert lines <= MAX_LINES, f"{rel} has {lines} lines (limit {MAX_LINES}): split it"


def test_the_walk_sees_the_whole_tree() -> None:
    found = {r.parts[0] for r in _modules()}
    assert {"api", "dispatch", "geo", "maps", "tracking", "gps_firmware_bridge", "tests",
            "benchmarks", "alembic"} <= found


def test_exemptions_name_existing_files() -> None:
    for name in [*EXEMPT, *BEING_SPLIT]:
        assert (ROOT / name).is_file(), f"stale entry {name}"
