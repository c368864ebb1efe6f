"""The shape of the ``geo`` package: small modules, algorithms that take the graph as input."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[3] / "geo"
MAX_LINES = 400
#: The routing algorithms: they take a RoadGraph (plain data) and never the facade.
ALGORITHMS = ("dijkstra", "table", "path", "isochrone", "snap", "graph", "chains", "pendant")


def _modules() -> list[Path]:
    return sorted(GEO.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(GEO.parent)))
def test_geo_modules_stay_under_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(GEO.parent)} has {lines} lines"


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("name", ALGORITHMS)
def test_routing_algorithms_do_not_import_the_facade(name: str) -> None:
    assert "geo.routing.index" not in _imported(GEO / "routing" / f"{name}.py")


def test_search_does_not_import_the_geocoder() -> None:
    assert "geo.geocode" not in _imported(GEO / "search.py")
