"""The ``lowfreq`` and ``lightning`` console scripts: ``lowfreq.cli.commands.dispatch`` on the command line.

``lowfreq``/``lowfreq --help`` print every subcommand; ``alignment``, ``download``, ``compare``, ``report`` and
``list`` import only what they need; ``fit``, ``validate``, ``test`` and ``predict`` go to
``lowfreq.cli.lightning_cli.run`` (LightningCLI), which is where Lightning is first imported.
"""

from __future__ import annotations

from lowfreq.cli.commands import dispatch

__all__ = ["main"]


def main(args: list[str] | None = None) -> None:
    """Run ``lowfreq <command> ...`` (``args`` default ``sys.argv[1:]``; tests and notebooks pass a list).

    An unknown command prints the top-level help to stderr and exits with status 2; a bad input ends with one
    line, ``lowfreq: error: ...`` (see [`dispatch`][lowfreq.cli.commands.dispatch]).
    """
    dispatch(args)
