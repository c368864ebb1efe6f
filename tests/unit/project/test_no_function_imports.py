"""Domain code imports our own packages at module level only: an import hidden in a function
hides a dependency (and used to hide the ``dispatch.service`` cycle) from the import graph."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = ("geo", "tracking", "dispatch", "api", "maps", "gps_firmware_bridge")
#: Domain packages held to the rule.
DOMAIN = ("dispatch", "maps")


def _function_imports(path: Path) -> list[str]:
    """``line: module`` of every import of our packages inside a function or method."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [f"{node.lineno}: {n}" for n in names if n.split(".")[0] in OURS]
    return found


@pytest.mark.parametrize("package", DOMAIN)
def test_no_imports_of_our_packages_inside_functions(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in sorted((ROOT / package).rglob("*.py"))
        if (hits := _function_imports(p))
    }
    assert not offenders, offenders


def test_the_checker_sees_a_function_level_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from dispatch.service import utcnow\n"
                      "    import json\n    return utcnow, json, os\n", encoding="utf-8")
    assert _function_imports(module) == ["4: dispatch.service"]
