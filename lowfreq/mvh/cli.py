"""``lowfreq alignment --raw_data DIR --model NAME``: model-vs-human benchmark metrics as JSON on stdout.

The command line is built by jsonargparse from the signature and docstring of [`alignment`][lowfreq.mvh.cli.alignment]
(so it also reads ``--config file.yaml`` and ``LOWFREQ_ALIGNMENT_*`` environment variables); ``lowfreq.entry`` (the
console script) and ``lowfreq.cli.main`` dispatch ``lowfreq alignment ...`` here. The metrics (pandas, torch) are
imported only when the command runs, so ``--help`` is instant. The printed JSON equals
[`lowfreq.mvh.benchmark_from_raw_data`][lowfreq.mvh.metrics.benchmark_from_raw_data] (NaN written as ``null``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from jsonargparse import auto_cli

__all__ = ["alignment", "alignment_main"]

_DESCRIPTION = (
    "Model-vs-human benchmark metrics (shape bias, error consistency, observed consistency, accuracy difference, "
    "OOD accuracy, per dataset and aggregated as the benchmark does) for one model whose decision CSVs sit in a "
    "model-vs-human raw-data directory, plus the humans-vs-humans reference."
)


def alignment(
    raw_data: str,
    model: str | None = None,
    datasets: list[str] | None = None,
    exclude: bool = True,
    humans_on_model_stimuli: bool = False,
    output: str | None = None,
) -> dict[str, Any]:
    """Print (and optionally write) the benchmark metrics of one model as JSON.

    Args:
        raw_data: raw-data directory, ``<dir>/<dataset>/*.csv`` in model-vs-human's format (humans and models);
            model-vs-human's own raw-data folder works as is (folders such as ``performances/`` are skipped).
        model: the model's ``subj`` name in the CSVs (e.g. bagnet33); None for the humans-vs-humans reference only.
        datasets: datasets to evaluate (default: all the model has; with no model, all present).
        exclude: drop the benchmark's excluded conditions.
        humans_on_model_stimuli: compute the human reference only on the stimuli the model saw.
        output: also write the JSON to this file.

    Returns:
        The result of [`benchmark_from_raw_data`][lowfreq.mvh.metrics.benchmark_from_raw_data].
    """
    from lowfreq.io import to_jsonable, write_json  # here: `lowfreq alignment --help` starts without torch
    from lowfreq.mvh.metrics import benchmark_from_raw_data

    result = benchmark_from_raw_data(
        raw_data, model, datasets, exclude=exclude, humans_on_model_stimuli=humans_on_model_stimuli
    )
    if output:
        write_json(output, result)
    sys.stdout.write(json.dumps(to_jsonable(result), indent=2) + "\n")
    return result


def _underscored(arg: str) -> str:
    """``--raw-data`` -> ``--raw_data`` (both spellings are accepted; values are left alone)."""
    if not arg.startswith("--"):
        return arg
    name, eq, value = arg[2:].partition("=")
    return "--" + name.replace("-", "_") + eq + value


def alignment_main(args: list[str] | None = None) -> None:
    """Run [`alignment`][lowfreq.mvh.cli.alignment] on ``args`` (default: the words after ``lowfreq alignment``)."""
    argv = sys.argv[2:] if args is None else list(args)
    auto_cli(
        alignment,
        args=[_underscored(a) for a in argv],
        as_positional=False,
        prog="lowfreq alignment",
        description=_DESCRIPTION,
        env_prefix="LOWFREQ_ALIGNMENT",
        default_env=True,
    )
