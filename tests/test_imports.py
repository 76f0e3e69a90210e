"""The house's import rules, read from the source with ``ast`` (nothing is imported): no import
cycles between ``harness`` modules, and no import that runs up :data:`harness.LAYERS` (a module
imports only its own package and the layers below it). Every import counts, including those inside
functions and ``TYPE_CHECKING`` blocks: a deferred import hides a cycle, it does not remove it.
The checker is run on a small package with a planted cycle and an upward import too, so a test that
could not fail would show here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import harness

ROOT = Path(harness.__file__).resolve().parent


def _module_name(path: Path, root: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py")) if "data" not in p.relative_to(root).parts}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of dotted ``name`` that is a module of the package, or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path) -> nx.DiGraph:
    """Module -> module it imports, for every import of the package ``root`` by its own modules."""
    modules = _modules(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # `from P import x`: x is a module of P when P/x.py (or P/x/) exists, else a name in P
                targets = [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != name:
                    graph.add_edge(name, resolved, line=node.lineno)
    return graph


def import_cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.simple_cycles(graph)]


def layer_violations(graph: nx.DiGraph, layers: tuple[tuple[str, ...], ...]) -> list[str]:
    """Imports from a module into a part of the package on its own layer or above (its own top-level
    package excepted), and modules whose top-level part no layer names."""
    rank = {part: i for i, layer in enumerate(layers) for part in layer}
    problems = []
    for module in graph.nodes:
        parts = module.split(".")
        if len(parts) > 1 and parts[1] not in rank:
            problems.append(f"{module}: not in any layer of LAYERS")
    for source, target, data in graph.edges(data=True):
        src, dst = source.split("."), target.split(".")
        if len(dst) == 1 or len(src) == 1 or src[1] == dst[1]:
            continue  # the root package (its __version__ and LAYERS), or within one top-level package
        if src[1] in rank and dst[1] in rank and rank[dst[1]] >= rank[src[1]]:
            problems.append(f"{source} (line {data['line']}) imports {target}, which is not in a layer below")
    return sorted(problems)


def test_harness_has_no_import_cycles():
    cycles = import_cycles(import_graph(ROOT))
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_harness_imports_run_down_the_layers():
    problems = layer_violations(import_graph(ROOT), harness.LAYERS)
    assert not problems, "imports against harness.LAYERS:\n" + "\n".join(problems)


def test_every_top_level_part_is_in_exactly_one_layer():
    named = [part for layer in harness.LAYERS for part in layer]
    assert len(named) == len(set(named))
    present = {p.stem if p.is_file() else p.name for p in ROOT.iterdir()
               if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").is_file())) and p.name != "__init__.py"}
    assert present == set(named), f"on disk but not in LAYERS: {present - set(named)}; in LAYERS, not on disk: {set(named) - present}"


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_checker_finds_a_planted_cycle_and_an_upward_import(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from pkg.high import g  # up the layers, and a cycle with high\n",
        "high.py": "from pkg import low\n",
        "mid/__init__.py": "from .a import x\n",
        "mid/a.py": "from pkg.mid import b\nx = 1\n",
        "mid/b.py": "from . import a\n",  # a relative cycle inside a package
    })
    graph = import_graph(pkg)
    cycles = import_cycles(graph)
    assert ["pkg.high", "pkg.low"] in cycles
    assert ["pkg.mid.a", "pkg.mid.b"] in cycles
    problems = layer_violations(graph, (("low",), ("mid",), ("high",)))
    assert problems == ["pkg.low (line 2) imports pkg.high, which is not in a layer below"]
    # and a clean package passes
    clean = _write(tmp_path / "clean", {"__init__.py": "", "low.py": "", "high.py": "from pkg.low import *\n"})
    assert not import_cycles(import_graph(clean))
    assert not layer_violations(import_graph(clean), (("low",), ("high",)))
