"""RunSummary: the headline results of a run, printed and written as ``summary.json`` when it ends.

The headlines come from the trainer's ``callback_metrics`` (``METRICS``) and from the analyses'
``<log_dir>/analysis/<name>/result.json`` files: each holds the headline quantities its analysis declares
([`lowfreq.results.columns.Headline`][lowfreq.results.columns.Headline], evaluated when it was written), and those
marked ``in_summary`` are shown, analyses by name, each in its declared order (``lowfreq compare`` and ``lowfreq
report`` read the same entries). Analyses that did not run are left out; every ``result.json`` present is listed, with
or without a headline.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_info

from lowfreq.core.describe import run_label
from lowfreq.core.io import write_json
from lowfreq.results.columns import Column, as_number, headlines_in

__all__ = ["METRICS", "RunSummary", "format_summary", "read_headlines"]

log = logging.getLogger(__name__)


METRICS: tuple[tuple[str, str], ...] = (
    ("test_acc", "test accuracy"),
    ("val_acc", "val accuracy"),
    ("val_masked_acc", "val accuracy through the mask"),
)
"""(``callback_metrics`` key, label) of the headline metrics."""


def _number(value: Any) -> float | None:
    """A finite float, or None (NaN / missing / not a number)."""
    number = as_number(value)
    return number if math.isfinite(number) else None


def read_headlines(run_dir: str | Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The summary's headlines of every ``analysis/*/result.json`` under ``run_dir``.

    Args:
        run_dir: the run directory (``lightning_logs/version_N``).

    Returns:
        ``(headlines, files)``: one dict per stored headline marked ``in_summary`` (analyses by name, headlines in
        their declared order): ``analysis``, ``file`` and the stored entry (``name``, ``description``, ``unit``,
        ``direction``, ``paper``, ``per_255``, ``integer``, ``in_summary``, ``value`` (None when NaN), ``count``);
        and ``{analysis name: result.json path}`` for every analysis that wrote one. Unreadable files are named in
        a warning and skipped.
    """
    files = {p.parent.name: str(p) for p in sorted(Path(run_dir).glob("analysis/*/result.json"))}
    headlines = []
    for name, path in files.items():
        try:
            result = json.loads(Path(path).read_text())
        except (OSError, ValueError) as err:
            log.warning("RunSummary could not read %s: %s", path, err)
            continue
        for found in headlines_in(result, name):
            if found.column.in_summary:
                headlines.append({"analysis": name, **found.column.to_json(), "value": _number(found.value),
                                  "count": found.count, "file": path})
    return headlines, files


class RunSummary(L.Callback):
    """At the end of ``fit``, ``validate`` and ``test``: print the headline results and write ``summary.json``.

    Reads the trainer's ``callback_metrics`` (``METRICS``) and the headlines of the analyses' ``result.json`` files
    (``read_headlines``), so it must run after the analysis callbacks (the
    CLI appends it after the recipe's callbacks). Rank 0 prints the table (``rank_zero_info``) and writes
    ``<log_dir>/summary.json`` atomically: ``run`` (label of the model), ``stage``, ``global_step``, ``run_dir``,
    ``metrics``, ``headlines`` and ``result_files``. ``lowfreq fit|validate|test`` add it; add it to
    ``trainer.callbacks`` elsewhere.
    """

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Summarise after fit (and after the analyses that run in ``on_fit_end``)."""
        self.summarise(trainer, pl_module, "fit")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Summarise at the end of ``validate`` (not after the validation epochs of a fit)."""
        if trainer.state.fn == TrainerFn.VALIDATING:
            self.summarise(trainer, pl_module, "validate")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Summarise at the end of ``test``."""
        self.summarise(trainer, pl_module, "test")

    def summarise(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> dict[str, Any] | None:
        """Build, print and write the summary (``trainer.log_dir`` broadcasts: call on every rank).

        Returns:
            The summary dict on rank 0, None on the other ranks.
        """
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)  # a collective: every rank
        if not trainer.is_global_zero:
            return None
        metrics = {}
        for key, _ in METRICS:
            value = trainer.callback_metrics.get(key)
            if value is not None and _number(float(value)) is not None:
                metrics[key] = float(value)
        headlines, files = read_headlines(run_dir)
        step: int | None = int(trainer.global_step)
        if stage != "fit":  # validate / test keep step 0: the checkpoint knows its step; none: pretrained weights
            step = _checkpoint_step(trainer.ckpt_path, 0) if trainer.ckpt_path else None
        summary = {
            "run": run_label(pl_module),
            "stage": stage,
            "global_step": step,
            "run_dir": str(run_dir.resolve()),
            "metrics": metrics,
            "headlines": headlines,
            "result_files": files,
        }
        path = run_dir / "summary.json"
        write_json(path, summary)
        rank_zero_info(format_summary(summary, path))
        return summary


def _checkpoint_step(path: str | Path, default: int) -> int:
    """The ``global_step`` a Lightning checkpoint was saved at (``default`` when it cannot be read)."""
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as err:  # any unreadable file only costs the step, never the summary
        log.warning("RunSummary could not read the step of %s: %s", path, err)
        return default
    step = checkpoint.get("global_step") if isinstance(checkpoint, dict) else None
    return int(step) if isinstance(step, int) else default


def format_summary(summary: dict[str, Any], path: str | Path) -> str:
    """The printed table of a summary dict (see [`RunSummary`][lowfreq.callbacks.summary.RunSummary]).

    Args:
        summary: the dict [`RunSummary.summarise`][lowfreq.callbacks.summary.RunSummary.summarise] writes.
        path: where it was written (shown in the last line).
    """
    run_dir = Path(summary["run_dir"])
    rows = [(label, summary["metrics"][key], None, "", Column(key, label))
            for key, label in METRICS if key in summary["metrics"]]
    for line in summary["headlines"]:
        result_path = Path(line["file"]).resolve()
        shown = result_path.relative_to(run_dir) if result_path.is_relative_to(run_dir) else result_path
        rows.append((line["description"], line["value"], line["count"], str(shown), Column.from_json(line)))
    width = max([len(r[0]) for r in rows] + [10])
    stage, step = summary["stage"], summary["global_step"]
    if stage == "fit":
        done = f"fit finished at step {step}"
    else:
        done = f"{stage} finished ({'pretrained weights, no checkpoint' if step is None else f'model at step {step}'})"
    lines = [f"{summary['run']} — {done}"]
    for label, value, n, shown_path, column in rows:
        text = "n/a" if value is None else column.format(value)
        count = f"n={n}" if n is not None else ""
        lines.append(f"  {label:<{width}}  {text:>8}  {count:<8}  {shown_path}".rstrip())
    if not rows:
        lines.append("  (no metrics or analysis results)")
    headlined = {line["analysis"] for line in summary["headlines"]}
    for name, result_file in summary["result_files"].items():
        if name not in headlined:
            lines.append(f"  {name}: {result_file}")
    lines.append(f"run directory: {run_dir}")
    lines.append(f"summary: {path}")
    return "\n".join(lines)
