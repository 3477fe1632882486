"""The ``lowfreq`` command table, its top-level help, the light subcommands and the one-line error report.

Nothing here imports Lightning: ``lowfreq``, ``lowfreq --help``, ``lowfreq alignment ...``, ``lowfreq download ...``,
``lowfreq compare ...`` and ``lowfreq list ...`` start in about a second. The Lightning subcommands (``fit``,
``validate``, ``test``, ``predict``) are run by ``lowfreq.cli.lightning_cli.main``, which also uses this module.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS", "DEBUG_ENV", "LIGHTNING_COMMANDS", "guarded", "is_help", "run_light", "top_level_help"]

DEBUG_ENV = "LOWFREQ_DEBUG"
"""Set to 1 to see full tracebacks instead of lowfreq's one-line error message."""

LIGHTNING_COMMANDS = ("fit", "validate", "test", "predict")
"""Subcommands run by LightningCLI (``lowfreq.cli.lightning_cli``)."""

#: Every subcommand with its one-line description, in the order the help lists them.
COMMANDS: dict[str, str] = {
    "fit": "train a model from a recipe: lowfreq fit -c recipes/blur_resnet18.yaml",
    "validate": "evaluate a checkpoint or a pretrained model and run the recipe's analyses (no training)",
    "test": "evaluate on the test split: lowfreq test -c RECIPE --ckpt_path PATH",
    "predict": "class probabilities of the predict split",
    "alignment": "model-vs-human benchmark metrics of a raw-data folder of decision CSVs: JSON, table, figures",
    "download": "fetch data and weights (cifar10, cifar10c, imagenetc, mvh, weights NAME) where the recipes look",
    "compare": "put several runs side by side: one table (CSV) and the papers' scatter plots",
    "report": "one self-contained HTML page of one or several runs (figures, numbers, paper values, config)",
    "list": "what exists, one line each: lowfreq list backbones|frontends|analyses|recipes",
}

#: Light subcommands: name -> (module, function taking the remaining arguments).
_LIGHT: dict[str, tuple[str, str]] = {
    "alignment": ("lowfreq.mvh.cli", "alignment_main"),
    "download": ("lowfreq.cli.download", "download_main"),
    "compare": ("lowfreq.runs.compare", "compare_main"),
    "report": ("lowfreq.runs.report", "report_main"),
    "list": ("lowfreq.cli.catalog", "list_main"),
}


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


def run_light(name: str, argv: list[str]) -> None:
    """Run the light subcommand ``name`` (a key of ``_LIGHT``) on ``argv``, importing its module only now.

    Raises:
        ImportError: the subcommand's module is not installed, naming the module and the command.
    """
    module_name, function = _LIGHT[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise ImportError(
            f"`lowfreq {name}` needs the module {module_name}, which this installation of lowfreq lacks"
        ) from None
    getattr(module, function)(argv)


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
