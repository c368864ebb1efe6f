"""No private names cross module boundaries: ``from m import _name`` reaches into another
module's internals, and a private module (``geo._grid``, ``api.commands._common``) is imported
only by the modules of its own package (and below it). Checked statically over our packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = ("geo", "tracking", "dispatch", "api", "maps", "gps_firmware_bridge")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module ``node`` imports from, with a relative import resolved against ``importer``."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """``line: what`` of every private name imported from another module, and of every private
    module imported from outside its package."""
    importer = _module_name(path, root)
    is_package = path.name == "__init__.py"
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(importer, is_package, node)
            found += [f"{node.lineno}: {module}.{a.name}" for a in node.names
                      if _private(a.name) and module != importer]
            modules = [module]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            for i, part in enumerate(parts):
                owner = ".".join(parts[:i])  # the package the private module belongs to
                if _private(part) and not (importer == owner
                                           or importer.startswith(owner + ".")):
                    found.append(f"{node.lineno}: {module}")
                    break
    return found


@pytest.mark.parametrize("package", OURS)
def test_no_private_imports_across_modules(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in sorted((ROOT / package).rglob("*.py"))
        if (hits := private_imports(p))
    }
    assert not offenders, offenders


def test_the_checker_sees_private_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "geo"
    (pkg / "routing").mkdir(parents=True)
    (pkg / "routing" / "store.py").write_text(
        "from geo.routing.index import _snap, RoutingIndex\n"  # a private name: flagged
        "from geo._grid import Grid\n"  # a private module of geo, imported inside geo: fine
        "from ._cache import entry\n"  # a private sibling module: fine
        "from .index import _helper\n"  # a private name through a relative import: flagged
        "from geo.routing.store import _own\n",  # the module's own private name: fine
        encoding="utf-8")
    (pkg / "routing" / "__init__.py").write_text("from ._cache import entry\n", encoding="utf-8")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "routes.py").write_text(
        "import geo._grid\nfrom geo._grid import Grid\nfrom geo.routing import _cache\n",
        encoding="utf-8")
    assert private_imports(pkg / "routing" / "store.py", tmp_path) == [
        "1: geo.routing.index._snap", "4: geo.routing.index._helper"]
    assert private_imports(pkg / "routing" / "__init__.py", tmp_path) == []
    assert private_imports(tmp_path / "api" / "routes.py", tmp_path) == [
        "1: geo._grid", "2: geo._grid", "3: geo.routing._cache"]
