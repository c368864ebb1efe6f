"""No service function of ``dispatch`` or ``api.auth`` gives its tenancy ``scope`` a default.

A default (``scope: Scope = EVERYTHING``) lets a caller that forgets the argument read and write
every regency of the installation; a required keyword makes it a ``TypeError`` instead. Internal
jobs and the operator's CLI pass ``EVERYTHING`` explicitly.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROOTS = (REPO / "dispatch", REPO / "api" / "auth")


def defaulted_scopes(source: str) -> list[tuple[str, int]]:
    """(function, line) of every function whose parameter ``scope`` has a default value."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        args = node.args
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        pairs = list(zip(positional, defaults, strict=True))
        pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
        name = getattr(node, "name", "<lambda>")
        found += [(name, node.lineno) for arg, default in pairs
                  if arg.arg == "scope" and default is not None]
    return found


def test_the_check_sees_every_kind_of_default() -> None:
    source = ("def a(s, *, scope=EVERYTHING): ...\n"
              "def b(s, scope=None): ...\n"
              "async def c(*, scope: Scope = Scope.everything()): ...\n"
              "def d(s, *, scope: Scope, lock=False): ...\n"
              "e = lambda scope=None: scope\n")
    assert [name for name, _ in defaulted_scopes(source)] == ["a", "b", "c", "<lambda>"]


def test_no_service_function_defaults_its_scope() -> None:
    files = sorted(p for root in ROOTS for p in root.rglob("*.py"))
    assert any(p.name == "service.py" for p in files)
    offenders = [f"{p.relative_to(REPO)}:{line} {name}()"
                 for p in files for name, line in defaulted_scopes(p.read_text(encoding="utf-8"))]
    assert offenders == [], ("scope must be a required keyword argument (pass EVERYTHING "
                             "explicitly in internal jobs and CLI commands): "
                             + ", ".join(offenders))
