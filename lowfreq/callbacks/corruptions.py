"""CorruptionAnalysis: accuracy under the 15 common corruptions x 5 severities and by frequency band (P001 Fig. 2)."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor

from lowfreq.analysis.corruptions import CorruptionAccuracy, CorruptionAccuracyMetric
from lowfreq.callbacks.base import AnalysisCallback
from lowfreq.core.checks import check_bool, check_choice
from lowfreq.data.corruptions.generator import to_grayscale
from lowfreq.data.corruptions.names import FREQUENCY_BANDS, check_corruptions, check_severities
from lowfreq.data.corruptions.source import corrupted_batches, corruption_release
from lowfreq.plotting.corruptions import plot_corruption_heatmap, plot_corruption_severity
from lowfreq.results.columns import Headline

__all__ = ["CorruptionAnalysis"]

log = logging.getLogger(__name__)


def _band_headline(band: str) -> Headline:
    """The headline of P001's accuracy on one frequency band of corruptions."""
    return Headline(name=f"corruption_{band}", description=f"accuracy on {band}-frequency corruptions",
                    unit="fraction", direction="higher",
                    value=lambda r: r["result"].band_acc.get(band), count=lambda r: r["result"].num_clean)


class CorruptionAnalysis(AnalysisCallback):
    """Accuracy per corruption x severity, its unweighted mean, the per-severity curve and P001's frequency bands.

    After ``fit`` and at the end of ``lightning validate``. Two sources of corrupted images
    ([`lowfreq.data.corruptions.corrupted_batches`][lowfreq.data.corruptions.source.corrupted_batches], which a
    notebook can call as well):

    * **official** (``data_dir`` holds CIFAR-10-C's ``.npy`` files or ImageNet-C's ``<corruption>/<severity>/``
      folders): the seeded subset (``num_images``, ``seed``) of each release condition; the clean accuracy
      (severity 0) comes from the datamodule's ``split``;
    * **generated** (``data_dir`` None or absent): the seeded subset of the datamodule's ``split``, corrupted on the
      fly by [`lowfreq.data.corrupt_images`][lowfreq.data.corruptions.generator.corrupt_images] (``imagecorruptions``,
      deterministic for ``seed`` and each image's index; ``pip install 'lowfreq[corruptions]'``), cached in
      ``cache_dir``.

    Each rank evaluates its shard (by index) into a
    [`CorruptionAccuracyMetric`][lowfreq.analysis.corruptions.CorruptionAccuracyMetric] whose ``compute()`` sums the
    counts across ranks. Rank 0 writes ``<log_dir>/analysis/corruptions/result.json`` (``source`` "official" or
    "generated", the accuracies, the bands), ``figure.{png,pdf}`` (accuracy by band and severity) and
    ``heatmap.{png,pdf}`` (corruption x severity), and logs ``analysis_corruption_acc`` and ``analysis_corruption_low``
    / ``_medium`` / ``_high``.

    Args:
        data_dir: folder of the official CIFAR-10-C (or the folder above ``CIFAR-10-C/``) or ImageNet-C; None or
            a folder that does not exist = generate the corruptions.
        corruptions: corruption names (None = all 15).
        severities: severities in 1 ... 5 (None = all 5).
        grayscale: evaluate P001's grayscale variant: the luma (ITU-R 601) of the corrupted (and clean) images,
            replicated to the datamodule's channel count.
        cache_dir: cache of generated corruptions; None = ``<trainer.default_root_dir>/cache/corruptions``.
        resize_crop: ImageNet-C only: ``Resize(256) + CenterCrop(224)`` before evaluation (P001's code).
        num_images: images of the seeded subset per condition (None = all).
        batch_size: images per forward pass and per generated (cached) batch.
        seed: seed of the subset and of the generated corruptions.
        split: datamodule split passed to ``analysis_dataset`` (clean images; the images corrupted when generating).
    """

    name = "corruptions"
    headlines = (
        Headline(name="corruption_acc", description="mean accuracy over corruptions x severities", unit="fraction",
                 direction="higher", in_summary=True,
                 value=lambda r: r["result"].mean_acc, count=lambda r: r["result"].num_clean),
        *(_band_headline(band) for band in ("low", "medium", "high")),
        Headline(name="corruption_clean", description="clean accuracy on the corruption subset", unit="fraction",
                 direction="higher", value=lambda r: r["result"].clean_acc),
    )

    def __init__(
        self,
        data_dir: str | None = None,
        corruptions: list[str] | None = None,
        severities: list[int] | None = None,
        grayscale: bool = False,
        cache_dir: str | None = None,
        resize_crop: bool = False,
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: Literal["train", "val", "test"] = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        check_choice("split", split, ("train", "val", "test"))
        check_bool("grayscale", grayscale)
        check_bool("resize_crop", resize_crop)
        for arg, value in (("data_dir", data_dir), ("cache_dir", cache_dir)):
            if value is not None and not isinstance(value, (str, Path)):
                raise TypeError(f"{arg} must be a path string or None, got {type(value).__name__}")
        self.data_dir, self.cache_dir = data_dir, cache_dir
        self.corruptions = list(check_corruptions(corruptions))
        self.severities = list(check_severities(severities))
        self.grayscale, self.resize_crop = grayscale, resize_crop

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """The clean images and every (corruption, severity) condition (generating them is not counted)."""
        return num_images * (1 + len(self.corruptions) * len(self.severities)), 0

    def use_smoke_budget(self) -> None:
        """The smoke budget: one severity (3) of every corruption.

        At most [`SMOKE_IMAGES`][lowfreq.callbacks.base.AnalysisCallback.SMOKE_IMAGES] images.
        """
        super().use_smoke_budget()
        self.severities = [3]

    # ---- work ----------------------------------------------------------------------------------------------------
    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Evaluate every condition on this rank's shard, sum across ranks, write the result and figures."""
        release = corruption_release(self.data_dir)
        clean = self.dataset(trainer)
        channels = int(clean[0][0].shape[0])
        metric = self.on_device(
            CorruptionAccuracyMetric(self.corruptions, self.severities, batch_size=self.batch_size), pl_module
        )
        batches = corrupted_batches(
            clean, self.corruptions, self.severities, data_dir=self.data_dir, cache_dir=self._cache_dir(trainer),
            resize_crop=self.resize_crop, num_images=self.num_images, batch_size=self.batch_size, seed=self.seed,
            rank=trainer.global_rank, world_size=trainer.world_size,
            warn=lambda message: rank_zero_warn(f"CorruptionAnalysis: {message}"),
        )
        local = self.local_indices(trainer, len(clean))  # type: ignore[arg-type]
        total = local.numel() * (1 + len(self.corruptions) * len(self.severities))  # a release: about as many
        with self.progress(trainer, total, "corruptions") as bar:
            for corruption, severity, x, y in batches:
                metric.update(pl_module, self._prepare(x, channels), y, corruption, severity)
                bar.update(x.shape[0])
        result = metric.compute()  # collective: every rank
        self._write(trainer, result, "generated" if release is None else "official", release)

    def _prepare(self, x: Tensor, channels: int) -> Tensor:
        """Grayscale variant and channel count of the model's input."""
        if self.grayscale or (x.shape[1] != channels and channels == 1):
            return to_grayscale(x, channels)
        return x

    def _cache_dir(self, trainer: L.Trainer) -> Path:
        if self.cache_dir is not None:
            return Path(self.cache_dir).expanduser()
        return Path(trainer.default_root_dir) / "cache" / "corruptions"

    def _write(self, trainer: L.Trainer, result: CorruptionAccuracy, source: str, layout: str | None) -> None:
        out = self.output_dir(trainer)  # broadcasts: every rank
        scalars = {"analysis_corruption_acc": result.mean_acc}
        scalars.update({f"analysis_corruption_{band}": value for band, value in result.band_acc.items()})
        scalars = {k: v for k, v in scalars.items() if math.isfinite(v)}
        figures: dict[str, Any] = {}
        if trainer.is_global_zero:
            figures = {"figure": plot_corruption_severity(result)[0], "heatmap": plot_corruption_heatmap(result)[0]}
        payload = {
            "source": source,
            "release": layout,
            "data_dir": self.data_dir,
            "split": self.split,
            "grayscale": self.grayscale,
            "corruptions": self.corruptions,
            "severities": self.severities,
            "bands": {band: list(names) for band, names in FREQUENCY_BANDS.items()},
            "result": result,
        }
        self.write(trainer, out, payload, figures, scalars)

