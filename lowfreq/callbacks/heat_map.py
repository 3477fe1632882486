"""FourierHeatMapAnalysis: Yin et al.'s Fourier heat map of the fitted model (error rate per basis image)."""

from __future__ import annotations

import math
from typing import Literal

import lightning as L

from lowfreq.analysis.heat_map import DEFAULT_EPS, FourierHeatMap, FourierHeatMapMetric, heat_map_frequencies
from lowfreq.callbacks.base import AnalysisCallback, stack_images_labels
from lowfreq.core.checks import check_choice, check_positive_int, check_range
from lowfreq.core.describe import run_label
from lowfreq.plotting.heat_map import plot_fourier_heat_map, plot_heat_map_profile
from lowfreq.results.columns import Headline

__all__ = ["FourierHeatMapAnalysis"]

_BANDS = "|f| <= 0.125 cycles/pixel"
_HIGH = "|f| > 0.25 cycles/pixel"


class FourierHeatMapAnalysis(AnalysisCallback):
    """Yin et al. 2019's Fourier heat map: the error rate with each Fourier basis image added, per (fy, fx).

    After ``fit`` and in ``lightning validate``, each rank perturbs its shard (by dataset index) of the seeded subset
    with ``eps`` times every unit-norm basis image of the grid (random sign per channel, seeded by dataset index,
    clipped to [0, 1]) and counts the errors in a
    [`FourierHeatMapMetric`][lowfreq.analysis.heat_map.FourierHeatMapMetric], whose ``compute()`` sums them across
    ranks (a collective on every rank). Rank 0 writes ``<log_dir>/analysis/fourier_heat_map/result.json`` (the map,
    its radial profile and the band means), ``figure.{png,pdf}`` (the centred map) and ``profile.{png,pdf}`` (error
    vs radial frequency), and logs ``analysis_heat_map_{mean,low,high,clean}_error``.

    Cost: every image goes through the model once per evaluated frequency, plus once clean: on 32 x 32 images the
    full grid is 514 frequencies (``stride=2``: 130); ``max_frequency`` keeps a low-frequency square (the paper's
    ImageNet map: 63 x 63 of 224 x 224, ``max_frequency = 31 / 224``).

    Args:
        eps: L2 norm of every channel of the perturbation, for [0, 1] images. Yin et al. used 4 on CIFAR-10 (32 x
            32, the default) and 15.7 on ImageNet (224 x 224); set it for other image sizes.
        stride: evaluate only the frequencies whose indices ky, kx are multiples of ``stride`` (1: every one).
        max_frequency: evaluate only ``max(|fy|, |fx|) <= max_frequency`` cycles/pixel (None: the whole grid).
        num_images: images of the seeded subset (None = the whole split).
        batch_size: (image, basis) pairs per forward pass.
        seed: seed of the subset and of the signs.
        split: datamodule split passed to ``analysis_dataset``.
    """

    name = "fourier_heat_map"
    headlines = (
        Headline(name="heat_map_error", description="mean error rate over the Fourier heat map", unit="fraction",
                 direction="lower", in_summary=True,
                 value=lambda r: r["heat_map"].mean_error, count=lambda r: r["heat_map"].num_images),
        Headline(name="heat_map_low_error", description=f"Fourier heat map error rate at {_BANDS}",
                 unit="fraction", direction="lower",
                 value=lambda r: r["heat_map"].low_error, count=lambda r: r["heat_map"].num_images),
        Headline(name="heat_map_high_error", description=f"Fourier heat map error rate at {_HIGH}",
                 unit="fraction", direction="lower",
                 value=lambda r: r["heat_map"].high_error, count=lambda r: r["heat_map"].num_images),
    )

    def __init__(
        self,
        eps: float = DEFAULT_EPS,
        stride: int = 1,
        max_frequency: float | None = None,
        num_images: int | None = 1000,
        batch_size: int = 256,
        seed: int = 0,
        split: Literal["train", "val", "test"] = "test",
    ) -> None:
        super().__init__(num_images=num_images, batch_size=batch_size, seed=seed, split=split)
        check_choice("split", split, ("train", "val", "test"))
        check_range("eps", eps, 0.0, math.inf)
        check_positive_int("stride", stride)
        if max_frequency is not None:
            check_range("max_frequency", max_frequency, 0.0, 0.5)
        self.eps, self.stride, self.max_frequency = float(eps), stride, max_frequency
        self._image_size: tuple[int, int] | None = None

    # ---- cost ------------------------------------------------------------------------------------------------
    def _num_frequencies(self) -> int:
        height, width = self._image_size or (32, 32)
        return len(heat_map_frequencies(height, width, stride=self.stride, max_frequency=self.max_frequency))

    def planned_images(self, trainer: L.Trainer) -> int:
        """This rank's images (and, read from the first one, the image size that fixes the grid)."""
        self._image_size = self._size_of(self.dataset(trainer))
        return super().planned_images(trainer)

    def planned_passes(self, num_images: int) -> tuple[int, int]:
        """Every image clean and with every evaluated basis image (grid of 32 x 32 until the images are seen)."""
        return num_images * (self._num_frequencies() + 1), 0

    def use_smoke_budget(self) -> None:
        """The smoke budget: stride >= 4 and ``max_frequency <= 0.25`` (13 frequencies of 32 x 32).

        At most [`SMOKE_IMAGES`][lowfreq.callbacks.base.AnalysisCallback.SMOKE_IMAGES] images.
        """
        super().use_smoke_budget()
        self.stride = max(self.stride, 4)
        self.max_frequency = 0.25 if self.max_frequency is None else min(self.max_frequency, 0.25)

    # ---- work ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _size_of(dataset: object) -> tuple[int, int]:
        image = dataset[0][0]  # type: ignore[index]
        return int(image.shape[-2]), int(image.shape[-1])

    def run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Perturb this rank's shard with every basis image, sum over the ranks, write the map (every rank)."""
        dataset = self.dataset(trainer)
        self._image_size = self._size_of(dataset)
        local = self.local_indices(trainer, len(dataset))  # type: ignore[arg-type]
        metric = self.on_device(
            FourierHeatMapMetric(self._image_size, self.eps, seed=self.seed, stride=self.stride,
                                 max_frequency=self.max_frequency, batch_size=self.batch_size),
            pl_module,
        )
        per_image = self._num_frequencies() + 1
        with self.progress(trainer, local.numel() * per_image, "Fourier heat map") as bar:
            for batch in local.split(self.batch_size):
                metric.update(pl_module, *stack_images_labels(dataset, batch), batch)
                bar.update(batch.numel() * per_image)
        result: FourierHeatMap = metric.compute()  # collective: every rank
        out = self.output_dir(trainer)  # broadcasts: every rank
        figures = {}
        if trainer.is_global_zero:
            label = run_label(pl_module)
            figures = {"figure": plot_fourier_heat_map(result, label=label)[0],
                       "profile": plot_heat_map_profile(result, label=label)[0]}
        scalars = {f"analysis_heat_map_{key}_error": getattr(result, f"{key}_error")
                   for key in ("mean", "low", "high", "clean")}
        scalars = {k: v for k, v in scalars.items() if math.isfinite(v)}
        payload = {"heat_map": result, "image_size": list(self._image_size), "split": self.split,
                   "low_band": _BANDS, "high_band": _HIGH}
        self.write(trainer, out, payload, figures, scalars)
