"""Low- and high-frequency components (LFC / HFC) of images and a classifier's accuracy on them (P003).

P003 splits every channel of an N x N image at a radius ``r`` given in **index units on the centred spectrum**:
``x_l`` keeps the frequencies whose distance to the centre (N/2, N/2) of the ``fftshift``-ed spectrum is below r,
``x_h = x - x_l`` keeps the rest. That distance is exactly ``N * |f|`` with ``|f|`` in cycles/pixel, so radius r is
the cutoff ``r / N`` cycles/pixel ([`lowfreq.spectral.index_radius_to_cycles`][lowfreq.spectral.index_radius_to_cycles];
r = 16 on 32 x 32 images is the Nyquist frequency 0.5). Conventions:

* the disc test is **strict** (``|f| < r / N``, P003's code) by default; ``inclusive=True`` gives the paper's
  ``<=`` (for r = 4 on 32 x 32: 45 vs 49 frequency bins);
* the DC bin (each channel's mean) belongs to the LFC for every r > 0; the HFC has zero mean;
* components are real (the mask is Hermitian-symmetric) and **not clipped**: the HFC has negative values;
* optional per-image rescaling by the maximum over pixels and channels (P003's "standard pixel scale", used when
  training or evaluating on components, its §4.2): ``x / max(x)``, so every image has maximum 1.

[`component_accuracy`][lowfreq.analysis.components.component_accuracy] evaluates a model on a set of images;
[`ComponentAccuracyMetric`][lowfreq.analysis.components.ComponentAccuracyMetric] accumulates the same counts batch by
batch (from a validation step or a callback) and syncs them across processes. Both are built on ``component_counts``, so
they cannot diverge. No Lightning is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric

from lowfreq.analysis.hybrid import _check_labels_fit_logits
from lowfreq.core.checks import check_image, check_labels, check_positive_int, check_range
from lowfreq.core.device import accumulator_dtype, analysis_mode, image_progress, model_device_dtype
from lowfreq.filters import frequency_components, rescale_by_max, square_size
from lowfreq.spectral import index_radius_to_cycles, split_frequencies

__all__ = [
    "DEFAULT_RADII",
    "ComponentAccuracy",
    "ComponentAccuracyMetric",
    "check_radii",
    "component_accuracy",
    "component_accuracy_from_counts",
    "component_counts",
    "frequency_components",
    "rescale_by_max",
]

DEFAULT_RADII: tuple[float, ...] = (4.0, 8.0, 12.0, 16.0)
"""P003's radii for 32 x 32 CIFAR-10 (index units): 0.125, 0.25, 0.375 and 0.5 cycles/pixel."""


def _check_radius(radius: float, name: str = "radius") -> None:
    check_range(name, radius, 0.0, math.inf, low_open=True)


@dataclass
class ComponentAccuracy:
    """Result of [`component_accuracy`][lowfreq.analysis.components.component_accuracy]. Accuracies in [0, 1].

    Attributes:
        radii: (R,) radii in index units on the N x N centred spectrum.
        radii_cycles: (R,) the same cutoffs in cycles/pixel (``radii / N``).
        acc_low: (R,) accuracy on the low-frequency components x_l.
        acc_high: (R,) accuracy on the high-frequency components x_h.
        acc: accuracy on the original images.
        num_images: number of images evaluated.
        inclusive: whether the disc test was ``<=`` (False: P003's code, ``<``).
        rescale: whether images were rescaled per image by their maximum.
        image_size: N of the N x N images.
    """

    radii: Tensor
    radii_cycles: Tensor
    acc_low: Tensor
    acc_high: Tensor
    acc: float
    num_images: int
    inclusive: bool
    rescale: bool
    image_size: int

    def __setattr__(self, name: str, value: Any) -> None:
        # keep the documented (R,) shapes: torchmetrics squeezes 1-element tensors returned by Metric.compute()
        if isinstance(value, Tensor) and name in ("radii", "radii_cycles", "acc_low", "acc_high"):
            value = value.reshape(-1)
        super().__setattr__(name, value)


def check_radii(radii_bins: Sequence[float] | Tensor) -> Tensor:
    """Validate radii r > 0 (index units: bins of 1 / N cycles/pixel); return them as a (R,) float64 tensor (R >= 1)."""
    values = radii_bins.detach().cpu().flatten().tolist() if isinstance(radii_bins, Tensor) else list(radii_bins)
    if not values:
        raise ValueError("radii_bins must hold at least one radius (index units), got []")
    for r in values:
        _check_radius(r, "radii_bins")
    return torch.tensor(values, dtype=torch.float64)


def component_counts(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    radii_bins: Sequence[float] | Tensor = DEFAULT_RADII,
    *,
    inclusive: bool = False,
    rescale: bool = False,
    batch_size: int = 256,
    progress: bool = False,
) -> Tensor:
    """Correct-prediction counts on the original images and their LFC / HFC (sum them across shards).

    Args:
        model: classifier mapping (B, C, N, N) images to (B, K) logits; run in eval mode under no_grad on the
            device and float dtype of its parameters (training flag restored afterwards).
        images: (M, C, N, N) float images in [0, 1], square.
        labels: (M,) integer labels.
        radii_bins: radii r > 0 in index units on the N x N centred spectrum.
        inclusive: ``|f| <= r / N`` instead of P003's code's strict ``<``.
        rescale: rescale every image (original, LFC, HFC) by its maximum.
        batch_size: images per forward pass.
        progress: show a bar counting the images passed to the model (M x (2 R + 1)), with the time left.

    Returns:
        (2 R + 2,) float64 tensor on the CPU: ``[correct on x_l for each radius, correct on x_h for each radius,
        correct on x, number of images]``.
    """
    grid = check_radii(radii_bins)
    check_image(images, "images")
    n = images.shape[0]
    if not isinstance(labels, Tensor) or labels.shape != (n,):
        got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({n},) matching images, got {got}")
    check_labels(labels, "labels", length=n)
    check_positive_int("batch_size", batch_size)
    size = square_size(images)
    num_radii = grid.numel()
    device, dtype = model_device_dtype(model, images)
    counts = torch.zeros(2 * num_radii + 2, dtype=accumulator_dtype(device), device=device)
    counts[-1] = n
    scale = rescale_by_max if rescale else (lambda t: t)
    cutoffs = [index_radius_to_cycles(r, size) for r in grid.tolist()]
    with analysis_mode(model), image_progress(n * (2 * num_radii + 1), "frequency components", progress) as bar:
        for start in range(0, n, batch_size):
            x = images[start : start + batch_size].to(device=device, dtype=dtype)
            y = labels[start : start + batch_size].to(device)
            logits = model(scale(x))
            if start == 0:  # labels the model cannot output would silently count as wrong
                _check_labels_fit_logits(logits, (labels,), ("labels",))
            counts[-2] += (logits.argmax(dim=-1) == y).sum()
            for i, cutoff in enumerate(cutoffs):
                low, high = split_frequencies(x, cutoff, inclusive=inclusive)
                counts[i] += (model(scale(low)).argmax(dim=-1) == y).sum()
                counts[num_radii + i] += (model(scale(high)).argmax(dim=-1) == y).sum()
            bar.update(x.shape[0] * (2 * num_radii + 1))
    return counts.cpu().double()


def component_accuracy_from_counts(
    counts: Tensor,
    radii_bins: Sequence[float] | Tensor,
    image_size: int,
    *,
    inclusive: bool = False,
    rescale: bool = False,
) -> ComponentAccuracy:
    """Turn summed ``component_counts`` into a ``ComponentAccuracy`` (``image_size`` = N)."""
    grid = check_radii(radii_bins)
    check_positive_int("image_size", image_size)
    num_radii = grid.numel()
    if counts.shape != (2 * num_radii + 2,):
        raise ValueError(f"counts must have shape ({2 * num_radii + 2},), got {tuple(counts.shape)}")
    counts = counts.double().cpu()
    n = float(counts[-1])
    if n <= 0:
        raise ValueError("counts must come from at least one image")
    return ComponentAccuracy(
        radii=grid,
        radii_cycles=grid / image_size,
        acc_low=counts[:num_radii] / n,
        acc_high=counts[num_radii : 2 * num_radii] / n,
        acc=float(counts[-2]) / n,
        num_images=int(n),
        inclusive=inclusive,
        rescale=rescale,
        image_size=image_size,
    )


def component_accuracy(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    radii_bins: Sequence[float] | Tensor = DEFAULT_RADII,
    *,
    inclusive: bool = False,
    rescale: bool = False,
    batch_size: int = 256,
    progress: bool = False,
) -> ComponentAccuracy:
    """Accuracy of a classifier on P003's low- and high-frequency components of the images, per radius.

    Args:
        model: classifier mapping (B, C, N, N) images to (B, K) logits; evaluated in eval mode under no_grad on the
            device of its parameters (training flag restored afterwards). Components are fed unclipped.
        images: (M, C, N, N) float images in [0, 1], square.
        labels: (M,) integer labels.
        radii_bins: radii r > 0 in index units on the N x N centred spectrum (P003: 4, 8, 12, 16 on 32 x 32,
            0.125 … 0.5 cycles/pixel; P003 also tests 20, 24, 28).
        inclusive: ``|f| <= r / N`` instead of P003's code's strict ``<``.
        rescale: rescale every image (original, LFC, HFC) by its maximum (P003 Table 1's evaluation scale).
        batch_size: images per forward pass.
        progress: show a bar counting the images passed to the model, with the time left.

    Returns:
        [`ComponentAccuracy`][lowfreq.analysis.components.ComponentAccuracy] with ``acc_low``, ``acc_high`` (R,) and
        ``acc`` on the originals.
    """
    counts = component_counts(
        model, images, labels, radii_bins, inclusive=inclusive, rescale=rescale, batch_size=batch_size,
        progress=progress,
    )
    size = square_size(images)
    return component_accuracy_from_counts(counts, radii_bins, size, inclusive=inclusive, rescale=rescale)


class ComponentAccuracyMetric(Metric):
    """[`component_accuracy`][lowfreq.analysis.components.component_accuracy] as a torchmetrics ``Metric``.

    Each [`update`][lowfreq.analysis.components.ComponentAccuracyMetric.update] evaluates the model on a batch of images
    and on their LFC / HFC; [`compute`][lowfreq.analysis.components.ComponentAccuracyMetric.compute] sums the (2 R + 2,)
    counts of every process (a fixed-size sum state) and returns the
    [`ComponentAccuracy`][lowfreq.analysis.components.ComponentAccuracy]. Fed the images in the same batches, it gives
    exactly the numbers of [`component_accuracy`][lowfreq.analysis.components.component_accuracy].

    Args:
        radii_bins: radii r > 0 in index units on the N x N centred spectrum (P003: 4, 8, 12, 16 on 32 x 32).
        inclusive: ``|f| <= r / N`` instead of P003's code's strict ``<``.
        rescale: rescale every image (original, LFC, HFC) by its maximum.
        batch_size: images per forward pass inside an update.
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).

    Example:
        LFC / HFC accuracy of the validation set, synced across processes::

            def validation_step(self, batch, batch_idx):
                x, y = batch
                self.components.update(self, x, y)  # self.components = ComponentAccuracyMetric(radii_bins=(4, 8))

            def on_validation_epoch_end(self):
                result = self.components.compute()
                self.log("val_lfc_acc_r4", float(result.acc_low[0]))
                self.components.reset()
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    counts: Tensor
    image_size: Tensor

    def __init__(
        self,
        radii_bins: Sequence[float] | Tensor = DEFAULT_RADII,
        *,
        inclusive: bool = False,
        rescale: bool = False,
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.radii = check_radii(radii_bins)
        check_positive_int("batch_size", batch_size)
        self.inclusive, self.rescale, self.batch_size = inclusive, rescale, batch_size
        self.add_state("counts", torch.zeros(2 * self.radii.numel() + 2, dtype=torch.float64), dist_reduce_fx="sum")
        # N of the N x N images (for radii_cycles); the same on every process, 0 where nothing was seen
        self.add_state("image_size", torch.zeros((), dtype=torch.long), dist_reduce_fx="max")

    def update(self, model: nn.Module, images: Tensor, labels: Tensor) -> None:
        """Count correct predictions on a batch and its components (see ``component_counts``).

        Args:
            model: classifier mapping (B, C, N, N) images to (B, K) logits (run in eval mode).
            images: (M, C, N, N) float images in [0, 1], square, of the same N in every update.
            labels: (M,) integer labels.
        """
        check_image(images, "images")
        size = square_size(images)
        if int(self.image_size) not in (0, size):
            raise ValueError(f"images must be {int(self.image_size)} pixels wide as before, got {size}")
        counts = component_counts(
            model, images, labels, self.radii, inclusive=self.inclusive, rescale=self.rescale,
            batch_size=self.batch_size,
        )
        self.counts += counts.to(self.counts)
        self.image_size.fill_(size)

    def compute(self) -> ComponentAccuracy:
        """[`ComponentAccuracy`][lowfreq.analysis.components.ComponentAccuracy] of every image on every process."""
        return component_accuracy_from_counts(
            self.counts, self.radii, int(self.image_size), inclusive=self.inclusive, rescale=self.rescale
        )
