"""The ``lowfreq`` command table and its one dispatcher: top-level help, every subcommand, the one-line error report.

Nothing here imports Lightning: ``lowfreq``, ``lowfreq --help``, ``lowfreq alignment ...``, ``lowfreq download ...``,
``lowfreq compare ...`` and ``lowfreq list ...`` start in about a second. ``dispatch`` imports a subcommand's module
only to run it; the Lightning subcommands (``fit``, ``validate``, ``test``, ``predict``) go to
``lowfreq.cli.lightning_cli.run``, where Lightning is first imported.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "COMMANDS",
    "DEBUG_ENV",
    "LIGHTNING_COMMANDS",
    "TABLE",
    "Command",
    "dispatch",
    "guarded",
    "is_help",
    "top_level_help",
]

DEBUG_ENV = "LOWFREQ_DEBUG"
"""Set to 1 to see full tracebacks instead of lowfreq's one-line error message."""


class Command(NamedTuple):
    """A subcommand: its help line and the function that runs it, ``module.function`` (imported when it runs).

    A Lightning subcommand's function takes the whole argument list (LightningCLI parses the subcommand itself);
    a light one's takes the arguments after the subcommand.
    """

    description: str
    module: str
    function: str
    lightning: bool = False


_LIGHTNING_CLI = "lowfreq.cli.lightning_cli"

#: Every subcommand, in the order the help lists them.
TABLE: dict[str, Command] = {
    "fit": Command("train a model from a recipe: lowfreq fit -c recipes/blur_resnet18.yaml", _LIGHTNING_CLI, "run",
                   lightning=True),
    "validate": Command("evaluate a checkpoint or a pretrained model and run the recipe's analyses (no training)",
                        _LIGHTNING_CLI, "run", lightning=True),
    "test": Command("evaluate on the test split: lowfreq test -c RECIPE --ckpt_path PATH", _LIGHTNING_CLI, "run",
                    lightning=True),
    "predict": Command("class probabilities of the predict split", _LIGHTNING_CLI, "run", lightning=True),
    "alignment": Command("model-vs-human benchmark metrics of a raw-data folder of decision CSVs: JSON, table, "
                         "figures", "lowfreq.mvh.cli", "alignment_main"),
    "download": Command("fetch data and weights (cifar10, cifar10c, imagenetc, mvh, weights NAME) where the recipes "
                        "look", "lowfreq.cli.download", "download_main"),
    "compare": Command("put several runs side by side: one table (CSV) and the papers' scatter plots",
                       "lowfreq.results.compare", "compare_main"),
    "report": Command("one self-contained HTML page of one or several runs (figures, numbers, paper values, config)",
                      "lowfreq.results.report", "report_main"),
    "profile": Command("the frequency analyses of several models on one image folder, one leaderboard: lowfreq "
                       "profile timm:resnet18 torchvision:resnet50 --data FOLDER", "lowfreq.cli.profile",
                       "profile_main"),
    "list": Command("what exists, one line each: lowfreq list backbones|frontends|analyses|recipes",
                    "lowfreq.cli.catalog", "list_main"),
}

#: Every subcommand with its one-line description (``TABLE``'s help lines).
COMMANDS: dict[str, str] = {name: command.description for name, command in TABLE.items()}

LIGHTNING_COMMANDS = tuple(name for name, command in TABLE.items() if command.lightning)
"""Subcommands run by LightningCLI (``lowfreq.cli.lightning_cli``)."""


def is_help(argv: Sequence[str]) -> bool:
    """True for ``lowfreq``, ``lowfreq -h`` and ``lowfreq --help`` (the top-level help)."""
    return not argv or argv[0] in ("-h", "--help", "help")


def top_level_help(prog: str = "lowfreq") -> str:
    """The top-level help: usage, every subcommand with one line, and where to read more."""
    width = max(map(len, COMMANDS))
    lines = [
        f"usage: {prog} <command> [options]",
        "",
        "Lightning training and analyses for research on the frequency bias of image classifiers.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()),
        "",
        f"`{prog} <command> --help` lists a command's options ({', '.join(LIGHTNING_COMMANDS)} take -c RECIPE.yaml).",
        f"Recipes: recipes/*.yaml ({prog} list recipes, docs/recipes.md); working offline: docs/offline.md.",
    ]
    return "\n".join(lines) + "\n"


def dispatch(args: list[str] | None = None) -> None:
    """Run ``lowfreq <command> ...``: the one dispatcher of the console scripts and of ``lightning_cli.main``.

    ``args`` default ``sys.argv[1:]`` (then the program name is the script's). No command, ``-h`` or ``--help``
    print the top-level help; a command of ``TABLE`` runs under ``guarded`` (a user error is one line,
    ``lowfreq: error: ...``, exit status 2); arguments that start with an option go to LightningCLI; an unknown
    command prints the top-level help to stderr and exits with status 2.
    """
    argv = list(sys.argv[1:] if args is None else args)
    prog = os.path.basename(sys.argv[0]) if args is None and sys.argv and sys.argv[0] else "lowfreq"
    prog = "lowfreq" if prog in ("__main__.py", "-c", "") else prog
    if is_help(argv):
        sys.stdout.write(top_level_help(prog))
        return
    name = argv[0]
    if name not in TABLE and not name.startswith("-"):
        sys.stderr.write(top_level_help(prog))
        sys.stderr.write(f"{prog}: error: command must be one of {list(COMMANDS)}, got {name!r}\n")
        raise SystemExit(2)
    command = TABLE.get(name, TABLE["fit"])  # options first: LightningCLI reports them
    # None stays None for LightningCLI: it then reads sys.argv itself (no double-args warning)
    guarded(_run, name, command, args if command.lightning else argv[1:])


def _run(name: str, command: Command, args: list[str] | None) -> None:
    """Import ``command``'s module and call its function on ``args``.

    Raises:
        ImportError: the subcommand's module is not installed, naming the module and the command.
    """
    try:
        module = importlib.import_module(command.module)
    except ModuleNotFoundError as err:
        if err.name != command.module:
            raise
        raise ImportError(
            f"`lowfreq {name}` needs the module {command.module}, which this installation of lowfreq lacks"
        ) from None
    getattr(module, command.function)(args)


def _user_error(err: BaseException) -> bool:
    """A lowfreq input check (or a missing file / package), not a bug: worth one line, not a traceback."""
    if isinstance(err, (FileNotFoundError, ImportError, PermissionError)):
        return True
    frames = traceback.extract_tb(err.__traceback__)
    package = str(Path(__file__).parents[1])
    raised_here = bool(frames) and frames[-1].filename.startswith(package)
    return isinstance(err, (ValueError, TypeError, RuntimeError)) and raised_here


def _reported(err: BaseException) -> BaseException | None:
    """The deepest user error in the chain of causes of ``err``, or None when the chain holds none.

    jsonargparse reports a failing ``__init__`` as a chain of parser errors; the user error is at its bottom.
    """
    found = None
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _user_error(current):
            found = current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return found


def guarded(function: Callable[..., Any], *args: Any) -> None:
    """``function(*args)``; a user error ends the command with one line, ``lowfreq: error: ...``, and status 2.

    A user error is a lowfreq input check (ValueError, TypeError, RuntimeError raised in lowfreq) or a missing
    file, permission or package, anywhere in the chain of causes. Other exceptions, and every exception when
    ``LOWFREQ_DEBUG=1``, propagate with their traceback.
    """
    try:
        function(*args)
    except Exception as err:
        cause = _reported(err)
        if os.environ.get(DEBUG_ENV) or cause is None:
            raise
        message = " ".join(str(cause).split())  # one line, whatever the exception's own line breaks
        print(f"lowfreq: error: {type(cause).__name__}: {message}", file=sys.stderr)
        print(f"(set {DEBUG_ENV}=1 for the full traceback)", file=sys.stderr)
        raise SystemExit(2) from None
