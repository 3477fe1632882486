"""CueConflictAnalysis: shape vs texture decisions after fit, for datamodules with ``cue_conflict_dataset()``."""

from __future__ import annotations

import lightning as L
import torch

from lowfreq.analysis.cue_conflict import CueConflictMetric
from lowfreq.callbacks.base import AnalysisCallback, stack_items
from lowfreq.core.describe import run_label
from lowfreq.plotting.cue_conflict import plot_cue_conflict
from lowfreq.results.columns import Headline

__all__ = ["CueConflictAnalysis"]


class CueConflictAnalysis(AnalysisCallback):
    """Fraction of decisions that follow the shape (low-frequency) vs the texture (high-frequency) cue.

    Writes ``<log_dir>/analysis/cue_conflict/{result.json, figure.png, figure.pdf}`` and logs
    ``analysis_shape_bias`` and ``analysis_texture_fraction``. Work is sharded by index across ranks and a
    [`CueConflictMetric`][lowfreq.analysis.cue_conflict.CueConflictMetric] sums the counts, so the numbers do not depend
    on the number of processes.

    Args:
        num_images: cue-conflict images to use (None = all).
        batch_size: images per forward pass.
        seed: seed of the subset.
    """

    name = "cue_conflict"
    headlines = (
        Headline(name="shape_bias", description="cue-conflict shape bias (synthetic shapes)", unit="fraction",
                 in_summary=True, value=lambda r: r["result"].shape_bias, count=lambda r: r["result"].num_images),
    )

    def __init__(self, num_images: int | None = None, batch_size: int = 256, seed: int = 0) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split="cue_conflict")

    def planned_images(self, trainer: L.Trainer) -> int:
        """Images of this rank's share of the cue-conflict set."""
        return len(self.local_indices(trainer, len(trainer.datamodule.cue_conflict_dataset())))  # type: ignore[attr-defined]

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Classify this rank's shard, sync the counts, write (every rank)."""
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "cue_conflict_dataset"):
            raise RuntimeError(
                "CueConflictAnalysis needs a datamodule with cue_conflict_dataset(), "
                "e.g. lowfreq.data.SyntheticShapesDataModule"
            )
        dataset = datamodule.cue_conflict_dataset()
        indices = self.local_indices(trainer, len(dataset))
        metric = self.on_device(CueConflictMetric(), pl_module)
        with torch.no_grad(), self.progress(trainer, indices.numel(), "cue conflict") as bar:
            for batch in indices.split(self.batch_size):
                x, y_shape, y_texture = stack_items(dataset, batch)
                metric.update(pl_module(x.to(pl_module.device)), y_shape, y_texture)
                bar.update(batch.numel())
        result = metric.compute()  # collective: every rank
        out = self.output_dir(trainer)  # broadcasts: every rank
        figures = {"figure": plot_cue_conflict(result, label=run_label(pl_module))[0]} if trainer.is_global_zero else {}
        scalars = {"analysis_shape_bias": result.shape_bias, "analysis_texture_fraction": result.texture_fraction}
        self.write(trainer, out, {"result": result}, figures, scalars)
