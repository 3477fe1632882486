"""The ``lowfreq`` and ``lightning`` console scripts: top-level help and light subcommands without Lightning.

``lowfreq``/``lowfreq --help`` print every subcommand; ``alignment``, ``download``, ``compare``, ``report`` and
``list`` import only what they need; ``fit``, ``validate``, ``test`` and ``predict`` go to
``lowfreq.cli.lightning_cli.main`` (LightningCLI), which is where Lightning is first imported.
"""

from __future__ import annotations

import os
import sys

from lowfreq.cli.commands import COMMANDS, LIGHTNING_COMMANDS, guarded, is_help, run_light, top_level_help

__all__ = ["main"]


def main(args: list[str] | None = None) -> None:
    """Run ``lowfreq <command> ...`` (``args`` default ``sys.argv[1:]``; tests and notebooks pass a list).

    An unknown command prints the top-level help to stderr and exits with status 2; a bad input ends with one
    line, ``lowfreq: error: ...`` (see ``lowfreq.cli.lightning_cli.main``).
    """
    argv = list(sys.argv[1:] if args is None else args)
    prog = os.path.basename(sys.argv[0]) if args is None and sys.argv and sys.argv[0] else "lowfreq"
    prog = "lowfreq" if prog in ("__main__.py", "-c", "") else prog
    if is_help(argv):
        sys.stdout.write(top_level_help(prog))
        return
    command = argv[0]
    if command in COMMANDS and command not in LIGHTNING_COMMANDS:
        guarded(run_light, command, argv[1:])
        return
    if command not in COMMANDS and not command.startswith("-"):
        sys.stderr.write(top_level_help(prog))
        sys.stderr.write(f"{prog}: error: command must be one of {list(COMMANDS)}, got {command!r}\n")
        raise SystemExit(2)
    from lowfreq.cli.lightning_cli import (
        main as lightning_main,  # imports Lightning: only for the Lightning subcommands
    )

    lightning_main(args)  # None stays None: LightningCLI then reads sys.argv itself (no double-args warning)
