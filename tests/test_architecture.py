"""The package is a stack of layers (docs/architecture.md): a module imports only from its
own layer or below, and no set of modules imports itself round in a circle. Both are
derived from the source, function-level imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

#: Lowest first. The first entry holds the tiny shared modules every layer may use.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim", "sim.errors", "sim.constants", "sim.rng", "sim.files", "sim.measures", "sim.progress"),
    ("sim.config",),
    ("sim.flow",),
    ("sim.reference",),
    ("sim.regime",),
    ("sim.org",),
    ("sim.outputs",),
    ("sim.run",),
    ("sim.report",),
    ("sim.studies",),
    ("sim.validation",),
    ("sim.cli", "sim.ui"),  # the two front ends: the command line and the web page
    ("sim.__main__",),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """The sim modules a file imports, anywhere in it (a name imported from a package that
    is itself a module counts as that module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sim")
        elif (
            isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sim"
        ):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in known else node.module)
    return {m for m in found if m in known}


def layer_of(module: str) -> int:
    best = None
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if module == prefix or (prefix != "sim" and module.startswith(prefix + ".")):
                best = i
    assert best is not None, (
        f"{module} belongs to no layer: add it to LAYERS and docs/architecture.md"
    )
    return best


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports(p, known) - {m} for m, p in mods.items()}


def test_every_module_has_a_layer():
    for module in modules():
        layer_of(module)


def test_no_import_from_a_higher_layer():
    upward = [
        f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
        for m, deps in graph().items()
        for d in deps
        if layer_of(d) > layer_of(m)
    ]
    assert not upward, "\n".join(upward)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert cycles(graph()) == []


def test_the_circle_detector_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", ["sim.flow.kernel", "sim.cli.commands"])
def test_layer_lookup(module):
    assert 0 < layer_of(module) < len(LAYERS)


def test_top_level_is_small():
    entries = [
        p.name for p in SIM.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")
    ]
    assert len(entries) <= 20, entries
