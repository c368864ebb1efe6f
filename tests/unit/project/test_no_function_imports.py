"""Domain code imports our own packages at module level only: an import hidden in a function
hides a dependency (and used to hide the incident service's cycle) from the import graph."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = ("geo", "tracking", "dispatch", "api", "maps", "gps_firmware_bridge")
#: Domain packages held to the rule.
DOMAIN = ("dispatch", "geo", "tracking", "maps")
#: (file, module) → why that import stays inside a function. Strict: an entry whose import is
#: gone fails the test, so the list only shrinks.
ALLOWED: dict[tuple[str, str], str] = {
    ("geo/routing/store.py", "geo.routing.build"):
        "only build_networks compiles a roads file: importing geo.routing.build (networkx, "
        "osmnx) there keeps them out of every process that only loads compiled indexes (API, "
        "worker)",
}


def _function_imports(path: Path) -> list[str]:
    """``line: module`` of every import of our packages inside a function or method (none of
    the ``ALLOWED`` ones)."""
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
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
            found += [f"{node.lineno}: {n}" for n in names
                      if n.split(".")[0] in OURS and (rel, n) not in ALLOWED]
    return found


@pytest.mark.parametrize("package", DOMAIN)
def test_no_imports_of_our_packages_inside_functions(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in sorted((ROOT / package).rglob("*.py"))
        if (hits := _function_imports(p))
    }
    assert not offenders, offenders


def test_every_allowed_import_is_still_there() -> None:
    for (file, module), reason in ALLOWED.items():
        assert reason
        tree = ast.parse((ROOT / file).read_text(encoding="utf-8"))
        inside = [node for fn in ast.walk(tree)
                  if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                  for node in ast.walk(fn)
                  if isinstance(node, ast.ImportFrom) and node.module == module]
        assert inside, f"{file} no longer imports {module} in a function: drop it from ALLOWED"


def test_the_checker_sees_a_function_level_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from dispatch.incident_service import utcnow\n"
                      "    import json\n    return utcnow, json, os\n", encoding="utf-8")
    assert _function_imports(module) == ["4: dispatch.incident_service"]
