"""The package-level import graph of src/trustbench has no cycle; no module is over 400 lines.

Read from the source (AST), so every import counts: module-level, inside functions, and under
`if TYPE_CHECKING:`. A node is a subpackage of trustbench (`engine`, `judges`...) or a top-level
module (`cli`, `errors`...); `trustbench` itself is the package's __init__.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# No exception: every package-level cycle fails the test.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


def _node(parts: list[str], names: set[str]) -> str:
    """The graph node of a dotted module path inside trustbench."""
    if len(parts) < 2:
        return "trustbench"
    return parts[1] if parts[1] in names else "trustbench"


def import_graph(src: Path, package: str = "trustbench") -> dict[str, dict[str, list[str]]]:
    """{node: {imported node: ["module:line", ...]}} for every import between different nodes."""
    root = src / package
    names = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    names |= {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
    edges: dict[str, dict[str, list[str]]] = {}
    for f in sorted(root.rglob("*.py")):
        parts = list(f.relative_to(src).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        if is_init:
            parts = parts[:-1]
        here = _node(parts, names)
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), str(f))):
            targets: list[list[str]] = []
            if isinstance(node, ast.Import):
                targets = [a.name.split(".") for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts if is_init else parts[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = base + (node.module.split(".") if node.module else [])
                else:
                    mod = (node.module or "").split(".")
                if len(mod) == 1 and mod[0] == package:  # from trustbench import x: x may be a subpackage
                    targets = [[package, a.name] for a in node.names]
                else:
                    targets = [mod]
            for t in targets:
                if t[0] != package:
                    continue
                there = _node(t, names)
                if there != here:
                    edges.setdefault(here, {}).setdefault(there, []).append(f"{'.'.join(parts)}:{node.lineno}")
    return edges


def cycles(edges: dict[str, dict[str, list[str]]], ignore: set[tuple[str, str]] = frozenset()) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), ignoring some edges."""
    graph = {a: [b for b in bs if (a, b) not in ignore] for a, bs in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(graph) | {b for bs in graph.values() for b in bs}):
        if v not in index:
            visit(v)
    return out


def _explain(edges: dict[str, dict[str, list[str]]], comp: list[str]) -> str:
    return "; ".join(f"{a} -> {b} ({', '.join(edges[a][b][:3])})" for a in comp for b in comp
                     if b in edges.get(a, {}))


def test_no_package_level_import_cycle():
    edges = import_graph(SRC)
    found = cycles(edges, KNOWN_CYCLE_EDGES)
    assert not found, "import cycles: " + " | ".join(_explain(edges, c) for c in found)


def test_core_imports_nothing_else_from_trustbench():
    edges = import_graph(SRC)
    assert edges.get("core", {}) == {}, edges.get("core")


def test_engine_and_judges_no_longer_import_each_other():
    edges = import_graph(SRC)
    assert "engine" not in edges.get("judges", {}), edges["judges"].get("engine")


def test_the_graph_sees_lazy_and_type_checking_imports(tmp_path):
    """The checker itself: a cycle closed only by a function-level import, or only under
    TYPE_CHECKING, or through a relative import, is found."""
    pkg = tmp_path / "trustbench"
    for sub in ("a", "b", "c"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "x.py").write_text("from trustbench.b import y\n")
    (pkg / "b" / "y.py").write_text("def f():\n    from trustbench.a import x\n    return x\n")
    (pkg / "c" / "z.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import x\n")
    (pkg / "a" / "w.py").write_text("import trustbench.c.z\n")
    edges = import_graph(tmp_path)
    assert edges["b"] == {"a": ["trustbench.b.y:2"]} and edges["c"] == {"a": ["trustbench.c.z:3"]}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles(edges, {("b", "a"), ("c", "a")}) == []


# The lower layers this branch arranged: each may import only what is listed (and nothing above).
ALLOWED_BELOW = {
    "core": set(),
    "errors": {"core"},
    "models": {"core", "errors"},
    "judges": {"core", "errors", "models"},
    "scoring": {"errors"},  # pure statistics: never tasks, engine or judges
    "tasks": {"errors", "judges", "scoring"},  # judges: the prompt templates tasks declare
}


@pytest.mark.parametrize("layer", sorted(ALLOWED_BELOW))
def test_lower_layers_import_only_below(layer):
    edges = import_graph(SRC)
    extra = set(edges.get(layer, {})) - ALLOWED_BELOW[layer]
    assert not extra, {b: edges[layer][b][:3] for b in extra}


MAX_MODULE_LINES = 400


def test_no_module_is_over_400_lines():
    """Small modules whose names say what they hold: none under src/trustbench over 400 lines."""
    sizes = {str(f.relative_to(SRC)): len(f.read_text(encoding="utf-8").splitlines())
             for f in sorted((SRC / "trustbench").rglob("*.py"))}
    assert len(sizes) > 50  # the walk found the package
    over = {f: n for f, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not over, over
