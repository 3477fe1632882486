"""``lowfreq list backbones|frontends|analyses|recipes``: what lowfreq provides, one line each.

The lists are read from the code itself, not kept by hand: the names in ``__all__`` of ``lowfreq.backbones``,
``lowfreq.frontends`` and ``lowfreq.callbacks`` that are subclasses of ``Backbone``, ``FrontEnd`` and
``AnalysisCallback`` (the base classes themselves left out), each with the first line of its docstring, and the
``recipes/*.yaml`` files with their first comment line. The package's sources are parsed (``ast``), not
imported, so the command answers without loading torch or Lightning.

Recipes are not installed with the package: they are looked up in ``./recipes`` (where ``lowfreq fit -c
recipes/NAME.yaml`` reads them), then in the ``recipes/`` folder of the source checkout the package runs from
(an editable install).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

__all__ = ["KINDS", "Entry", "entries", "list_main", "recipe_folders"]

_PACKAGE = Path(__file__).resolve().parents[1]

#: What ``lowfreq list`` lists: kind -> (module whose ``__all__`` is read, base class, where a config names it).
_CLASSES: dict[str, tuple[str, tuple[str, str], str]] = {
    "backbones": ("lowfreq.backbones", ("lowfreq.backbones.base", "Backbone"), "model.init_args.backbone"),
    "frontends": ("lowfreq.frontends", ("lowfreq.frontends", "FrontEnd"), "model.init_args.frontend"),
    "analyses": ("lowfreq.callbacks", ("lowfreq.callbacks.base", "AnalysisCallback"), "trainer.callbacks"),
}

#: The values ``lowfreq list`` accepts.
KINDS: tuple[str, ...] = (*_CLASSES, "recipes")


@dataclass(frozen=True)
class Entry:
    """One listed item.

    Attributes:
        name: the class name, or the recipe's file name.
        path: what a config or command line writes: the ``class_path`` (``lowfreq.backbones.CIFARResNet18``), or
            the recipe's path as given to ``-c``.
        description: the first line of the class docstring, or the recipe's first comment line.
        analysis: an analysis's ``name`` (its folder ``analysis/<name>/`` and its ``--analyses.skip`` name);
            empty for the other kinds.
    """

    name: str
    path: str
    description: str
    analysis: str = ""


# ---- reading the sources ----------------------------------------------------------------------------------------
class _Module:
    """The parsed source of one lowfreq module: its classes, its imported names and its ``__all__``."""

    _cache: ClassVar[dict[str, _Module]] = {}

    def __init__(self, name: str) -> None:
        parts = name.split(".")[1:]
        package = _PACKAGE.joinpath(*parts)
        path = package / "__init__.py" if package.is_dir() else package.with_suffix(".py")
        if not path.is_file():
            raise FileNotFoundError(f"the source of {name} is not at {path} (lowfreq list reads the package's sources)")
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        self.name = name
        self.is_package = path.name == "__init__.py"
        self.classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        self.imported: dict[str, tuple[str, str]] = {}  # local name -> (module, name there)
        self.all: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (node.module, alias.name)
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                self.all = [str(v) for v in ast.literal_eval(node.value)]

    @classmethod
    def of(cls, name: str) -> _Module:
        if name not in cls._cache:
            cls._cache[name] = cls(name)
        return cls._cache[name]

    def resolve(self, name: str) -> tuple[str, ast.ClassDef] | None:
        """(module, class definition) that ``name`` means in this module, following lowfreq re-exports.

        None for a name that is no lowfreq class (``nn.Module``, ``L.Callback``, a constant).
        """
        if name in self.classes:
            return self.name, self.classes[name]
        if name in self.imported:
            module, original = self.imported[name]
            if module.split(".")[0] == "lowfreq" and module != self.name:
                return _Module.of(module).resolve(original)
        return None


def _base_names(node: ast.ClassDef) -> list[str]:
    """``class A(B, mod.C)`` -> ["B", "C"] (the names a base is written with)."""
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def _derives(module: str, node: ast.ClassDef, base: tuple[str, str], seen: frozenset[str] = frozenset()) -> bool:
    """Whether the class ``node`` of ``module`` is a subclass of ``base`` (module, class), through lowfreq classes."""
    for written in _base_names(node):
        found = _Module.of(module).resolve(written)
        if found is None or f"{found[0]}.{found[1].name}" in seen:
            continue
        if (found[0], found[1].name) == base:
            return True
        if _derives(found[0], found[1], base, seen | {f"{module}.{node.name}"}):
            return True
    return False


def _plain(text: str) -> str:
    """Docstring markup as plain text: cross-references ([`C`][a.C]) and double backquotes off."""
    text = re.sub(r"\[`([^`]+)`\]\[[\w.]+\]", r"\1", text)  # mkdocstrings cross-references
    return re.sub(r"``([^`]+)``", r"\1", text)


def _first_line(node: ast.ClassDef) -> str:
    doc = ast.get_docstring(node)
    return _plain(doc.strip().splitlines()[0].strip()) if doc and doc.strip() else "(no docstring)"


def _analysis_name(node: ast.ClassDef) -> str:
    """The class attribute ``name = "..."`` of an analysis callback, or ""."""
    for statement in node.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else (
            [statement.target] if isinstance(statement, ast.AnnAssign) else [])
        value = getattr(statement, "value", None)
        if any(getattr(t, "id", None) == "name" for t in targets) and isinstance(value, ast.Constant):
            return str(value.value)
    return ""


def _classes(kind: str) -> list[Entry]:
    module_name, base, _ = _CLASSES[kind]
    module = _Module.of(module_name)
    found = []
    for name in module.all:
        resolved = module.resolve(name)
        if resolved is None or (resolved[0], resolved[1].name) == base:
            continue
        if _derives(*resolved, base):
            node = resolved[1]
            analysis = _analysis_name(node) if kind == "analyses" else ""
            found.append(Entry(name, f"{module_name}.{name}", _first_line(node), analysis))
    return found


# ---- recipes ----------------------------------------------------------------------------------------------------
def recipe_folders() -> list[Path]:
    """Where recipes are looked for, in order: ``./recipes``, then the source checkout's ``recipes/``."""
    folders = [Path("recipes")]
    checkout = _PACKAGE.parent / "recipes"
    if checkout.resolve() != Path("recipes").resolve():
        folders.append(checkout)
    return folders


def _first_comment(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.lstrip().startswith("#"):
                text = line.strip().lstrip("#").strip()
                if text:
                    return text
    return "(no comment line)"


def _recipes() -> tuple[Path, list[Entry]]:
    for folder in recipe_folders():
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if files:
            return folder, [Entry(p.name, str(p), _first_comment(p)) for p in files]
    looked = " and ".join(str(f.resolve()) for f in recipe_folders())
    raise FileNotFoundError(
        f"no recipes/*.yaml in {looked}: recipes are not installed with the package; run from a lowfreq checkout "
        "(git clone), whose recipes/ folder holds them"
    )


def entries(kind: str) -> list[Entry]:
    """What ``lowfreq list KIND`` shows, in ``__all__`` order (recipes by file name).

    Raises:
        ValueError: ``kind`` is not one of ``KINDS``.
        FileNotFoundError: ``kind`` is "recipes" and no recipe folder holds a ``*.yaml`` file.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return _recipes()[1] if kind == "recipes" else _classes(kind)


# ---- the command ------------------------------------------------------------------------------------------------
def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]


def _render(kind: str) -> str:
    if kind == "recipes":
        folder, found = _recipes()
        where = "./recipes" if folder == Path("recipes") else f"{folder} (the lowfreq checkout; ./recipes has none)"
        head = f"recipes in {where}; run one with lowfreq fit -c PATH (validate for the pretrained ones):"
        return "\n".join([head, *_table([(e.path, e.description) for e in found])]) + "\n"
    module, _, option = _CLASSES[kind]
    found = entries(kind)
    if kind == "analyses":
        head = (f"analyses ({module}; add to {option} by class_path; the name is the folder analysis/<name>/ "
                "and what --analyses.skip takes):")
        rows: list[tuple[str, ...]] = [(e.path, e.analysis, e.description) for e in found]
    else:
        head = f"{kind} ({module}; set {option} to the class_path):"
        rows = [(e.path, e.description) for e in found]
    return "\n".join([head, *_table(rows)]) + "\n"


_USAGE = f"usage: lowfreq list {{{','.join(KINDS)}}}\n\nList what lowfreq provides, one line each.\n"


def list_main(args: list[str] | None = None) -> None:
    """Run ``lowfreq list KIND`` (``args`` default ``sys.argv[2:]``).

    A missing or unknown kind prints one line, ``lowfreq list: error: ...``, and exits with status 2.
    """
    argv = sys.argv[2:] if args is None else list(args)
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write(_USAGE)
        return
    if len(argv) != 1 or argv[0] not in KINDS:
        got = "nothing" if not argv else repr(" ".join(argv))
        sys.stderr.write(f"lowfreq list: error: expected one of {', '.join(KINDS)}; got {got}\n")
        raise SystemExit(2)
    sys.stdout.write(_render(argv[0]))
