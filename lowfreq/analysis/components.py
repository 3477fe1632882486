"""Low- and high-frequency components (LFC / HFC) of images and a classifier's accuracy on them (P003).

P003 splits every channel of an N x N image at a radius ``r`` given in **index units on the centred spectrum**:
``x_l`` keeps the frequencies whose distance to the centre (N/2, N/2) of the ``fftshift``-ed spectrum is below r,
``x_h = x - x_l`` keeps the rest. That distance is exactly ``N * |f|`` with ``|f|`` in cycles/pixel, so radius r is
the cutoff ``r / N`` cycles/pixel (:func:`lowfreq.spectral.index_radius_to_cycles`; r = 16 on 32 x 32 images is
the Nyquist frequency 0.5). Conventions:

* the disc test is **strict** (``|f| < r / N``, P003's code) by default; ``inclusive=True`` gives the paper's
  ``<=`` (for r = 4 on 32 x 32: 45 vs 49 frequency bins);
* the DC bin (each channel's mean) belongs to the LFC for every r > 0; the HFC has zero mean;
* components are real (the mask is Hermitian-symmetric) and **not clipped**: the HFC has negative values;
* optional per-image rescaling by the maximum over pixels and channels (P003's "standard pixel scale", used when
  training or evaluating on components, methods.md §7.1): ``x / max(x)``, so every image has maximum 1.

:class:`ComponentTransform` (with :class:`ComponentDataset`) turns a training set into its LFC or HFC for P003's
Table 1 (train on ``x_l`` or ``x_h``, test on the original images). Only torch and ``lowfreq.spectral`` are used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from lowfreq._checks import check_choice, check_image, check_labels, check_positive_int, check_range
from lowfreq.analysis.hybrid import _accumulator_dtype, _check_labels_fit_logits, _model_device_dtype
from lowfreq.spectral import index_radius_to_cycles, split_frequencies

__all__ = [
    "DEFAULT_RADII",
    "Component",
    "ComponentAccuracy",
    "ComponentDataset",
    "ComponentTransform",
    "component_accuracy",
    "component_accuracy_from_counts",
    "component_counts",
    "frequency_components",
    "rescale_by_max",
]

Component = Literal["low", "high", "original"]

DEFAULT_RADII: tuple[float, ...] = (4.0, 8.0, 12.0, 16.0)
"""P003's radii for 32 x 32 CIFAR-10 (index units): 0.125, 0.25, 0.375 and 0.5 cycles/pixel."""


def _check_radius(radius: float, name: str = "radius") -> None:
    check_range(name, radius, 0.0, math.inf, low_open=True)


def _square_size(x: Tensor) -> int:
    height, width = x.shape[-2:]
    if height != width:
        raise ValueError(
            f"x must hold square images for an index radius (r = N |f| on an N x N spectrum), got {height}x{width}"
        )
    return int(height)


def frequency_components(x: Tensor, radius: float, *, inclusive: bool = False) -> tuple[Tensor, Tensor]:
    """P003's split of every channel into the low- and high-frequency components ``(x_l, x_h)``, ``x_l + x_h = x``.

    Args:
        x: (B, C, N, N) float images (any range; P003 applies it to 0–255 pixels, which only scales the result).
        radius: r > 0 in index units on the N x N centred spectrum, i.e. a cutoff of ``r / N`` cycles/pixel.
        inclusive: ``|f| <= r / N`` (the paper) instead of ``<`` (P003's code, default).

    Returns:
        ``(x_l, x_h)``: two (B, C, N, N) tensors with the dtype and device of ``x``; not clipped.
    """
    check_image(x, unit_range=False)
    _check_radius(radius)
    size = _square_size(x)
    return split_frequencies(x, index_radius_to_cycles(radius, size), inclusive=inclusive)


def rescale_by_max(x: Tensor) -> Tensor:
    """Divide every image by its maximum over channels and pixels (P003's rescaling of LFC / HFC images).

    Images whose maximum is <= 0 (e.g. an all-zero HFC) are returned unchanged.

    Args:
        x: (B, C, H, W) float images (any range).

    Returns:
        (B, C, H, W) tensor with per-image maximum 1; negative values stay negative (P003 does not shift the min).
    """
    check_image(x, unit_range=False, values=False)
    peak = x.amax(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return x / torch.where(peak > 0, peak, torch.ones_like(peak))


class ComponentTransform(nn.Module):
    """Replace images by their LFC or HFC (P003 Table 1: train on ``x_l`` or ``x_h``), optionally rescaled by max.

    Works on a single (C, N, N) image (dataset transform) or a (B, C, N, N) batch. The output is not clipped: an
    HFC lies around 0 with negative values, which is what P003 trains on.

    Args:
        radius: r > 0 in index units on the N x N centred spectrum (cutoff r / N cycles/pixel).
        component: "low" (x_l), "high" (x_h) or "original" (x itself; with ``rescale`` P003's rescaled originals).
        inclusive: ``|f| <= r / N`` instead of P003's code's strict ``<``.
        rescale: divide every image by its maximum (P003's "standard pixel scale", methods.md §7.1).
    """

    def __init__(
        self, radius: float = 8.0, component: Component = "low", inclusive: bool = False, rescale: bool = False
    ) -> None:
        super().__init__()
        _check_radius(radius)
        check_choice("component", component, ("low", "high", "original"))
        self.radius, self.component, self.inclusive, self.rescale = radius, component, inclusive, rescale

    def forward(self, x: Tensor) -> Tensor:
        single = isinstance(x, Tensor) and x.ndim == 3
        batch = x[None] if single else x
        if self.component == "original":
            check_image(batch, unit_range=False)
            out = batch
        else:
            low, high = frequency_components(batch, self.radius, inclusive=self.inclusive)
            out = low if self.component == "low" else high
        if self.rescale:
            out = rescale_by_max(out)
        return out[0] if single else out

    def extra_repr(self) -> str:
        return (
            f"radius={self.radius}, component={self.component!r}, inclusive={self.inclusive}, rescale={self.rescale}"
        )


class ComponentDataset(Dataset):
    """A dataset whose images (the first field of every item) go through a transform, e.g. :class:`ComponentTransform`.

    Batched fetching (``__getitems__``, used by DataLoaders) transforms the whole batch at once when the wrapped
    dataset supports it.

    Args:
        dataset: items ``(x, y, ...)`` with x a (C, H, W) float image.
        transform: callable on (C, H, W) images and on (B, C, H, W) batches.
    """

    def __init__(self, dataset: Dataset, transform: nn.Module) -> None:
        self.dataset, self.transform = dataset, transform

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        item = self.dataset[index]
        return (self.transform(item[0]), *item[1:])

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Any, ...]]:
        getitems = getattr(self.dataset, "__getitems__", None)
        items = getitems(list(indices)) if getitems is not None else [self.dataset[i] for i in indices]
        x = self.transform(torch.stack([item[0] for item in items]))
        return [(xi, *item[1:]) for xi, item in zip(x.unbind(0), items)]


@dataclass
class ComponentAccuracy:
    """Result of :func:`component_accuracy`. Accuracies in [0, 1].

    Attributes:
        radii: (R,) radii in index units on the N x N centred spectrum.
        radii_cycles: (R,) the same cutoffs in cycles/pixel (``radii / N``).
        acc_low: (R,) accuracy on the low-frequency components x_l.
        acc_high: (R,) accuracy on the high-frequency components x_h.
        acc: accuracy on the original images.
        num_images: number of images evaluated.
        inclusive: whether the disc test was ``<=`` (False: P003's code, ``<``).
        rescale: whether images were rescaled per image by their maximum.
    """

    radii: Tensor
    radii_cycles: Tensor
    acc_low: Tensor
    acc_high: Tensor
    acc: float
    num_images: int
    inclusive: bool
    rescale: bool


def _check_radii(radii: Sequence[float]) -> Tensor:
    values = radii.detach().cpu().flatten().tolist() if isinstance(radii, Tensor) else list(radii)
    if not values:
        raise ValueError("radii must hold at least one radius (index units), got []")
    for r in values:
        _check_radius(r, "radii")
    return torch.tensor(values, dtype=torch.float64)


@torch.no_grad()
def component_counts(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    radii: Sequence[float] = DEFAULT_RADII,
    *,
    inclusive: bool = False,
    rescale: bool = False,
    batch_size: int = 256,
    progress: bool = False,
) -> Tensor:
    """Correct-prediction counts on the original images and their LFC / HFC (sum them across shards).

    Args:
        model, images, labels, radii, inclusive, rescale, batch_size, progress: see :func:`component_accuracy`.

    Returns:
        (2 R + 2,) float64 tensor on the CPU: ``[correct on x_l for each radius, correct on x_h for each radius,
        correct on x, number of images]``.
    """
    grid = _check_radii(radii)
    check_image(images, "images")
    n = images.shape[0]
    if not isinstance(labels, Tensor) or labels.shape != (n,):
        got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({n},) matching images, got {got}")
    check_labels(labels, "labels", length=n)
    check_positive_int("batch_size", batch_size)
    size = _square_size(images)
    num_radii = grid.numel()
    device, dtype = _model_device_dtype(model, images)
    counts = torch.zeros(2 * num_radii + 2, dtype=_accumulator_dtype(device), device=device)
    counts[-1] = n
    scale = rescale_by_max if rescale else (lambda t: t)
    was_training = model.training
    model.eval()
    try:
        for start in tqdm(range(0, n, batch_size), desc="frequency components", disable=not progress, leave=False):
            x = images[start : start + batch_size].to(device=device, dtype=dtype)
            y = labels[start : start + batch_size].to(device)
            logits = model(scale(x))
            if start == 0:  # labels the model cannot output would silently count as wrong
                _check_labels_fit_logits(logits, (labels,), ("labels",))
            counts[-2] += (logits.argmax(dim=-1) == y).sum()
            for i, r in enumerate(grid.tolist()):
                low, high = split_frequencies(x, index_radius_to_cycles(r, size), inclusive=inclusive)
                counts[i] += (model(scale(low)).argmax(dim=-1) == y).sum()
                counts[num_radii + i] += (model(scale(high)).argmax(dim=-1) == y).sum()
    finally:
        model.train(was_training)
    return counts.cpu().double()


def component_accuracy_from_counts(
    counts: Tensor, radii: Sequence[float], image_size: int, *, inclusive: bool = False, rescale: bool = False
) -> ComponentAccuracy:
    """Turn summed :func:`component_counts` into a :class:`ComponentAccuracy` (``image_size`` = N)."""
    grid = _check_radii(radii)
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
    )


def component_accuracy(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    radii: Sequence[float] = DEFAULT_RADII,
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
        radii: radii r > 0 in index units on the N x N centred spectrum (P003: 4, 8, 12, 16 on 32 x 32, i.e.
            0.125 … 0.5 cycles/pixel; P003 also tests 20, 24, 28).
        inclusive: ``|f| <= r / N`` instead of P003's code's strict ``<``.
        rescale: rescale every image (original, LFC, HFC) by its maximum (P003 Table 1's evaluation scale).
        batch_size: images per forward pass.
        progress: show a tqdm bar over batches.

    Returns:
        :class:`ComponentAccuracy` with ``acc_low``, ``acc_high`` (R,) and ``acc`` on the originals.
    """
    counts = component_counts(
        model, images, labels, radii, inclusive=inclusive, rescale=rescale, batch_size=batch_size, progress=progress
    )
    return component_accuracy_from_counts(counts, radii, _square_size(images), inclusive=inclusive, rescale=rescale)
