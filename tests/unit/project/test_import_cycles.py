"""No circular imports anywhere in our packages.

The import graph is built statically with grimp (installed with import-linter), with every import
counted: module level, inside functions and under ``TYPE_CHECKING``. A cycle is a strongly
connected component of more than one module (or a module importing itself).
"""

from __future__ import annotations

from collections.abc import Iterable

import grimp
import pytest

PACKAGES = ("geo", "tracking", "dispatch", "api", "maps", "gps_firmware_bridge")
#: Packages with a known cycle, and the cycle. Strict: once the cycle is gone the test reports
#: XPASS as a failure, so the entry must be removed.
KNOWN_CYCLES: dict[str, str] = {}


def import_cycles(graph: grimp.ImportGraph, modules: Iterable[str]) -> list[list[str]]:
    """The import cycles among ``modules``: strongly connected components of two or more
    modules, or single modules that import themselves, each sorted (iterative Tarjan)."""
    inside = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(inside):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & inside)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child) & inside
                    work.append((child, iter(sorted(imported))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or graph.direct_import_exists(
                    importer=node, imported=node
                ):
                    cycles.append(sorted(component))
    return sorted(cycles)


@pytest.fixture(scope="module")
def project_graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    members = set(cycle)
    lines = []
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"  {importer}:{detail['line_number']} {detail['line_contents']}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "package",
    [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_CYCLES[p]))
        if p in KNOWN_CYCLES else p
        for p in PACKAGES
    ],
)
def test_no_import_cycles(project_graph: grimp.ImportGraph, package: str) -> None:
    cycles = [
        c for c in import_cycles(project_graph, project_graph.modules)
        if any(m == package or m.startswith(package + ".") for m in c)
    ]
    report = "\n\n".join(_describe(project_graph, c) for c in cycles)
    assert not cycles, f"import cycles through {package}:\n{report}"


def test_the_graph_covers_every_package(project_graph: grimp.ImportGraph) -> None:
    for package in PACKAGES:
        assert project_graph.find_children(package), package
    assert "geo.routing.index" in project_graph.modules
    assert project_graph.direct_import_exists(
        importer="geo.routing.index", imported="geo.routing.dijkstra"
    )


def _graph(edges: list[tuple[str, str]]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in edges:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    return graph


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    graph = _graph(
        [
            ("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"),  # a three-module ring
            ("p.c", "p.d"), ("p.d", "p.e"),  # a chain hanging off it: no cycle
            ("p.f", "p.g"), ("p.g", "p.f"),  # a pair
            ("p.h", "p.h"),  # a module importing itself
            ("p.i", "p.a"),  # imports into a cycle: not part of it
        ]
    )
    assert import_cycles(graph, graph.modules) == [
        ["p.a", "p.b", "p.c"], ["p.f", "p.g"], ["p.h"],
    ]
    # restricted to some modules, a cycle through a module left out is not one
    assert import_cycles(graph, {"p.a", "p.b", "p.d", "p.e", "p.f", "p.g"}) == [["p.f", "p.g"]]


def test_the_cycle_finder_on_a_long_chain() -> None:
    """Deep graphs do not hit the recursion limit (the finder is iterative)."""
    n = 5000
    chain = [(f"p.m{i}", f"p.m{i + 1}") for i in range(n)]
    assert import_cycles(_graph(chain), [f"p.m{i}" for i in range(n + 1)]) == []
    looped = _graph([*chain, (f"p.m{n}", "p.m0")])
    assert [len(c) for c in import_cycles(looped, looped.modules)] == [n + 1]
