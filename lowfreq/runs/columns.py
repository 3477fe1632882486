"""The quantities of a run directory: which ``analysis/<name>/result.json`` key holds what (``COLUMNS``).

One table serves ``lowfreq compare`` and ``lowfreq report`` ([`lowfreq.runs.compare`][lowfreq.runs.compare]) and the summary
printed at the end of ``fit`` / ``validate`` / ``test``
([`lowfreq.callbacks.RunSummary`][lowfreq.callbacks.summary.RunSummary]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["COLUMNS", "Column", "as_number", "lookup"]


@dataclass(frozen=True)
class Column:
    """One result quantity: where it is read from and what it means.

    Args:
        name: column name in the tables.
        analysis: ``analysis/<analysis>/result.json`` it comes from, or ``"metrics"`` for logged accuracies.
        key: dotted path inside that JSON (list positions as numbers: ``table.0.pgd``), or the logged metric.
        description: what the value is, with its unit.
        per_255: an L-inf budget on the [0, 1] scale, shown in units of 1/255 (the tables keep the raw value).
        count: dotted path of the number of images behind the value (a list counts its items); None if none.
        headline: shown in the summary printed at the end of a run.
        integer: a count, printed without decimals.
    """

    name: str
    analysis: str
    key: str
    description: str
    per_255: bool = False
    count: str | None = None
    headline: bool = False
    integer: bool = False

    def format(self, value: float) -> str:
        """The value as tables print it.

        ``-`` when missing, ``3.12/255`` for budgets, counts as integers, any other value with 4 significant digits
        kept (``1.000``, ``0.000``, ``0.8330``), so that 1 and 0 read as the fractions they are.
        """
        if not math.isfinite(value):
            return "-"
        if self.integer:
            return str(round(value))
        return f"{value * 255:.3g}/255" if self.per_255 else f"{value:#.4g}"


COLUMNS: tuple[Column, ...] = (
    Column("test_acc", "metrics", "test_acc", "last logged test accuracy (fraction)"),
    Column("val_acc", "metrics", "val_acc", "last logged validation accuracy (fraction)"),
    Column(
        "f_rev",
        "hybrid",
        "hybrid.f_rev",
        "hybrid reversal frequency, mean over crossing permutations (Nyquist units)",
        count="hybrid.num_pairs",
        headline=True,
    ),
    Column(
        "f_rev_crossing",
        "hybrid",
        "hybrid.num_crossing",
        "permutations behind f_rev (p_low - p_high changes sign), of n",
        count="hybrid.f_rev_per_permutation",
        headline=True,
        integer=True,
    ),
    Column("f_rev_perm_std", "hybrid", "hybrid.f_rev_std", "std of f_rev over permutations (Nyquist units)"),
    Column(
        "f_half",
        "adversarial",
        "f_half",
        "half-power frequency of minimal perturbations (cycles/pixel)",
        count="indices",
        headline=True,
    ),
    Column("f_half_boot_std", "adversarial", "f_half_std", "bootstrap std of f_half (cycles/pixel)"),
    Column(
        "eps_median",
        "adversarial",
        "summary.median",
        "epsilon at 50 % attack success (L-inf)",
        per_255=True,
        count="indices",
        headline=True,
    ),
    Column(
        "eps_mean",
        "adversarial",
        "summary.mean",
        "mean minimal L-inf epsilon of successful attacks",
        per_255=True,
        count="indices",
    ),
    Column("eps_std", "adversarial", "summary.std", "std of the minimal L-inf epsilons", per_255=True),
    Column("adv_failed", "adversarial", "summary.num_failed", "images where every attack failed", integer=True),
    Column(
        "corruption_acc",
        "corruptions",
        "result.mean_acc",
        "mean accuracy over corruptions x severities",
        count="result.num_clean",
        headline=True,
    ),
    Column(
        "corruption_low",
        "corruptions",
        "result.band_acc.low",
        "accuracy on low-frequency corruptions",
        count="result.num_clean",
    ),
    Column(
        "corruption_medium",
        "corruptions",
        "result.band_acc.medium",
        "accuracy on medium-frequency corruptions",
        count="result.num_clean",
    ),
    Column(
        "corruption_high",
        "corruptions",
        "result.band_acc.high",
        "accuracy on high-frequency corruptions",
        count="result.num_clean",
    ),
    Column("corruption_clean", "corruptions", "result.clean_acc", "clean accuracy on the corruption subset"),
    Column(
        "component_acc",
        "frequency_components",
        "last.acc",
        "accuracy on the component-analysis subset",
        count="last.num_images",
        headline=True,
    ),
    Column(
        "shape_bias",
        "cue_conflict",
        "result.shape_bias",
        "cue-conflict shape bias (synthetic shapes)",
        count="result.num_images",
        headline=True,
    ),
    Column(
        "mvh_shape_bias",
        "model_vs_human",
        "shape_bias",
        "model-vs-human shape bias",
        count="num_stimuli",
        headline=True,
    ),
    Column(
        "error_consistency",
        "model_vs_human",
        "error_consistency",
        "model-vs-human error consistency (kappa)",
        count="num_stimuli",
        headline=True,
    ),
    Column("observed_consistency", "model_vs_human", "observed_consistency", "model-vs-human observed consistency"),
    Column("accuracy_difference", "model_vs_human", "accuracy_difference", "model-vs-human accuracy difference"),
    Column(
        "ood_accuracy",
        "model_vs_human",
        "ood_accuracy",
        "model-vs-human OOD accuracy",
        count="num_stimuli",
        headline=True,
    ),
    Column("mask_mean", "fourier_mask", "mask_mean", "mean of the learned Fourier mask (its L1 energy)"),
    Column(
        "mask_acc",
        "fourier_mask",
        "accuracy.masked",
        "accuracy on mask-filtered images",
        count="num_images",
        headline=True,
    ),
    Column("mask_complement_acc", "fourier_mask", "accuracy.complement", "accuracy on complement-filtered images"),
    Column("robust_clean", "robustness", "table.0.clean", "clean accuracy, first rho of the smoothing table"),
    Column("robust_fgsm", "robustness", "table.0.fgsm", "FGSM accuracy, first rho of the smoothing table"),
    Column(
        "robust_pgd",
        "robustness",
        "table.0.pgd",
        "PGD accuracy, first rho of the smoothing table",
        count="num_images",
        headline=True,
    ),
)
"""Every quantity that ``lowfreq compare``, ``lowfreq report`` and the end-of-run summary read; a new analysis adds
its lines here."""


def lookup(data: Any, key: str, default: Any = None) -> Any:
    """``data`` followed along a dotted path (list items by index); ``default`` where the path does not exist."""
    for part in key.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return default
    return data


def as_number(value: Any) -> float:
    """A real number as float; NaN for None, booleans and anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)
