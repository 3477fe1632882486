"""FourierMaskAnalysis: the learned mask of a FourierMaskProbe and its P004 analyses, written after fit."""

from __future__ import annotations

import logging

import lightning as L
import torch

from lowfreq.analysis.masks import FilteredAccuracyMetric, angular_energy, radial_energy, symmetrised_mask
from lowfreq.callbacks.base import AnalysisCallback, stack_images_labels
from lowfreq.core.checks import check_positive_int
from lowfreq.core.describe import run_label
from lowfreq.core.io import atomic_write
from lowfreq.plotting.masks import plot_fourier_mask, plot_mask_energies
from lowfreq.results.columns import Headline

__all__ = ["FourierMaskAnalysis"]

log = logging.getLogger(__name__)


class FourierMaskAnalysis(AnalysisCallback):
    """Write the mask learned by a [`FourierMaskProbe`][lowfreq.training.probe.FourierMaskProbe] and its analyses.

    After ``fit`` (and at the end of ``lightning validate --ckpt_path ...``) rank 0 writes into
    ``<log_dir>/analysis/fourier_mask/``: ``mask.pt`` (the (H, W) mask in the unshifted layout, and its
    Hermitian-symmetrised effective version), ``result.json`` (mean of the mask, fraction of exact zeros, radial and
    angular band energies, and the frozen model's accuracy on the seeded analysis subset: clean, mask-filtered and
    complement-filtered), ``figure.{png,pdf}`` (the centred mask, log scale, cycles/pixel) and ``energy.{png,pdf}``
    (radial and angular energies); it logs ``analysis_mask_mean``, ``analysis_mask_acc`` and
    ``analysis_mask_complement_acc``. Each rank filters its shard of the subset (the mask is the same on every
    rank) and a [`FilteredAccuracyMetric`][lowfreq.analysis.masks.FilteredAccuracyMetric] sums the counts over the
    processes.

    Args:
        num_bands: bands of the radial and angular energies (P004: 64).
        num_images: images of the seeded analysis subset (None = the whole split).
        batch_size: images per forward pass.
        seed: seed of the subset.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "fourier_mask"
    headlines = (
        Headline(name="mask_mean", description="mean of the learned Fourier mask (its L1 energy)",
                 value=lambda r: r["mask_mean"]),
        Headline(name="mask_acc", description="accuracy on mask-filtered images", unit="fraction", direction="higher",
                 in_summary=True, value=lambda r: r["accuracy"]["masked"], count=lambda r: r["num_images"]),
        Headline(name="mask_complement_acc", description="accuracy on complement-filtered images", unit="fraction",
                 value=lambda r: r["accuracy"]["complement"]),
    )

    def __init__(
        self,
        num_bands: int = 64,
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: str = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        check_positive_int("num_bands", num_bands)
        self.num_bands = num_bands

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """Clean, masked and complement-filtered images."""
        return 3 * num_images, 0

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Evaluate the mask on this rank's shard, sum over the ranks, write the files (rank 0)."""
        mask = getattr(pl_module, "mask", None)
        classifier = getattr(pl_module, "classifier", None)
        if not isinstance(mask, torch.Tensor) or classifier is None:
            raise TypeError(f"FourierMaskAnalysis needs a FourierMaskProbe, got {type(pl_module).__name__}")
        mask = mask.detach().clamp(0.0, 1.0).cpu()
        dataset = self.dataset(trainer)
        local = self.local_indices(trainer, len(dataset))  # type: ignore[arg-type]
        metric = self.on_device(FilteredAccuracyMetric(batch_size=self.batch_size), pl_module)
        with self.progress(trainer, 3 * len(local), "mask-filtered accuracy") as bar:
            if len(local):
                x, y = stack_images_labels(dataset, local)
                metric.update(classifier, x, y, mask.to(x.dtype), bar=bar)
        accuracy = metric.compute()  # collective: every rank
        square = mask.shape[0] == mask.shape[1]
        radial, radial_edges = radial_energy(mask, self.num_bands) if square else (None, None)
        angular, angular_edges = angular_energy(mask, self.num_bands)
        out = self.output_dir(trainer)
        figures, result = {}, {}
        if trainer.is_global_zero:
            out.mkdir(parents=True, exist_ok=True)
            with atomic_write(out / "mask.pt", "wb") as f:
                torch.save({"mask": mask, "effective_mask": symmetrised_mask(mask)}, f)
            figures["figure"] = plot_fourier_mask(mask, label=run_label(pl_module))[0]
            figures["energy"] = plot_mask_energies(mask, num_bands=self.num_bands, label=run_label(pl_module))[0]
            result = {
                "mask_mean": float(mask.mean()),
                "fraction_zero": float((mask == 0).float().mean()),
                "accuracy": accuracy,
                "num_images": self.subset_size(trainer),
                "radial_energy": radial,
                "radial_edges_index": radial_edges,
                "radial_centres_cycles": None if radial_edges is None
                else (radial_edges[:-1] + radial_edges[1:]) / 2 / mask.shape[-1],
                "angular_energy": angular,
                "angular_edges_degrees": angular_edges,
                "split": self.split,
            }
        scalars = {
            "analysis_mask_mean": float(mask.mean()),
            "analysis_mask_acc": accuracy["masked"],
            "analysis_mask_complement_acc": accuracy["complement"],
        }
        self.write(trainer, out, result, figures, scalars)
