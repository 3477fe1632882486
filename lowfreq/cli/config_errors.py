"""One line for a configuration mistake: the key, where it was given, and a did-you-mean.

jsonargparse reports an unknown key, a value of the wrong type or a typo in a nested class's ``init_args`` as a
chain of exceptions (``__cause__``), one per level of nesting, whose messages the parser prints in full, after its
usage: 50-70 lines for a one-character typo. ``describe`` reads that chain into a ``ConfigProblem``,
``find_origin`` finds the command-line argument or the ``-c`` file that holds the key, and ``one_line``
writes ``unknown key 'sigmaa' in model.init_args.frontend.init_args (from --model...sigmaa=2.0): did you mean
'sigma'?``. A message ``describe`` cannot read is shown itself, on one line (``one_line``'s fallback).

Nothing here imports Lightning or jsonargparse; ``lowfreq.cli.lightning_cli.LowFreqCLI.parse_arguments`` calls it.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["ConfigProblem", "accepted_at", "describe", "find_origin", "init_parameters", "one_line"]

_PARSER_KEY = re.compile(r'Parser key "([^"]+)":')
_CLASS_PATH = re.compile(r"Problem with given class_path '([^']+)':")
_UNION = "Does not validate against any of the Union subtypes"
_NOT_ACCEPTED_HERE = re.compile(r"(?:Subcommand|Group) '[^']+' does not accept option '([^']+)'")
_OPTION = re.compile(r"Option '([^']+)' is not accepted")
_EXPECTED = re.compile(r"Expected an? (.+?)\. Got value: (.*)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (.+)")
_NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
_GIVEN_CLASS = re.compile(r"class_path='([\w.]+)'")
_MAX_MESSAGE = 300  # characters of a message lowfreq does not read, on the one line


@dataclass(frozen=True)
class ConfigProblem:
    """What jsonargparse rejected.

    Attributes:
        kind: "unknown" (a key no class or group accepts), "value" (a value of the wrong type), "class" (a
            ``class_path`` naming no class of its module) or "other".
        path: the keys down to the offending one, e.g. ``("model", "init_args", "frontend", "init_args")``.
        key: the offending key (``sigmaa``; for "value" the key whose value is wrong), or None.
        class_path: the class whose ``init_args`` hold ``key``, when the key sits in one; for "class", the module
            that has no class ``value``.
        expected: for "value", what the key takes ("an int or null", "one of 'smoke', 'paper' or null").
        value: for "value", the value given; for "class", the missing class name.
        choices: for "value", the literal values the key takes (for the did-you-mean).
        flag: for an unrecognised command-line argument, the argument as given.
        message: the deepest message, on one line (the text for "other", at most 300 characters).
    """

    kind: Literal["unknown", "value", "class", "other"]
    path: tuple[str, ...] = ()
    key: str | None = None
    class_path: str | None = None
    expected: str = ""
    value: str | None = None
    choices: tuple[str, ...] = ()
    flag: str | None = None
    message: str = ""

    @property
    def dotted(self) -> str:
        """``path`` and ``key`` joined with dots (``trainer.max_epochs``)."""
        return ".".join((*self.path, *([self.key] if self.key else [])))


def _chain(err: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain


def _lines(err: BaseException) -> list[str]:
    return [line.strip() for line in str(err).splitlines() if line.strip()]


def _split_top(text: str) -> list[str]:
    """``"a, b[c, d], e"`` -> ``["a", "b[c, d]", "e"]`` (commas outside brackets)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _expected(types: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The type texts of jsonargparse -> ("an int or null", literal choices)."""
    names: list[str] = []
    choices: list[str] = []
    for text in types:
        literal = re.fullmatch(r"(?:typing\.)?Literal\[(.*)\]", text)
        if literal:
            choices += _split_top(literal.group(1))
            continue
        bare = re.fullmatch(r"<class '([\w.]+)'>", text)
        name = bare.group(1).rsplit(".", 1)[-1] if bare else re.sub(r"\b(?:[a-z_]\w*\.)+(?=[A-Za-z_])", "", text)
        names.append("null" if name == "NoneType" else name)
    if choices:
        names.insert(0, "one of " + ", ".join(dict.fromkeys(choices)))
    names = list(dict.fromkeys(names))
    text = " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]
    if names and not names[0].startswith("one of") and names[0] != "null":
        text = ("an " if names[0][0].lower() in "aeiou" else "a ") + text
    return text, tuple(c.strip("'\"") for c in dict.fromkeys(choices))


def describe(err: BaseException) -> ConfigProblem | None:
    """The problem behind a jsonargparse ``ArgumentError`` (its chain of causes), or None when unreadable.

    "other" is a message under a recognised key (``trainer.logger: ...``); a message with neither a known form nor
    a key is None (then ``one_line`` shows the message itself).
    """
    path: list[str] = []
    class_path: str | None = None
    union: list[str] | None = None
    previous = None
    chain = _chain(err)
    for depth, link in enumerate(chain):
        lines = _lines(link)
        first = lines[0] if lines else ""
        if first == previous and depth < len(chain) - 1:
            continue  # jsonargparse re-raises one message at several levels
        previous = first
        leaf = depth == len(chain) - 1
        if match := _PARSER_KEY.match(first):
            path += match.group(1).split(".")
            union = None
            if not leaf:
                continue
            lines = lines[1:]  # the deepest link: its own text follows the key
        elif match := _CLASS_PATH.match(first):
            class_path, union = match.group(1), None
            path.append("init_args")
            continue
        elif first.startswith(_UNION):
            subtypes = next((line for line in lines if line.startswith("Subtypes: [")), None)
            union = _split_top(subtypes[len("Subtypes: ["):-1]) if subtypes else None
            continue
        if leaf or _NOT_ACCEPTED_HERE.match(first) or _OPTION.search(first) or _UNRECOGNIZED.match(first):
            problem = _leaf(lines, tuple(path), class_path, union)
            return problem if problem.kind != "other" or path else None  # nothing recognised: None
    return None


def _one_line(text: str) -> str:
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _leaf(lines: list[str], path: tuple[str, ...], class_path: str | None, union: list[str] | None) -> ConfigProblem:
    """The problem stated by the deepest message (``lines``), found under ``path``."""
    text = " ".join(lines)
    if match := _NOT_ACCEPTED_HERE.search(text):
        *prefix, key = match.group(1).split(".")
        return ConfigProblem("unknown", (*path, *prefix), key, message=text)
    if match := _OPTION.search(text):
        given = _GIVEN_CLASS.search(text)  # a callable's class (optimizer: ...) is named only in the value
        if given and given.group(1) != class_path:
            class_path, path = given.group(1), (*path, "init_args")
        return ConfigProblem("unknown", path, match.group(1), class_path=class_path, message=text)
    if match := _UNRECOGNIZED.search(text):
        flag = match.group(1).split()[0]
        *prefix, key = flag.lstrip("-").split("=", 1)[0].rstrip("+").split(".")
        return ConfigProblem("unknown", tuple(prefix), key, flag=flag, message=text)
    if match := _EXPECTED.search(text):
        expected, choices = _expected(union or [match.group(1)])
        *prefix, key = path or ("",)
        return ConfigProblem("value", tuple(prefix), key or None, class_path, expected, match.group(2), choices,
                             message=text)
    if match := _NO_ATTRIBUTE.search(text):
        module, name = match.groups()
        if path[-1:] == ("init_args",) and class_path == f"{module}.{name}":
            path = path[:-1]  # the init_args of the class that does not exist
        *prefix, key = path or ("",)
        return ConfigProblem("class", tuple(prefix), key or None, class_path=module, value=name, message=text)
    return ConfigProblem("other", path, class_path=class_path, message=_one_line(text))


def init_parameters(class_path: str) -> list[str]:
    """The ``__init__`` parameter names of the class ``class_path`` (``[]`` when it cannot be imported)."""
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
        parameters = inspect.signature(cls).parameters.values()
    except (ImportError, AttributeError, TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def accepted_at(keys: Iterable[str], path: Sequence[str]) -> list[str]:
    """The keys one level below ``path`` among the parser's dotted ``keys`` (``trainer`` -> ``max_epochs``, ...)."""
    prefix = ".".join(path)
    found = []
    for key in keys:
        if prefix and not key.startswith(prefix + "."):
            continue
        found.append(key[len(prefix) + 1 if prefix else 0:].split(".")[0])
    return list(dict.fromkeys(found))


def _normalised(keys: Iterable[str]) -> list[str]:
    return [k for k in keys if k and k != "init_args"]


def _holds(node: Any, keys: Sequence[str]) -> bool:
    """Whether a loaded YAML node holds ``keys`` (``init_args`` levels optional, any item of a list)."""
    if not keys:
        return True
    if isinstance(node, list):
        return any(_holds(item, keys) for item in node)
    if not isinstance(node, dict):
        return False
    init_args = node.get("init_args")
    if isinstance(init_args, dict) and keys[0] in init_args:
        return _holds(init_args[keys[0]], keys[1:])
    return keys[0] in node and _holds(node[keys[0]], keys[1:])


def _file_holds(path: str, keys: Sequence[str]) -> bool:
    import yaml

    try:
        return _holds(yaml.safe_load(Path(path).read_text()), keys)
    except (OSError, ValueError, yaml.YAMLError):
        return False


def find_origin(problem: ConfigProblem, argv: Sequence[str]) -> str | None:
    """The command-line argument (``--a.b=1``) or ``-c`` file that gives the problem's key, the last one wins."""
    if problem.flag:
        return problem.flag
    target = _normalised((*problem.path, *([problem.key] if problem.key else [])))
    if not target:
        return None
    args = list(argv)
    for i in range(len(args) - 1, -1, -1):
        arg = args[i]
        following = args[i + 1] if i + 1 < len(args) else ""
        if arg in ("-c", "--config") and following:
            if _file_holds(following, target):
                return following
            continue
        if arg.startswith(("--config=", "-c=")):
            if _file_holds(arg.split("=", 1)[1], target):
                return arg.split("=", 1)[1]
            continue
        if not arg.startswith("--"):
            continue
        name, equals, value = arg[2:].partition("=")
        given = arg if equals else f"{arg} {following}".strip()
        keys = _normalised(name.rstrip("+").split("."))
        if keys == target or (problem.key is None and keys[: len(target)] == target):
            return given  # (a problem without a key: any argument below its path)
        inline = value if equals else following  # --model '{"init_args": {...}}' or --model.init_args.frontend=...
        if keys and keys == target[: len(keys)] and problem.key and problem.key in inline:
            return given
    return None


def _closest(word: str | None, candidates: Iterable[str]) -> str | None:
    if not word:
        return None
    found = difflib.get_close_matches(word, [c for c in candidates if c != word], n=1, cutoff=0.6)
    return found[0] if found else None


def one_line(problem: ConfigProblem | None, fallback: str, argv: Sequence[str] = (), keys: Iterable[str] = ()) -> str:
    """The message: what is wrong, where it was given and the closest accepted key or value.

    Args:
        problem: ``describe``'s reading, or None: then ``fallback`` itself, on one line (at most 300
            characters; jsonargparse's messages say where in a file on their second line).
        fallback: the parser's own message.
        argv: the command line (to find the argument or ``-c`` file that gives the key).
        keys: every dotted key the (sub)command's parser accepts (did-you-mean for keys outside a class).
    """
    if problem is None:
        return _one_line(fallback) or "invalid configuration"
    origin = find_origin(problem, argv)
    where = f" (from {origin})" if origin else ""
    if problem.kind == "unknown":
        accepted = init_parameters(problem.class_path) if problem.class_path else accepted_at(keys, problem.path)
        guess = _closest(problem.key, accepted)
        inside = f" in {'.'.join(problem.path)}" if problem.path else ""
        if problem.flag:
            text = f"unknown option {problem.flag}"
            hint = f"--{'.'.join((*problem.path, guess))}" if guess else None
            return text + (f": did you mean {hint}?" if hint else "")
        text = f"unknown key {problem.key!r}{inside}{where}"
        if guess:
            return f"{text}: did you mean {guess!r}?"
        return f"{text}; accepted: {', '.join(accepted[:15])}" if accepted else text
    if problem.kind == "value":
        guess = _closest(problem.value, problem.choices)
        text = f"{problem.dotted}: expected {problem.expected}, got {problem.value!r}{where}"
        return f"{text}: did you mean {guess!r}?" if guess else text
    if problem.kind == "class":
        module = problem.class_path or ""
        try:
            names = [n for n in dir(importlib.import_module(module)) if not n.startswith("_")]
        except ImportError:
            names = []
        guess = _closest(problem.value, names)
        text = f"{problem.dotted}: module {module} has no class {problem.value!r}{where}"
        return f"{text}: did you mean {module}.{guess}?" if guess else text
    message = problem.message or _one_line(fallback)
    return f"{problem.dotted}: {message}{where}" if problem.path else f"{message}{where}"

