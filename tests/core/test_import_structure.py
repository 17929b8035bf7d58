"""The layer contract (``lint-imports``) forbids upward imports; these check what it does not: no cycle
between any two packages or top-level modules of ``handoff`` (``handoff.workflows`` counted module by
module, as the contract orders them), and no import inside a function unless it is a lazy load with its
reason written in the ``noqa`` comment (never a way around a cycle)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2] / "handoff"
_REASON = re.compile(r"#\s*noqa: PLC0415 \(\S.*\)")


def _unit(module: str) -> str:
    parts = module.split(".")
    depth = 3 if parts[:2] == ["handoff", "workflows"] else 2
    return ".".join(parts[:depth])


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in stack:
            return [*stack[stack.index(node):], node]
        if node in done:
            return None
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            found = visit(nxt)
            if found:
                return found
        stack.pop()
        done.add(node)
        return None

    for start in sorted(edges):
        found = visit(start)
        if found:
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    graph = grimp.build_graph("handoff")
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _unit(module), _unit(imported)
            if a != b and a != "handoff" and b != "handoff":
                edges.setdefault(a, set()).add(b)
    assert _cycle(edges) is None


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_imports_inside_functions_are_lazy_loads_with_a_reason() -> None:
    unexplained = []
    for path in sorted(ROOT.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom) and not _REASON.search(lines[inner.lineno - 1]):
                    unexplained.append(f"{path.relative_to(ROOT.parent)}:{inner.lineno}")
    assert unexplained == []
