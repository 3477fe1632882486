"""Runs side by side: ``lowfreq compare RUN_DIR... [--out DIR]`` (P001 Figs 4c and 5b, P000 Fig 4).

[`collect_runs`][lowfreq.results.compare.collect_runs] reads what each run directory (``lightning_logs/version_N``)
holds — its saved ``config.yaml``, the last logged accuracies (``METRIC_COLUMNS``) and the headlines every
``analysis/<name>/result.json`` holds ([`Headline`][lowfreq.results.columns.Headline]) — into one row per run, one
column per quantity any run has (metrics first, then the analyses by name, each in its declared order); a missing
analysis leaves its columns empty and is named in the row's ``missing``.
[`aggregate_seeds`][lowfreq.results.compare.aggregate_seeds] turns runs of one setting (the same resolved config but
the seed and the analysis sizes, see [`setting_config`][lowfreq.results.compare.setting_config]) into mean ± std; a
seed repeated within a setting is kept apart, never pooled. [`compare_runs`][lowfreq.results.compare.compare_runs]
writes both tables as CSV, the scatter plots of ``lowfreq.plotting.compare``, and ``comparison.json``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd
import yaml

from lowfreq.core.describe import argument_text, pair_label
from lowfreq.core.io import atomic_write, read_json, save_figure, write_json
from lowfreq.results.columns import METRIC_COLUMNS, Column, as_number, headlines_in

__all__ = [
    "aggregate_seeds",
    "collect_runs",
    "collect_table",
    "compare",
    "compare_main",
    "compare_runs",
    "find_runs",
    "logged_scalars",
    "run_columns",
    "run_label",
    "setting_config",
]

log = logging.getLogger(__name__)


_LABEL_PARAMS: dict[str, tuple[str, ...]] = {
    "GaussianBlur": ("sigma",),
    "DownUpResize": ("size",),
    "PCAProjection": ("num_components",),
    "IdealFilter": ("mode", "cutoff"),
}
_BACKBONE_LABEL_PARAMS: dict[str, tuple[str, ...]] = {"CIFARResNet18": ("width",), "PreActResNet32": ("width",)}

# keys of a saved config that name where or how verbosely a run ran, or how many images its analyses used: runs
# that differ only in these (and in the seed) are seeds of one setting
_NOT_SETTING_KEYS = frozenset({
    "seed_everything", "ckpt_path", "verbose", "weights_only", "return_predictions",
    "analyses.num_images", "analyses.skip", "analyses.full_at_epochs",
    *(f"trainer.{k}" for k in ("logger", "default_root_dir", "enable_progress_bar", "enable_model_summary",
                               "enable_checkpointing", "log_every_n_steps", "num_sanity_val_steps", "profiler",
                               "enable_autolog_hparams", "model_registry", "detect_anomaly", "barebones")),
    "data.init_args.num_workers", "data.init_args.device_resident", "data.init_args.data_dir",
    *(f"model.init_args.backbone.init_args.{k}" for k in ("cache_dir", "model_dir")),
})
_ANALYSIS_SIZE_ARGS = frozenset({"num_images", "batch_size", "progress"})
_ID_COLUMNS = ("run", "label", "setting", "seed", "frontend", "frontend_param", "backbone", "run_dir", "missing")


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Run directories named by ``paths``, in order.

    A path is a run itself (it holds ``config.yaml`` or ``analysis/``) or a folder whose ``version_*`` or
    ``*/version_*`` subfolders are runs (e.g. ``lightning_logs``), taken in sorted order.
    """
    runs: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            raise FileNotFoundError(f"run directory {str(path)!r} does not exist")
        if (path / "config.yaml").is_file() or (path / "analysis").is_dir():
            runs.append(path)
            continue
        found = sorted(p for p in [*path.glob("version_*"), *path.glob("*/version_*")] if p.is_dir())
        if not found:
            raise FileNotFoundError(
                f"{str(path)!r} is not a run directory (no config.yaml or analysis/ in it, no version_* below it)"
            )
        runs.extend(found)
    return runs


def _spec_name(spec: Any) -> str:
    """Class name of a ``{class_path, init_args}`` spec (or a plain class path string)."""
    path = spec.get("class_path", "") if isinstance(spec, dict) else str(spec or "")
    return path.rsplit(".", 1)[-1]


def _frontend_part(spec: Any) -> tuple[str, Any]:
    """("GaussianBlur(σ=1.5)", 1.5) for a front-end spec; the number is its main parameter (None if none)."""
    name = _spec_name(spec) or "Identity"
    args = (spec.get("init_args") or {}) if isinstance(spec, dict) else {}
    params = [p for p in _LABEL_PARAMS.get(name, ()) if p in args]
    if not params:
        return name, None
    text = ", ".join(t for t in (argument_text(p, args[p]) for p in params) if t is not None)
    numeric = [args[p] for p in params if isinstance(args[p], (int, float)) and not isinstance(args[p], bool)]
    return f"{name}({text})" if text else name, numeric[0] if numeric else None


def run_label(config: dict[str, Any]) -> str:
    """A readable name of a run from its saved config, without the seed: ``"GaussianBlur(σ=1.5) + SimpleCNN"``.

    An ``Identity`` front-end gives ``"SimpleCNN, no front-end"``, as the run's own figures and summary say.

    Models without a front-end/backbone pair (e.g. a mask probe) are named by their class.
    """
    return _describe(config)[0]


def _backbone_part(spec: Any) -> str:
    """"CIFARResNet18(width=16)" for a backbone spec (its width where the config has one)."""
    name = _spec_name(spec)
    args = (spec.get("init_args") or {}) if isinstance(spec, dict) else {}
    params = [p for p in _BACKBONE_LABEL_PARAMS.get(name, ()) if p in args]
    texts = [t for t in (argument_text(p, args[p]) for p in params) if t is not None]
    return f"{name}({', '.join(texts)})" if texts else name


def _describe(config: dict[str, Any]) -> tuple[str, str, Any, str]:
    """(label, front-end class, its main parameter, backbone class) of a saved config."""
    model = config.get("model") or {}
    args = (model.get("init_args") or {}) if isinstance(model, dict) else {}
    if "backbone" not in args:
        name = _spec_name(model) or "unknown model"
        return name, "", None, ""
    frontend, param = _frontend_part(args.get("frontend"))
    backbone = _spec_name(args.get("backbone"))
    frontend_class = _spec_name(args.get("frontend")) or "Identity"
    backbone_text = _backbone_part(args.get("backbone"))
    # named as the run's own figures name it (lowfreq.core.describe.run_label)
    return pair_label(frontend, backbone_text), frontend_class, param, backbone


def setting_config(config: dict[str, Any], stage: str = "fit") -> dict[str, str]:
    """The flattened config that defines a run's setting: ``{dotted key: value as YAML text}``.

    Everything the saved config resolves counts except the seed, the analyses' sizes (``num_images``,
    ``batch_size``, ``progress`` of each callback, ``analyses.*`` caps) and where or how verbosely the run ran
    (log folder, logger, progress bar...). A ``validate`` / ``test`` run adds its stage and checkpoint: it
    analyses that checkpoint, not a training of its own. Callbacks are keyed by class name.
    """
    flat: dict[str, str] = {}

    def visit(prefix: str, value: Any) -> None:
        if prefix in _NOT_SETTING_KEYS:
            return
        if isinstance(value, dict) and value:
            for key, item in value.items():
                visit(f"{prefix}.{key}" if prefix else str(key), item)
        elif prefix == "trainer.callbacks" and isinstance(value, list):
            for spec in value:
                name = _spec_name(spec)
                args = (spec.get("init_args") or {}) if isinstance(spec, dict) else {}
                kept = {k: v for k, v in args.items() if k not in _ANALYSIS_SIZE_ARGS}
                if kept:
                    visit(f"trainer.callbacks.{name}", kept)
                else:
                    flat[f"trainer.callbacks.{name}"] = "on"
        else:
            flat[prefix] = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()

    visit("", config)
    if stage != "fit":
        flat["stage"] = stage
        ckpt = config.get("ckpt_path")
        if ckpt:
            flat["checkpoint"] = str(ckpt)
    return flat


def _run_stage(run: Path, config: dict[str, Any]) -> str:
    """The stage (fit / validate / test) from the run's summary.json, else from its config."""
    summary = run / "summary.json"
    if summary.is_file():
        try:
            return str(read_json(summary).get("stage") or "fit")
        except (OSError, ValueError):
            pass
    return "validate or test" if "verbose" in config else "fit"


def logged_scalars(run: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    """Every scalar series a run logged, ``{tag: (steps, values)}``, in logging order.

    Read from the run's ``metrics.csv`` files (CSVLogger), then from its TensorBoard event files for the tags the
    CSV files do not have.
    """
    run = Path(run)
    series: dict[str, tuple[list[int], list[float]]] = {}
    for path in sorted(run.glob("**/metrics.csv")):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                step = int(float(row.get("step") or 0))
                for name, text in row.items():
                    if name and name not in ("step", "epoch") and text not in (None, ""):
                        steps, values = series.setdefault(name, ([], []))
                        steps.append(step)
                        values.append(float(text))
    from_csv = set(series)
    events = sorted(run.glob("events.out.tfevents.*"))
    if events:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        for path in events:
            acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
            acc.Reload()
            for tag in acc.Tags().get("scalars", []):
                if tag not in from_csv:
                    steps, values = series.setdefault(tag, ([], []))
                    for event in acc.Scalars(tag):
                        steps.append(int(event.step))
                        values.append(float(event.value))
    return series


def _read_run(run: Path, name: str | None, notes: list[str]) -> tuple[dict[str, Any], list[Column]]:
    """The row of one run (without ``missing``) and the columns of the quantities it has, in order."""
    config_path = run / "config.yaml"
    config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
    label, frontend, param, backbone = _describe(config or {})
    seed = (config or {}).get("seed_everything")
    row: dict[str, Any] = {
        "run": "",
        "label": name or label,
        "setting": name or label,
        "seed": seed,
        "config": setting_config(config or {}, _run_stage(run, config or {})),
        "frontend": frontend,
        "frontend_param": param,
        "backbone": backbone,
        "run_dir": str(run),
    }
    logged = {tag: values[-1] for tag, (_, values) in logged_scalars(run).items() if values}
    columns = list(METRIC_COLUMNS)
    for column in METRIC_COLUMNS:
        row[column.name] = as_number(logged.get(column.name))
    for path in sorted(run.glob("analysis/*/result.json")):
        try:
            result = read_json(path)
        except (OSError, ValueError) as err:
            notes.append(f"{path} is unreadable ({err}), left out")
            continue
        for found in headlines_in(result, path.parent.name):
            columns.append(found.column)
            row[found.column.name] = found.value
    row["present"] = {c.analysis for c in columns if math.isfinite(row[c.name])}
    return row, columns


def _union(per_run: Sequence[Sequence[Column]]) -> list[Column]:
    """Every quantity of any run once: metrics first, then the analyses by name, each in its declared order."""
    by_analysis: dict[str, dict[str, Column]] = {}
    for columns in per_run:
        for column in columns:
            by_analysis.setdefault(column.analysis, {}).setdefault(column.name, column)
    order = ["metrics", *sorted(set(by_analysis) - {"metrics"})]
    union = [column for analysis in order for column in by_analysis.get(analysis, {}).values()]
    analysis_of: dict[str, str] = {}
    for column in union:
        other = analysis_of.setdefault(column.name, column.analysis)
        if other != column.analysis:
            raise ValueError(f"headline names must be unique across analyses: {column.name!r} is declared by both "
                             f"{other!r} and {column.analysis!r}")
    return union


def collect_runs(run_dirs: Sequence[str | Path], names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per run: its label, setting, seed and every quantity it has (NaN where another run has one it lacks).

    Args:
        run_dirs: run directories (``lightning_logs/version_N``) or folders of them (see
            [`find_runs`][lowfreq.results.compare.find_runs]).
        names: one label per run, replacing the one built from the config (runs with equal names are treated as
            seeds of one setting).

    Returns:
        DataFrame with the columns ``run, label, setting, seed, frontend, frontend_param, backbone, run_dir,
        missing`` (the analyses other runs have and this one lacks, space-separated; ``metrics``: no logged
        accuracy), then ``test_acc``, ``val_acc`` and one column per headline that any run's result files hold
        ([`run_columns`][lowfreq.results.compare.run_columns] says what each means).
    """
    return collect_table(run_dirs, names, [])[0]


def run_columns(run_dirs: Sequence[str | Path]) -> list[Column]:
    """The quantities that [`collect_runs`][lowfreq.results.compare.collect_runs] gives columns to, in its order."""
    return collect_table(run_dirs, None, [])[1]


def collect_table(
    run_dirs: Sequence[str | Path], names: Sequence[str] | None, notes: list[str]
) -> tuple[pd.DataFrame, list[Column]]:
    """[`collect_runs`][lowfreq.results.compare.collect_runs]'s table and its columns, from one reading of the runs.

    ``notes`` receives a line for each result file that could not be read.
    """
    runs = find_runs(run_dirs)
    if names is not None and len(names) != len(runs):
        raise ValueError(f"names must give one name per run: {len(runs)} runs, got {len(names)} names")
    read = [_read_run(run, None if names is None else names[i], notes) for i, run in enumerate(runs)]
    rows = [row for row, _ in read]
    columns = _union([found for _, found in read])
    anywhere = set().union(*(row["present"] for row in rows))
    for row in rows:
        row["missing"] = " ".join(sorted(anywhere - row.pop("present")))
    if names is None:
        _label_settings(rows)
    _separate_repeated_seeds(rows)
    for row in rows:
        seed = row["seed"]
        row["run"] = f"{row['setting']} seed {seed}" if seed is not None else row["setting"]
    table = pd.DataFrame(rows, columns=[*_ID_COLUMNS, *(c.name for c in columns)])
    return table.astype({c.name: float for c in columns}), columns


def _short_keys(keys: Sequence[str]) -> dict[str, str]:
    """Each dotted key by its last part, or more parts where the last is shared (``max_epochs``, ``width``)."""
    short = {}
    for key in keys:
        parts = [p for p in key.split(".") if p != "init_args"]
        depth = 1
        while depth < len(parts) and sum(k.split(".")[-1] == parts[-1] for k in keys) > 1:
            candidate = ".".join(parts[-depth:])
            if sum(".".join([p for p in k.split(".") if p != "init_args"][-depth:]) == candidate for k in keys) == 1:
                break
            depth += 1
        short[key] = ".".join(parts[-depth:])
    return short


def _label_settings(rows: list[dict[str, Any]]) -> None:
    """One setting per distinct setting config; labels that share a name get what differs between them."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    for label, group in by_label.items():
        distinct = {json.dumps(r["config"], sort_keys=True) for r in group}
        if len(distinct) == 1:
            continue
        keys = sorted({k for r in group for k in r["config"]})
        differing = [k for k in keys if len({r["config"].get(k) for r in group}) > 1]
        short = _short_keys(differing)
        for row in group:
            parts = []
            for key in differing:
                value = row["config"].get(key)
                if key == "stage":
                    parts.append(str(value or "fit"))
                elif key == "checkpoint":
                    parts.append(f"checkpoint {'/'.join(Path(value).parts[-3:])}" if value else "")
                else:
                    parts.append(f"{short[key]}={value if value is not None else '-'}")
            row["setting"] = row["label"] = f"{label} [{', '.join(p for p in parts if p)}]"


def _separate_repeated_seeds(rows: list[dict[str, Any]]) -> None:
    """A seed that appears twice in one setting is no second seed: the repeat becomes a setting of its own."""
    seen: dict[tuple[str, Any], int] = {}
    for row in rows:
        if row["seed"] is None:
            continue
        key = (row["setting"], row["seed"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            log.warning("compare: %s repeats seed %s of setting %r: kept apart, not pooled as another seed",
                        row["run_dir"], row["seed"], row["setting"])
            row["setting"] = row["label"] = f"{row['setting']} (repeat {seen[key]})"


def aggregate_seeds(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and std (ddof 1; 0 for one run) of every value over the runs of each setting.

    Returns:
        One row per setting: ``setting, frontend, frontend_param, backbone, num_runs, seeds, run_dirs`` and, per
        quantity of ``table`` (every column after ``missing``), ``<name>_mean``, ``<name>_seed_std`` (over the runs
        that have it) and ``<name>_n`` (how many runs have it; NaN mean and std where none has).
    """
    quantities = list(table.columns[len(_ID_COLUMNS):])
    rows = []
    for setting, group in table.groupby("setting", sort=False):
        row: dict[str, Any] = {
            "setting": setting,
            "frontend": group["frontend"].iloc[0],
            "frontend_param": group["frontend_param"].iloc[0],
            "backbone": group["backbone"].iloc[0],
            "num_runs": len(group),
            "seeds": " ".join(str(s) for s in group["seed"].tolist()),
            "run_dirs": " ".join(group["run_dir"].tolist()),
        }
        for name in quantities:
            values = group[name].dropna()
            row[f"{name}_mean"] = float(values.mean()) if len(values) else math.nan
            spread = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            row[f"{name}_seed_std"] = spread if len(values) else math.nan
            row[f"{name}_n"] = len(values)
        rows.append(row)
    return cast("pd.DataFrame", pd.DataFrame(rows))


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_write(path, newline="") as f:
        table.to_csv(f, index=False)


def compare_runs(
    run_dirs: Sequence[str | Path], out: str | Path = "comparison", names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Collect several runs, write ``runs.csv``, ``settings.csv``, ``comparison.json`` and the scatter plots.

    Figures (PNG + PDF, each only where at least one setting has both of its values): ``eps_vs_f_half`` (mean
    minimal epsilon, log scale, vs f_0.5; P001 Fig 4c), ``corruption_vs_f_rev`` (mean corruption accuracy vs
    f_rev with a quadratic fit over the Gaussian-blur settings; P001 Fig 5b), ``consistency_vs_ood`` (error
    consistency vs OOD accuracy; P000 Fig 4).

    Returns:
        ``{"runs": per-run DataFrame, "settings": per-setting DataFrame, "columns": [the quantities' Column, in
        table order], "figures": {stem: [paths]}, "missing": {run: [analyses]}, "notes": [str], "out": Path}``.
    """
    from lowfreq.plotting.compare import FIGURES

    notes: list[str] = []
    table, columns = collect_table(run_dirs, names, notes)
    settings = aggregate_seeds(table)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(table, out / "runs.csv")
    _write_csv(settings, out / "settings.csv")
    figures = _overlays(table, out, notes)
    for stem, (needs, plot) in FIGURES.items():
        usable = settings[[f"{n}_n" for n in needs]].gt(0).all(axis=1) if all(
            f"{n}_n" in settings for n in needs) else settings["num_runs"].lt(0)  # a quantity no run has
        count = int(usable.sum())
        if count:
            figures[stem] = save_figure(plot(settings[usable])[0], out / stem)
        wanted = _SCATTER_SETTINGS.get(stem, 2)
        if count < wanted:
            drawn = f"drawn from {count} setting{'s' * (count != 1)}" if count else "not drawn"
            notes.append(f"{stem} {drawn}: it needs {' and '.join(needs)} from at least {wanted} settings "
                         f"({_SCATTER_NEEDS.get(stem, 'a trend across settings')})")
    missing = {str(run): str(lacks).split() for run, lacks in zip(table["run"], table["missing"], strict=True) if lacks}
    write_json(out / "comparison.json", {
        "runs": table.to_dict(orient="records"),
        "settings": settings.to_dict(orient="records"),
        "columns": {c.name: {"analysis": c.analysis, **c.to_json()} for c in columns},
        "figures": {k: [str(p) for p in v] for k, v in figures.items()},
        "missing": missing,
        "notes": notes,
    })
    return {"runs": table, "settings": settings, "columns": columns, "figures": figures, "missing": missing,
            "notes": notes, "out": out}


_SCATTER_SETTINGS = {"corruption_vs_f_rev": 3}
_SCATTER_NEEDS = {
    "eps_vs_f_half": "the adversarial analysis",
    "corruption_vs_f_rev": "the hybrid and corruption analyses; 3 Gaussian-blur settings for the quadratic fit",
    "consistency_vs_ood": "the model-vs-human analysis",
}


def _overlays(table: pd.DataFrame, out: Path, notes: list[str]) -> dict[str, list[Path]]:
    """Every overlay of ``lowfreq.plotting.overlays.OVERLAYS`` that at least two runs can share (notes on the rest)."""
    from lowfreq.plotting.overlays import OVERLAYS

    figures: dict[str, list[Path]] = {}
    for stem, overlay in OVERLAYS.items():
        runs = []
        for label, run_dir in zip(table["run"], table["run_dir"], strict=True):
            path = Path(run_dir) / "analysis" / overlay.analysis / "result.json"
            try:
                payload = read_json(path) if path.is_file() else None
            except (OSError, ValueError) as err:
                notes.append(f"{stem}: {path} is unreadable ({err}), left out")
                continue
            if isinstance(payload, dict) and overlay.needs(payload):
                runs.append((str(label), payload))
        if len(runs) >= 2:
            try:
                figures[stem] = save_figure(overlay.plot(runs)[0], out / stem)
            except (KeyError, TypeError, ValueError, IndexError) as err:  # an older or hand-edited result file
                notes.append(f"{stem} not drawn: a result file lacks what the curve needs ({type(err).__name__}: "
                             f"{err})")
        elif runs:
            notes.append(f"{stem} not drawn: only {runs[0][0]} has the {overlay.analysis} curve "
                         "(an overlay needs 2 runs)")
    return figures


def _printed_table(table: pd.DataFrame, columns: Sequence[Column]) -> str:
    shown = [c for c in columns if table[c.name].notna().any()]
    printed = pd.DataFrame({"run": table["run"], **{c.name: table[c.name].map(c.format) for c in shown}})
    return cast("str", printed.to_string(index=False))


def compare(run_dirs: list[str], out: str = "comparison", names: list[str] | None = None) -> None:
    """Put the analysis results of several runs side by side: one table, CSV files and the papers' scatter plots.

    Args:
        run_dirs: run directories (``lightning_logs/version_N``) or folders holding them (``lightning_logs``).
        out: output folder for runs.csv, settings.csv (mean ± std over the seeds of a setting), comparison.json
            and the figures.
        names: one label per run (default: front-end, its parameter and backbone from each run's config.yaml).
    """
    result = compare_runs(run_dirs, out, names)
    lines = [_printed_table(result["runs"], result["columns"]), ""]
    lines += ["settings (the seeds of one setting pooled as mean ± std):"]
    lines += [f"  {row.setting}: {row.num_runs} run(s), seed(s) {row.seeds}: {row.run_dirs}"
              for row in result["settings"].itertuples()]
    lines += [f"{run} lacks: {', '.join(lacks)}" for run, lacks in result["missing"].items()]
    lines += [f"note: {note}" for note in result["notes"]]
    lines += [f"wrote {result['out']}/runs.csv, settings.csv, comparison.json"]
    lines += [f"figure {stem}: {paths[0]}" for stem, paths in result["figures"].items()]
    sys.stdout.write("\n".join(lines) + "\n")


def compare_main(args: list[str] | None = None) -> None:
    """Run [`compare`][lowfreq.results.compare.compare] on ``args`` (default: ``sys.argv[2:]``, after ``compare``)."""
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(prog="lowfreq compare", description=(compare.__doc__ or "").splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="run directories (lightning_logs/version_N) or lightning_logs")
    parser.add_argument("--out", default="comparison", help="output folder (default: comparison)")
    parser.add_argument("--names", nargs="+", default=None, help="one label per run (default: from config.yaml)")
    parsed = parser.parse_args(sys.argv[2:] if args is None else list(args))
    compare(list(parsed.run_dirs), parsed.out, parsed.names)
