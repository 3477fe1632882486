"""Import direction, checked statically: every ``import`` in ``lowfreq/`` (also inside functions) against the layer
table in ``docs/architecture.md``; plus runtime checks that the pure layers stay free of Lightning."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lowfreq"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


# ---- the static import graph ------------------------------------------------------------------------------------
def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):  # ast.walk also reaches imports inside functions and TYPE_CHECKING blocks
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.add(prefix)
            names.update(f"{prefix}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return names


def import_graph(by_name: bool = True) -> dict[str, set[str]]:
    """{lowfreq module: imported names} -- lowfreq targets resolved to existing modules, others kept as top-level
    package names (``lightning``, ``argparse``, ...); with ``by_name``, also the lowfreq modules named in strings."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text())
        # an import by name (importlib.import_module("lowfreq.x"), a lazy table) is an edge too
        named = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and str(n.value).startswith("lowfreq.")}
        named = named & set(modules) if by_name else set()
        for imported in _imported_names(tree, name, path.name == "__init__.py") | named:
            if imported.split(".")[0] != "lowfreq":
                targets.add(imported.split(".")[0])
            elif imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


# ---- the rules --------------------------------------------------------------------------------------------------
def read_layers(text: str) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Parse the ``layers`` block of architecture.md: ``layer: module patterns | may import: layers``."""
    block = re.search(r"```text layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md must hold a ```text layers``` block"
    patterns: dict[str, list[str]] = {}
    allowed: dict[str, set[str]] = {}
    for line in block.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        head, _, deps = line.partition("->")
        layer, _, mods = head.partition(":")
        patterns[layer.strip()] = mods.split()
        allowed[layer.strip()] = {d.strip() for d in deps.split(",") if d.strip()}
    return patterns, allowed


def layer_of(module: str, patterns: dict[str, list[str]]) -> str:
    """The layer whose pattern matches most specifically (``lowfreq.mvh.labels`` before ``lowfreq.mvh.*``)."""
    best, best_len = None, -1
    for layer, pats in patterns.items():
        for pat in pats:
            exact = pat.removesuffix(".*")
            hit = module == exact or (pat.endswith(".*") and module.startswith(exact + "."))
            if hit and len(exact) + (0 if pat.endswith(".*") else 1) > best_len:
                best, best_len = layer, len(exact) + (0 if pat.endswith(".*") else 1)
    if best is None:
        raise AssertionError(f"{module} is in no layer of docs/architecture.md: add it to the table")
    return best


FORBIDDEN_EXTERNAL = {
    # third-party import -> layers that may use it
    "lightning": {"data", "training", "callbacks", "mvh", "cli"},
    "jsonargparse": {"cli", "mvh", "results"},  # command-line glue of their subcommands
    "argparse": set(),  # configuration is typed signatures read by jsonargparse, never a hand-built parser
}


def violations(graph: dict[str, set[str]], patterns: dict[str, list[str]], allowed: dict[str, set[str]]) -> list[str]:
    """Every import that breaks the table, every forbidden third-party import, and every import cycle.

    An import by name is deferred to the call that needs it, so only the ``import`` statements can form a cycle.
    """
    found = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module, patterns)
        for target in sorted(targets):
            if target.startswith("lowfreq"):
                other = layer_of(target, patterns)
                if other != layer and other not in allowed[layer]:
                    found.append(f"{module} ({layer}) imports {target} ({other})")
            elif target in FORBIDDEN_EXTERNAL and layer not in FORBIDDEN_EXTERNAL[target]:
                found.append(f"{module} ({layer}) imports {target}")
    static, full = import_graph(by_name=False), import_graph()
    by_name = {m: full[m] - static[m] for m in full}
    imports = {m: targets - by_name.get(m, set()) for m, targets in graph.items()}
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(imports)]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (package ``__init__`` re-exports excluded: they import
    their submodules by design)."""
    packages = {m for m in graph if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").exists()}
    edges = {m: {t for t in ts if t in graph and t not in packages} for m, ts in graph.items() if m not in packages}
    cycles, done = [], set()
    for start in sorted(edges):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start and frozenset(path) not in done:
                    done.add(frozenset(path))
                    cycles.append([*path, start])
                elif nxt not in seen and nxt not in path:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return cycles


@pytest.fixture(scope="module")
def layers() -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    return read_layers(ARCHITECTURE.read_text())


def test_package_follows_the_layer_table(layers):
    assert violations(import_graph(), *layers) == []


def test_every_layer_in_the_table_exists_and_is_used(layers):
    patterns, allowed = layers
    used = {layer_of(m, patterns) for m in import_graph()}
    assert set(patterns) == used
    assert all(deps <= set(patterns) for deps in allowed.values())


def test_the_table_shows_every_real_edge_and_no_other(layers):
    """Each "may import" of the table is an edge the package really has, so the table is the diagram of the layers."""
    patterns, allowed = layers
    real: dict[str, set[str]] = {layer: set() for layer in patterns}
    for module, targets in import_graph().items():
        for target in targets:
            if target.startswith("lowfreq") and layer_of(target, patterns) != layer_of(module, patterns):
                real[layer_of(module, patterns)].add(layer_of(target, patterns))
    assert {layer: sorted(deps) for layer, deps in allowed.items()} == {k: sorted(d) for k, d in real.items()}


def test_the_diagram_draws_the_table():
    """The mermaid diagram of docs/architecture.md has exactly the table's edges (hence the package's real ones)."""
    text = ARCHITECTURE.read_text()
    _, allowed = read_layers(text)
    diagram = re.search(r"```mermaid\ngraph TD\n(.*?)```", text, re.S)
    assert diagram, "docs/architecture.md must hold a ```mermaid``` diagram of the layers"
    lines = [line for line in diagram.group(1).splitlines() if line.strip()]
    drawn = {tuple(part.strip() for part in line.split("-->")) for line in lines}
    assert drawn == {(layer, dep) for layer, deps in allowed.items() for dep in deps}


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [  # the knots the architecture issue removed, re-introduced into a copy of the real graph
        ("lowfreq.backbones.openclip", "lowfreq.analysis.hybrid", "backbones.openclip (backbones) imports"),
        ("lowfreq.analysis.hybrid", "lightning", "imports lightning"),
        ("lowfreq.analysis.cue_conflict", "argparse", "imports argparse"),
        ("lowfreq.analysis.hybrid", "lowfreq.data.transforms", "(analysis) imports lowfreq.data.transforms"),
        ("lowfreq.spectral", "lowfreq.frontends", "(spectral) imports lowfreq.frontends"),
        ("lowfreq.mvh.labels", "lowfreq.mvh.stimuli", "(labels) imports"),
        ("lowfreq.backbones.openclip", "lowfreq.mvh.metrics", "(backbones) imports lowfreq.mvh.metrics"),
        ("lowfreq.analysis.components", "jsonargparse", "(analysis) imports jsonargparse"),
        ("lowfreq.data.cifar", "lowfreq.analysis.components", "(data) imports lowfreq.analysis.components"),
        ("lowfreq.training.classifier", "lowfreq.frontends", None),  # allowed: no violation
        ("lowfreq.plotting.hybrid", "lowfreq.callbacks.hybrid", "(plotting) imports"),
    ],
)
def test_a_deliberate_violation_is_caught(layers, module, target, expected):
    graph = {m: set(t) for m, t in import_graph().items()}
    graph.setdefault(module, set()).add(target)
    if target.startswith("lowfreq"):
        graph.setdefault(target, set())
    found = violations(graph, *layers)
    if expected is None:
        assert found == []
    else:
        assert any(expected in v for v in found), found


def test_an_import_cycle_is_caught(layers):
    graph = {m: set(t) for m, t in import_graph().items()}
    graph.setdefault("lowfreq.data.transforms", set()).add("lowfreq.data.device")
    graph.setdefault("lowfreq.data.device", set()).add("lowfreq.data.transforms")
    assert any("import cycle" in v and "lowfreq.data.device" in v for v in violations(graph, *layers))


def test_imports_inside_functions_and_relative_imports_are_seen():
    source = "def f():\n    import lightning\n    from . import hybrid\n    from ..spectral import power_spectrum\n"
    names = _imported_names(ast.parse(source), "lowfreq.analysis.components", is_package=False)
    assert {"lightning", "lowfreq.analysis.hybrid", "lowfreq.spectral"} <= names


# ---- runtime: what importing pulls in -----------------------------------------------------------------------------
def _loaded_after(statement: str, modules: list[str]) -> dict[str, bool]:
    code = f"import sys; {statement}; print([m in sys.modules for m in {modules!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return dict(zip(modules, eval(out.strip().splitlines()[-1]), strict=True))


@pytest.mark.parametrize("statement", [
    "import lowfreq",
    "import lowfreq.spectral, lowfreq.filters, lowfreq.frontends, lowfreq.backbones",
    "import lowfreq.analysis, lowfreq.plotting, lowfreq.core.io, lowfreq.mvh.labels",
])
def test_pure_layers_do_not_import_lightning(statement):
    loaded = _loaded_after(statement, ["lightning", "open_clip", "foolbox"])
    assert loaded == {"lightning": False, "open_clip": False, "foolbox": False}


def test_front_ends_load_without_pyplot():
    """``import lowfreq`` stays light (torchmetrics, used by the analyses, loads pyplot itself)."""
    assert _loaded_after("import lowfreq, lowfreq.frontends", ["matplotlib.pyplot"]) == {"matplotlib.pyplot": False}


def test_no_module_uses_pyplot_state():
    """Figures are built as ``matplotlib.figure.Figure`` objects; pyplot's global state is never touched."""
    users = [
        module
        for module, path in ((module_name(p), p) for p in PACKAGE.rglob("*.py"))
        if any("matplotlib.pyplot" in name for name in _imported_names(ast.parse(path.read_text()), module, False))
    ]
    assert users == []


def test_lazy_attributes_resolve():
    import lowfreq

    assert lowfreq.FrontEndClassifier.__name__ == "FrontEndClassifier"
    assert lowfreq.data.SyntheticShapesDataModule.__name__ == "SyntheticShapesDataModule"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = lowfreq.nope
