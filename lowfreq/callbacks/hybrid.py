"""HybridCurveAnalysis: P001's hybrid-image experiment (p_low, p_high, third class, f_rev) as a callback."""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import Dataset

from lowfreq.analysis.hybrid import HybridCurveMetric, check_f_mix, hybrid_pairs
from lowfreq.callbacks.base import AnalysisCallback, shard_indices, stack_images_labels, stack_items
from lowfreq.core.checks import check_choice, check_positive_int
from lowfreq.core.describe import run_label
from lowfreq.core.seeding import seeded_subset
from lowfreq.plotting.hybrid import plot_hybrid_curve, plot_hybrid_examples, plot_hybrid_probabilities
from lowfreq.results.columns import Headline

__all__ = ["HybridCurveAnalysis"]

log = logging.getLogger(__name__)


def _dataset_labels(dataset: Dataset, indices: Tensor) -> Tensor:
    """Labels of the given items; reads a ``labels`` tensor attribute when there is one instead of every image."""
    labels = getattr(dataset, "labels", None)
    if isinstance(labels, Tensor) and labels.ndim == 1 and labels.shape[0] == len(dataset):  # type: ignore[arg-type]
        return labels[indices].long()
    return stack_items(dataset, indices)[1].long()


class HybridCurveAnalysis(AnalysisCallback):
    """Hybrid-image curves and the reversal frequency f_rev after ``fit`` or in ``lightning validate`` (P001 Fig 3).

    Runs after ``fit`` and at the end of ``lightning validate -c ... --ckpt_path ...`` (not after the validation
    epochs of a fit). Hybrid pairs are drawn on the whole seeded subset (the same on every rank, see
    [`lowfreq.analysis.hybrid_pairs`][lowfreq.analysis.hybrid.hybrid_pairs]); the pair positions are then sharded by
    index across ranks and a [`HybridCurveMetric`][lowfreq.analysis.hybrid.HybridCurveMetric] sums the counts
    (``compute()`` is a collective on every rank), so any number of processes gives the same numbers. Rank 0 writes
    ``<log_dir>/analysis/hybrid/result.json``, ``figure.{png,pdf}`` (p_low - p_high vs f_mix with f_rev) and
    ``probabilities.{png,pdf}`` (p_low, p_high, third class), ``examples.{png,pdf}`` (a grid of example hybrids:
    seeds and hybrids at up to ``EXAMPLE_COLUMNS`` f_mix of the grid), and logs ``analysis_hybrid_f_rev``,
    ``analysis_hybrid_f_rev_std`` and ``analysis_hybrid_f_rev_of_mean``.

    Args:
        f_mix_nyquist: increasing mixing frequencies in **Nyquist units** (1 = 0.5 cycles/pixel) in [0, sqrt(2)];
            None = P001's alpha grid / 100 (``lowfreq.analysis.DEFAULT_F_MIX``). DC always comes from the low seed.
        num_permutations: independent pairings (P001: 4).
        num_images: seed images, >= 2 (seeded random subset of the split; None = the whole split, as P001).
        batch_size: hybrids per forward pass.
        seed: seed of the subset and of the pairings.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "hybrid"
    headlines = (
        Headline(name="f_rev", description="hybrid reversal frequency, mean over crossing permutations (Nyquist units)",
                 unit="Nyquist units", in_summary=True,
                 paper="P001 (grayscale CIFAR-10 ResNet-18): baseline 0.528 ± 0.0009, mouse-regularised 0.371 ± 0.0006",
                 value=lambda r: r["hybrid"].f_rev, count=lambda r: r["hybrid"].num_pairs),
        Headline(name="f_rev_crossing", description="permutations behind f_rev (p_low - p_high changes sign), of n",
                 unit="permutations", integer=True, in_summary=True,
                 value=lambda r: r["hybrid"].num_crossing, count=lambda r: len(r["hybrid"].f_rev_per_permutation)),
        Headline(name="f_rev_perm_std", description="std of f_rev over permutations (Nyquist units)",
                 unit="Nyquist units", value=lambda r: r["hybrid"].f_rev_std),
    )
    EXAMPLE_PAIRS = 4
    """Pairs shown in ``examples.png`` (the first ones of the first permutation)."""
    EXAMPLE_COLUMNS = 6
    """Largest number of f_mix values shown in ``examples.png``, spread over the grid."""

    def __init__(
        self,
        f_mix_nyquist: list[float] | None = None,
        num_permutations: int = 4,
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: Literal["val", "test"] = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        if num_images is not None:  # hybrids pair images of two classes: check now, not after fit
            check_positive_int("num_images", num_images, minimum=2)
        check_choice("split", split, ("val", "test"))
        check_positive_int("num_permutations", num_permutations)
        self._grid = check_f_mix(f_mix_nyquist)
        self.f_mix_nyquist = self._grid.tolist()
        self.num_permutations = num_permutations

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """One forward per hybrid: images x permutations x f_mix."""
        return num_images * self.num_permutations * self._grid.numel(), 0

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Pair on the whole subset, classify this rank's share of the pairs, sync, write (every rank)."""
        dataset = self.dataset(trainer)
        subset = seeded_subset(len(dataset), self.num_images, self.seed)  # type: ignore[arg-type]
        labels = _dataset_labels(dataset, subset)
        pairs = hybrid_pairs(labels, num_permutations=self.num_permutations, seed=self.seed)  # (P, N), all ranks
        local = shard_indices(torch.arange(subset.numel()), trainer.global_rank, trainer.world_size)
        metric = self.on_device(
            HybridCurveMetric(
                self._grid, num_permutations=self.num_permutations, seed=self.seed, batch_size=self.batch_size
            ),
            pl_module,
        )
        batches = [local[i : i + self.batch_size] for i in range(0, local.numel(), self.batch_size)]
        total = self.num_permutations * local.numel() * self._grid.numel()  # hybrid images
        with self.progress(trainer, total, "hybrid images") as bar:
            for p in range(self.num_permutations):
                for pos in batches:
                    x_low, y_low = stack_images_labels(dataset, subset[pos])
                    x_high, y_high = stack_images_labels(dataset, subset[pairs[p, pos]])
                    metric.update(pl_module, x_low, x_high, y_low, y_high, permutation=p)
                    bar.update(pos.numel() * self._grid.numel())
        curve = metric.compute()  # collective: every rank
        out = self.output_dir(trainer)  # broadcasts: every rank
        figures, scalars = {}, {}
        if trainer.is_global_zero:
            figures = {
                "figure": plot_hybrid_curve(curve, label=run_label(pl_module))[0],
                "probabilities": plot_hybrid_probabilities(curve, label=run_label(pl_module))[0],
                "examples": self._examples(trainer, dataset, subset, pairs, run_label(pl_module)),
            }
            values = {"f_rev": curve.f_rev, "f_rev_std": curve.f_rev_std, "f_rev_of_mean": curve.f_rev_of_mean}
            scalars = {f"analysis_hybrid_{k}": v for k, v in values.items() if math.isfinite(v)}
        result = {"hybrid": curve, "p_low_minus_p_high": curve.difference, "split": self.split}
        self.write(trainer, out, result, figures, scalars)

    def _examples(self, trainer: L.Trainer, dataset: Any, subset: Tensor, pairs: Tensor, label: str) -> Any:
        """The first pairs of the first permutation as hybrids at up to 6 f_mix of the grid (no model pass)."""
        shown = subset[: self.EXAMPLE_PAIRS]
        x_low, y_low = stack_images_labels(dataset, shown)
        x_high, y_high = stack_images_labels(dataset, subset[pairs[0, : len(shown)]])
        grid = self._grid.tolist()
        picks = sorted({round(i * (len(grid) - 1) / (self.EXAMPLE_COLUMNS - 1)) for i in range(self.EXAMPLE_COLUMNS)})
        names = getattr(getattr(trainer, "datamodule", None), "class_names", None)
        return plot_hybrid_examples(x_low, x_high, [grid[i] for i in picks], labels_low=y_low.tolist(),
                                    labels_high=y_high.tolist(), class_names=names, label=label)[0]
