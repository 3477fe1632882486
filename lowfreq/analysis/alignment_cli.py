"""``lowfreq alignment --raw-data DIR --model NAME``: model-vs-human benchmark metrics as JSON on stdout.

``lowfreq.cli.main`` dispatches ``main(["alignment", ...])`` here; the result equals
:func:`lowfreq.analysis.alignment.benchmark_from_raw_data` (NaN written as ``null``).
"""

from __future__ import annotations

import json
import sys

from jsonargparse import ArgumentParser

from lowfreq.analysis.alignment import BENCHMARK_DATASETS, benchmark_from_raw_data
from lowfreq.io import to_jsonable, write_json

__all__ = ["alignment_main", "alignment_parser"]


def alignment_parser() -> ArgumentParser:
    """The jsonargparse parser of the ``alignment`` subcommand."""
    parser = ArgumentParser(
        prog="lowfreq alignment",
        description=(
            "Model-vs-human benchmark metrics (shape bias, error consistency, observed consistency, accuracy "
            "difference, OOD accuracy, per dataset and aggregated as the benchmark does) for one model whose "
            "decision CSVs sit in a model-vs-human raw-data directory, plus the humans-vs-humans reference."
        ),
        env_prefix="LOWFREQ_ALIGNMENT",
    )
    parser.add_argument(
        "--raw-data",
        "--raw_data",
        dest="raw_data",
        type=str,
        required=True,
        help=(
            "raw-data directory: <dir>/<dataset>/*.csv in model-vs-human's format (humans and models); "
            "model-vs-human's own raw-data folder works as is (non-dataset folders such as performances/ are skipped)"
        ),
    )
    parser.add_argument(
        "--model",
        type=str | None,
        default=None,
        help="the model's subj name in the CSVs (e.g. bagnet33); omit for the humans-vs-humans reference only",
    )
    parser.add_argument(
        "--datasets",
        type=list[str] | None,
        default=None,
        help=f"datasets to evaluate (default: all the model has; with no model, all present). Names: {list(BENCHMARK_DATASETS)}",
    )
    parser.add_argument("--exclude", type=bool, default=True, help="drop the benchmark's excluded conditions")
    parser.add_argument(
        "--humans_on_model_stimuli",
        type=bool,
        default=False,
        help="compute the human reference only on the stimuli the model saw",
    )
    parser.add_argument("--output", type=str | None, default=None, help="also write the JSON to this file")
    return parser


def alignment_main(args: list[str] | None = None) -> None:
    """Parse ``args`` (default ``sys.argv[2:]``, after ``lowfreq alignment``) and print the JSON result."""
    parser = alignment_parser()
    cfg = parser.parse_args(sys.argv[2:] if args is None else args)
    try:
        result = benchmark_from_raw_data(
            cfg.raw_data,
            cfg.model,
            cfg.datasets,
            exclude=cfg.exclude,
            humans_on_model_stimuli=cfg.humans_on_model_stimuli,
        )
    except (FileNotFoundError, ValueError) as err:
        parser.error(str(err))
    if cfg.output:
        write_json(cfg.output, result)
    sys.stdout.write(json.dumps(to_jsonable(result), indent=2) + "\n")
