"""``lowfreq alignment --raw_data DIR --model NAME [--output DIR]``: model-vs-human benchmark metrics.

Without ``--output`` the command prints the JSON of ``lowfreq.mvh.benchmark_from_raw_data`` (NaN written as
``null``) on stdout. With ``--output`` it writes that JSON, the table of ``lowfreq.mvh.benchmark_table`` as
CSV, the per-category shape bias as CSV and two figures of ``lowfreq.mvh.plotting`` (PNG and PDF): the
per-category shape bias of the model and the humans, and error consistency against OOD accuracy
(``write_alignment``), and prints the table (Markdown) and the written paths instead of the JSON.

The command line is built by jsonargparse from the signature and docstring of [`alignment`][lowfreq.mvh.cli.alignment]
(so it also reads ``--config file.yaml`` and ``LOWFREQ_ALIGNMENT_*`` environment variables); ``lowfreq.cli.entry`` (the
console script) and ``lowfreq.cli.lightning_cli.main`` dispatch ``lowfreq alignment ...`` here. The metrics (pandas,
torch) and matplotlib are imported only when the command runs, so ``--help`` is instant.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from jsonargparse import auto_cli

__all__ = ["alignment", "alignment_main", "alignment_paths", "markdown_table", "write_alignment"]

_DESCRIPTION = (
    "Model-vs-human benchmark metrics (shape bias, error consistency, observed consistency, accuracy difference, "
    "OOD accuracy, per dataset and aggregated as the benchmark does) for one model whose decision CSVs sit in a "
    "model-vs-human raw-data directory, plus the humans-vs-humans reference; with --output also a table (CSV) "
    "and the figures (shape bias per category, error consistency vs OOD accuracy)."
)

#: Short column headers of the printed table.
_HEADERS = {
    "observer": "observer",
    "dataset": "dataset",
    "shape_bias": "shape bias",
    "error_consistency": "κ",
    "observed_consistency": "obs. consistency",
    "accuracy_difference": "acc. difference",
    "ood_accuracy": "OOD acc.",
    "num_trials": "trials",
    "num_humans": "humans",
}


def alignment_paths(output: str | Path) -> dict[str, Path]:
    """Where ``write_alignment`` writes, by kind; figure entries are stems (``.png`` and ``.pdf`` are added).

    A folder ``DIR`` receives ``alignment.json``, ``alignment.csv``, ``shape_bias.csv`` and the figures
    ``shape_bias`` and ``consistency_vs_ood``. A path ending in ``.json`` is the JSON file itself; the other files
    go next to it, named after it: ``out/x.json`` -> ``out/x.csv``, ``out/x_shape_bias.csv``,
    ``out/x_shape_bias.png``, ``out/x_consistency_vs_ood.png``.
    """
    output = Path(output)
    if output.suffix.lower() == ".json":
        folder, json_path, prefix, table = output.parent, output, f"{output.stem}_", output.with_suffix(".csv")
    else:
        folder, json_path, prefix = output, output / "alignment.json", ""
        table = folder / "alignment.csv"
    return {
        "json": json_path,
        "table": table,
        "shape_bias_table": folder / f"{prefix}shape_bias.csv",
        "shape_bias": folder / f"{prefix}shape_bias",
        "consistency_vs_ood": folder / f"{prefix}consistency_vs_ood",
    }


def write_alignment(result: dict[str, Any], output: str | Path) -> dict[str, list[Path]]:
    """Write a benchmark result: its JSON, its tables (CSV) and its two figures (PNG + PDF).

    The paths are ``alignment_paths`` of ``output``. Figures: ``shape_bias``
    (``plot_shape_bias_per_class``; only when cue-conflict trials were evaluated, as is
    ``shape_bias.csv``) and ``consistency_vs_ood`` (``plot_benchmark_consistency``, one
    point per dataset too).

    Returns:
        ``{kind: [written paths]}`` for the kinds of ``alignment_paths`` that were written.
    """
    from lowfreq.core.io import atomic_write, save_figure, write_json
    from lowfreq.mvh.metrics import benchmark_table, shape_bias_table
    from lowfreq.mvh.plotting import plot_benchmark_consistency, plot_shape_bias_per_class

    paths = alignment_paths(output)
    written: dict[str, list[Path]] = {}
    write_json(paths["json"], result)
    written["json"] = [paths["json"]]
    tables = {"table": benchmark_table(result), "shape_bias_table": shape_bias_table(result)}
    for kind, table in tables.items():
        if len(table):
            with atomic_write(paths[kind], newline="") as f:
                table.to_csv(f, index=False)
            written[kind] = [paths[kind]]
    if len(tables["shape_bias_table"]):
        written["shape_bias"] = save_figure(plot_shape_bias_per_class(result)[0], paths["shape_bias"])
    written["consistency_vs_ood"] = save_figure(
        plot_benchmark_consistency(result)[0], paths["consistency_vs_ood"]
    )
    return written


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>":
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown_table(table: Any) -> str:
    """A DataFrame (e.g. ``benchmark_table``) as a Markdown table.

    Floats are written with 3 decimals, missing values as empty cells.
    """
    header = [_HEADERS.get(c, c) for c in table.columns]
    rows = [[_cell(v) for v in row] for row in table.astype(object).itertuples(index=False)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def alignment(
    raw_data: str,
    model: str | None = None,
    datasets: list[str] | None = None,
    exclude: bool = True,
    humans_on_model_stimuli: bool = False,
    output: str | None = None,
) -> dict[str, Any]:
    """Print the benchmark metrics of one model as JSON, or write them with a table and figures.

    Args:
        raw_data: raw-data directory, ``<dir>/<dataset>/*.csv`` in model-vs-human's format (humans and models);
            model-vs-human's own raw-data folder works as is (folders such as ``performances/`` are skipped).
        model: the model's ``subj`` name in the CSVs (e.g. bagnet33); None for the humans-vs-humans reference only.
        datasets: datasets to evaluate (default: all the model has; with no model, all present).
        exclude: drop the benchmark's excluded conditions.
        humans_on_model_stimuli: compute the human reference only on the stimuli the model saw.
        output: write the results there instead of printing the JSON: a folder receives alignment.json,
            alignment.csv (one row per observer and dataset), shape_bias.csv and the figures shape_bias.png/.pdf
            (per category, model and humans) and consistency_vs_ood.png/.pdf (error consistency vs OOD
            accuracy); a path ending in .json is the JSON file and the rest goes next to it, named after it
            (x.csv, x_shape_bias.png, ...). stdout then shows the table and the written files.

    Returns:
        The result of [`benchmark_from_raw_data`][lowfreq.mvh.metrics.benchmark_from_raw_data].
    """
    from lowfreq.core.io import to_jsonable  # here: `lowfreq alignment --help` starts without torch
    from lowfreq.mvh.metrics import benchmark_from_raw_data, benchmark_table

    result = benchmark_from_raw_data(
        raw_data, model, datasets, exclude=exclude, humans_on_model_stimuli=humans_on_model_stimuli
    )
    if not output:
        sys.stdout.write(json.dumps(to_jsonable(result), indent=2) + "\n")
        return result
    written = write_alignment(result, output)
    lines = [markdown_table(benchmark_table(result)), ""]
    lines += [f"{kind}: {', '.join(str(p) for p in paths)}" for kind, paths in written.items()]
    if "shape_bias" not in written:
        lines.append("shape_bias: not drawn (no cue-conflict trials were evaluated)")
    sys.stdout.write("\n".join(lines) + "\n")
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
