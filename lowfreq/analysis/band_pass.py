"""Band-pass sensitivity: a classifier's accuracy on images filtered to one radial band, and with one band removed.

The spectrum of every channel is cut into K radial bands by edges ``0 = e_0 < e_1 < ... < e_K = 0.5`` in
cycles/pixel (DC to Nyquist). The **band-pass** image of band k keeps only the frequencies of band k; the
**band-stop** image removes them (``x - band_pass_k``). Conventions, those of the ideal filters of
[`lowfreq.spectral`][lowfreq.spectral] and of P003's LFC / HFC
([`lowfreq.analysis.components`][lowfreq.analysis.components]):

* the radius is ``|f| = sqrt(fy^2 + fx^2)`` on the ``fftfreq`` grid (unshifted layout), the distance P003 measures
  to (N/2, N/2) on the centred spectrum divided by N;
* band k holds ``e_k <= |f| < e_{k+1}``: lower edge inclusive, upper edge exclusive, as P003's code's strict disc
  ``|f| < r / N`` (the ``inclusive=False`` of [`lowpass_mask`][lowfreq.spectral.lowpass_mask]); the last band
  also holds the corners above Nyquist (``|f|`` up to sqrt(2)/2), so the K bands partition the spectrum;
* the DC bin (each channel's mean) is in band 0 only, and no mean is re-added: band-pass images of the other bands
  have zero mean, like P003's HFC. So the K band-pass images sum to the image, and with the two bands
  ``(0, r / N, 0.5)`` the band-pass images are P003's LFC and HFC at radius r (the band-stop images the other one);
* filtered images are real (the masks depend on ``|f|`` only) and **not clipped** (they leave [0, 1]).

Band spacing: ``"linear"`` (default) in radius, ``K`` bands of width 0.5 / K; ``"octave"``: each band an octave,
``e_k = 0.5 * 2^(k - K)`` for k >= 1 (band 0 from DC to 0.5 * 2^(1 - K)); or any ``edges``. On an N x N image a band
narrower than 1 / N can hold no frequency bin: ``num_bins`` in the result counts them (its images are then all zero).

[`band_pass_accuracy`][lowfreq.analysis.band_pass.band_pass_accuracy] evaluates a model on a set of images;
[`BandPassAccuracyMetric`][lowfreq.analysis.band_pass.BandPassAccuracyMetric] accumulates the same counts batch by
batch and syncs them across processes. Both are built on
[`band_pass_counts`][lowfreq.analysis.band_pass.band_pass_counts] and
[`band_pass_accuracy_from_counts`][lowfreq.analysis.band_pass.band_pass_accuracy_from_counts]. Each batch is
transformed once (``rfft2``) on the model's device, its 2 K filtered images are made from that spectrum one batch at
a time, under [`analysis_mode`][lowfreq.core.device.analysis_mode] (eval, no autograd). No Lightning is used.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import torch
from torch import Tensor, nn
from torchmetrics import Metric

from lowfreq.analysis.hybrid import _check_labels_fit_logits
from lowfreq.core.checks import check_choice, check_image, check_labels, check_positive_int
from lowfreq.core.device import accumulator_dtype, analysis_mode, image_progress, model_device_dtype
from lowfreq.spectral import lowpass_mask

__all__ = [
    "DEFAULT_NUM_BANDS",
    "NYQUIST",
    "BandPassAccuracy",
    "BandPassAccuracyMetric",
    "Spacing",
    "band_edges",
    "band_masks",
    "band_pass_accuracy",
    "band_pass_accuracy_from_counts",
    "band_pass_counts",
    "band_pass_images",
    "check_edges",
    "resolve_edges",
]

Spacing = Literal["linear", "octave"]

DEFAULT_NUM_BANDS = 8
"""Bands of the default linear spacing: 0.0625 cycles/pixel wide, 2 frequency bins on 32 x 32 images."""

NYQUIST = 0.5
"""The top edge of the last band, in cycles/pixel (the corners above it belong to the last band)."""

_SHAPED = ("edges", "centres", "acc_pass", "acc_stop", "num_bins")


@dataclass
class BandPassAccuracy:
    """Result of [`band_pass_accuracy`][lowfreq.analysis.band_pass.band_pass_accuracy]. Accuracies in [0, 1].

    Attributes:
        edges: (K + 1,) band edges in cycles/pixel, from 0 (DC) to 0.5 (Nyquist); band k is
            ``edges[k] <= |f| < edges[k + 1]``, the last band also holds the corners above Nyquist.
        centres: (K,) band centres ``(edges[k] + edges[k + 1]) / 2`` in cycles/pixel.
        acc_pass: (K,) accuracy on the band-pass images (only band k kept).
        acc_stop: (K,) accuracy on the band-stop images (band k removed).
        acc: accuracy on the original images.
        num_images: number of images evaluated.
        num_bins: (K,) frequency bins of the H x W FFT grid in each band (0: nothing passes that band).
        peak_pass_freq: centre (cycles/pixel) of the band whose band-pass accuracy is highest (the lowest of ties):
            the most informative band alone. NaN without images.
        peak_stop_freq: centre (cycles/pixel) of the band whose removal lowers accuracy most (largest
            ``acc - acc_stop``, the lowest of ties): the band the model needs most. NaN without images.
        spacing: "linear", "octave", or "custom" for given edges.
        image_shape: (H, W) of the images; (0, 0) when no image was seen.
    """

    edges: Tensor
    centres: Tensor
    acc_pass: Tensor
    acc_stop: Tensor
    acc: float
    num_images: int
    num_bins: Tensor
    peak_pass_freq: float
    peak_stop_freq: float
    spacing: str
    image_shape: tuple[int, int]

    def __setattr__(self, name: str, value: Any) -> None:
        # keep the documented (K,) shapes: torchmetrics squeezes 1-element tensors returned by Metric.compute()
        if isinstance(value, Tensor) and name in _SHAPED:
            value = value.reshape(-1)
        super().__setattr__(name, value)


def band_edges(num_bands: int = DEFAULT_NUM_BANDS, *, spacing: Spacing = "linear") -> Tensor:
    """(K + 1,) float64 band edges in cycles/pixel from 0 (DC) to 0.5 (Nyquist).

    Args:
        num_bands: K >= 1.
        spacing: "linear": ``e_k = 0.5 k / K``; "octave": ``e_0 = 0``, ``e_k = 0.5 * 2^(k - K)`` for k >= 1 (band 0
            holds DC and everything below ``0.5 * 2^(1 - K)``, each other band one octave).
    """
    check_positive_int("num_bands", num_bands)
    check_choice("spacing", spacing, ("linear", "octave"))
    if spacing == "linear":
        return torch.linspace(0.0, NYQUIST, num_bands + 1, dtype=torch.float64)
    octaves = NYQUIST * torch.pow(2.0, torch.arange(1 - num_bands, 1, dtype=torch.float64))
    return torch.cat([torch.zeros(1, dtype=torch.float64), octaves])


def check_edges(edges: Sequence[float] | Tensor) -> Tensor:
    """Validate band edges: strictly ascending, from 0 to 0.5 cycles/pixel; return them as (K + 1,) float64 (K >= 1)."""
    values = edges.detach().cpu().flatten().tolist() if isinstance(edges, Tensor) else list(edges)
    if len(values) < 2:
        raise ValueError(f"edges must hold at least 2 values (K + 1 edges of K bands, cycles/pixel), got {values}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in values):
        raise ValueError(f"edges must be finite real numbers (cycles/pixel), got {values}")
    if values[0] != 0 or values[-1] != NYQUIST:
        raise ValueError(
            f"edges must start at 0 (DC) and end at {NYQUIST} (Nyquist) cycles/pixel, so that the bands cover the "
            f"spectrum (the last band keeps the corners above Nyquist), got {values}"
        )
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"edges must be strictly ascending in [0, {NYQUIST}] cycles/pixel, got {values}")
    return torch.tensor(values, dtype=torch.float64)


def resolve_edges(
    num_bands: int | None = None, edges: Sequence[float] | Tensor | None = None, spacing: Spacing = "linear"
) -> Tensor:
    """(K + 1,) band edges from the arguments of the analysis (cycles/pixel).

    ``edges`` if given (``num_bands``, when given too, must match), else
    [`band_edges`][lowfreq.analysis.band_pass.band_edges] of ``num_bands`` (None: 8) and ``spacing``.
    """
    check_choice("spacing", spacing, ("linear", "octave"))
    if edges is None:
        return band_edges(DEFAULT_NUM_BANDS if num_bands is None else num_bands, spacing=spacing)
    grid = check_edges(edges)
    if num_bands is not None:
        check_positive_int("num_bands", num_bands)
        if num_bands != grid.numel() - 1:
            raise ValueError(f"num_bands must equal len(edges) - 1 = {grid.numel() - 1} when edges are given, "
                             f"got {num_bands}")
    return grid


def _spacing_name(edges: Sequence[float] | Tensor | None, spacing: Spacing) -> str:
    return spacing if edges is None else "custom"


def band_masks(
    height: int, width: int, edges: Sequence[float] | Tensor, *, rfft: bool = False,
    device: torch.device | str | None = None,
) -> Tensor:
    """(K, H, W) boolean masks of the K bands (unshifted layout; (K, H, W // 2 + 1) with ``rfft``): a partition.

    Band k is ``edges[k] <= |f| < edges[k + 1]`` (with the tolerance of
    [`lowpass_mask`][lowfreq.spectral.lowpass_mask], ``inclusive=False``); band 0 holds DC, the last band also the
    corners above Nyquist. Every frequency bin is in exactly one band.
    """
    grid = check_edges(edges)
    below = [lowpass_mask(height, width, e, inclusive=False, rfft=rfft, device=device) for e in grid[1:-1].tolist()]
    shape = (height, width // 2 + 1) if rfft else (height, width)
    nothing = torch.zeros(shape, dtype=torch.bool, device=device)
    everything = torch.ones(shape, dtype=torch.bool, device=device)
    lower, upper = [nothing, *below], [*below, everything]
    return torch.stack([hi & ~lo for lo, hi in zip(lower, upper, strict=True)])


def _float(x: Tensor) -> Tensor:
    return x if x.dtype == torch.float64 else x.float()


def _band_passes(x: Tensor, masks: Tensor) -> Iterator[Tensor]:
    """The band-pass images of ``x`` for every rfft mask of ``masks`` (K, H, W // 2 + 1): one FFT, K inverse FFTs.

    Runs in float32 (float64 for float64 ``x``) even under autocast; yields (B, C, H, W) in the dtype of ``x``.
    """
    height, width = x.shape[-2:]
    with torch.autocast(device_type=x.device.type, enabled=False):
        spec = torch.fft.rfft2(_float(x))  # (B, C, H, W // 2 + 1), once per batch
        for mask in masks:
            band = torch.fft.irfft2(spec * mask.to(spec.real.dtype), s=(height, width))
            yield cast("Tensor", band.to(x.dtype))


def band_pass_images(x: Tensor, edges: Sequence[float] | Tensor) -> Tensor:
    """(K, B, C, H, W) band-pass images of (B, C, H, W) ``x``: band k of every channel (see the module's conventions).

    The band-stop image of band k is ``x - band_pass_images(x, edges)[k]``; the K images sum to ``x``. Not clipped;
    the dtype of ``x``. Holds K copies of the batch: for display and checks (the analysis makes one at a time).
    """
    check_image(x, unit_range=False)
    grid = check_edges(edges)
    masks = band_masks(x.shape[-2], x.shape[-1], grid, rfft=True, device=x.device)
    return torch.stack(list(_band_passes(x, masks)))


def band_pass_counts(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    edges: Sequence[float] | Tensor,
    *,
    batch_size: int = 256,
    progress: bool = False,
) -> Tensor:
    """Correct-prediction counts on the band-pass, band-stop and original images (sum them across shards).

    Args:
        model: classifier mapping (B, C, H, W) images to (B, K') logits; run in eval mode under no_grad on the
            device and float dtype of its parameters (training flag restored afterwards).
        images: (M, C, H, W) float images in [0, 1].
        labels: (M,) integer labels.
        edges: (K + 1,) band edges in cycles/pixel from 0 to 0.5, strictly ascending
            ([`band_edges`][lowfreq.analysis.band_pass.band_edges] makes them).
        batch_size: images per forward pass; each batch is Fourier-transformed once.
        progress: show a bar counting the images passed to the model (M x (2 K + 1)), with the time left.

    Returns:
        (2 K + 2,) float64 tensor on the CPU: ``[correct on the band-pass image of each band, correct on the
        band-stop image of each band, correct on x, number of images]``.
    """
    grid = check_edges(edges)
    check_image(images, "images")
    n = images.shape[0]
    if not isinstance(labels, Tensor) or labels.shape != (n,):
        got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({n},) matching images, got {got}")
    check_labels(labels, "labels", length=n)
    check_positive_int("batch_size", batch_size)
    num_bands = grid.numel() - 1
    device, dtype = model_device_dtype(model, images)
    counts = torch.zeros(2 * num_bands + 2, dtype=accumulator_dtype(device), device=device)
    counts[-1] = n
    # (K, H, W // 2 + 1), made once
    masks = band_masks(images.shape[-2], images.shape[-1], grid, rfft=True, device=device)
    per_image = 2 * num_bands + 1
    with analysis_mode(model), image_progress(n * per_image, "band-pass images", progress) as bar:
        for start in range(0, n, batch_size):
            x = images[start : start + batch_size].to(device=device, dtype=dtype)
            y = labels[start : start + batch_size].to(device)
            logits = model(x)
            if start == 0:  # labels the model cannot output would silently count as wrong
                _check_labels_fit_logits(logits, (labels,), ("labels",))
            counts[-2] += (logits.argmax(dim=-1) == y).sum()
            for k, band in enumerate(_band_passes(x, masks)):
                counts[k] += (model(band).argmax(dim=-1) == y).sum()
                counts[num_bands + k] += (model(x - band).argmax(dim=-1) == y).sum()
            bar.update(x.shape[0] * per_image)
    return counts.cpu().double()


def band_pass_accuracy_from_counts(
    counts: Tensor,
    edges: Sequence[float] | Tensor,
    image_shape: tuple[int, int] = (0, 0),
    *,
    spacing: str = "custom",
) -> BandPassAccuracy:
    """Turn summed ``band_pass_counts`` into a ``BandPassAccuracy``; NaN accuracies when they count no image.

    Args:
        counts: (2 K + 2,) summed counts of [`band_pass_counts`][lowfreq.analysis.band_pass.band_pass_counts].
        edges: (K + 1,) the band edges they were counted with (cycles/pixel).
        image_shape: (H, W) of the images, for ``num_bins``; (0, 0) when unknown (``num_bins`` is then 0).
        spacing: how the edges were made, recorded in the result ("linear", "octave" or "custom").
    """
    grid = check_edges(edges)
    num_bands = grid.numel() - 1
    if not isinstance(counts, Tensor) or counts.shape != (2 * num_bands + 2,):
        got = tuple(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__
        raise ValueError(f"counts must have shape ({2 * num_bands + 2},) for {num_bands} bands, got {got}")
    height, width = (int(v) for v in image_shape)
    counts = counts.double().cpu()
    n = float(counts[-1])
    if n < 0 or not math.isfinite(n):
        raise ValueError(f"counts must end with a number of images >= 0, got {n}")
    nan = torch.full((num_bands,), math.nan, dtype=torch.float64)
    acc_pass = counts[:num_bands] / n if n > 0 else nan
    acc_stop = counts[num_bands : 2 * num_bands] / n if n > 0 else nan.clone()
    acc = float(counts[-2]) / n if n > 0 else math.nan
    centres = (grid[:-1] + grid[1:]) / 2
    if height > 0 and width > 0:
        num_bins = band_masks(height, width, grid).sum(dim=(1, 2)).to(torch.long)
    else:
        num_bins = torch.zeros(num_bands, dtype=torch.long)
    peak_pass = float(centres[int(acc_pass.argmax())]) if n > 0 else math.nan
    peak_stop = float(centres[int((acc - acc_stop).argmax())]) if n > 0 else math.nan
    return BandPassAccuracy(
        edges=grid,
        centres=centres,
        acc_pass=acc_pass,
        acc_stop=acc_stop,
        acc=acc,
        num_images=int(n),
        num_bins=num_bins,
        peak_pass_freq=peak_pass,
        peak_stop_freq=peak_stop,
        spacing=spacing,
        image_shape=(height, width),
    )


def band_pass_accuracy(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    num_bands: int | None = None,
    edges: Sequence[float] | Tensor | None = None,
    spacing: Spacing = "linear",
    batch_size: int = 256,
    progress: bool = False,
) -> BandPassAccuracy:
    """Accuracy of a classifier on images filtered to each radial band (band-pass) and without it (band-stop).

    Args:
        model: classifier mapping (B, C, H, W) images to (B, K') logits; evaluated in eval mode under no_grad on the
            device of its parameters (training flag restored afterwards). Filtered images are fed unclipped.
        images: (M, C, H, W) float images in [0, 1].
        labels: (M,) integer labels.
        num_bands: K >= 1 bands between DC and Nyquist (None: 8, or ``len(edges) - 1`` when ``edges`` are given;
            given with ``edges`` it must match).
        edges: (K + 1,) band edges in cycles/pixel, strictly ascending from 0 to 0.5; None: spaced by ``spacing``.
        spacing: "linear" (equal widths in radius) or "octave" (each band an octave; band 0 from DC), when
            ``edges`` is None.
        batch_size: images per forward pass; each batch is Fourier-transformed once.
        progress: show a bar counting the images passed to the model (M x (2 K + 1)), with the time left.

    Returns:
        [`BandPassAccuracy`][lowfreq.analysis.band_pass.BandPassAccuracy] with ``acc_pass``, ``acc_stop`` (K,),
        ``acc`` on the originals and the peak bands; NaN accuracies for zero images.
    """
    grid = resolve_edges(num_bands, edges, spacing)
    counts = band_pass_counts(model, images, labels, grid, batch_size=batch_size, progress=progress)
    shape = (int(images.shape[-2]), int(images.shape[-1]))
    return band_pass_accuracy_from_counts(counts, grid, shape, spacing=_spacing_name(edges, spacing))


class BandPassAccuracyMetric(Metric):
    """[`band_pass_accuracy`][lowfreq.analysis.band_pass.band_pass_accuracy] as a torchmetrics ``Metric``.

    Each [`update`][lowfreq.analysis.band_pass.BandPassAccuracyMetric.update] evaluates the model on a batch of
    images, its band-pass and its band-stop images;
    [`compute`][lowfreq.analysis.band_pass.BandPassAccuracyMetric.compute] sums the (2 K + 2,) counts of every process
    (a fixed-size sum state) and returns the [`BandPassAccuracy`][lowfreq.analysis.band_pass.BandPassAccuracy]. Fed
    the images in the same batches, it gives exactly the numbers of
    [`band_pass_accuracy`][lowfreq.analysis.band_pass.band_pass_accuracy].

    Args:
        num_bands: K >= 1 bands between DC and Nyquist (None: 8, or ``len(edges) - 1``).
        edges: (K + 1,) band edges in cycles/pixel, strictly ascending from 0 to 0.5; None: spaced by ``spacing``.
        spacing: "linear" or "octave", when ``edges`` is None.
        batch_size: images per forward pass inside an update.
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).

    Example:
        Band-pass accuracy of the validation set, synced across processes::

            def validation_step(self, batch, batch_idx):
                x, y = batch
                self.bands.update(self, x, y)  # self.bands = BandPassAccuracyMetric(num_bands=4)

            def on_validation_epoch_end(self):
                result = self.bands.compute()
                self.log("val_band0_acc", float(result.acc_pass[0]))
                self.bands.reset()
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False
    counts: Tensor
    image_shape: Tensor

    def __init__(
        self,
        num_bands: int | None = None,
        *,
        edges: Sequence[float] | Tensor | None = None,
        spacing: Spacing = "linear",
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.edges = resolve_edges(num_bands, edges, spacing)
        self.spacing = _spacing_name(edges, spacing)
        check_positive_int("batch_size", batch_size)
        self.batch_size = batch_size
        num = self.edges.numel() - 1
        self.add_state("counts", torch.zeros(2 * num + 2, dtype=torch.float64), dist_reduce_fx="sum")
        # (H, W) of the images (for num_bins); the same on every process, 0 where nothing was seen
        self.add_state("image_shape", torch.zeros(2, dtype=torch.long), dist_reduce_fx="max")

    def update(self, model: nn.Module, images: Tensor, labels: Tensor) -> None:
        """Count correct predictions on a batch and its band-pass / band-stop images (see ``band_pass_counts``).

        Args:
            model: classifier mapping (B, C, H, W) images to (B, K') logits (run in eval mode).
            images: (M, C, H, W) float images in [0, 1], of the same H x W in every update.
            labels: (M,) integer labels.
        """
        check_image(images, "images", values=False)
        shape = [int(images.shape[-2]), int(images.shape[-1])]
        seen = self.image_shape.tolist()
        if seen != [0, 0] and seen != shape:
            raise ValueError(f"images must be {seen[0]}x{seen[1]} as before, got {shape[0]}x{shape[1]}")
        counts = band_pass_counts(model, images, labels, self.edges, batch_size=self.batch_size)
        self.counts += counts.to(self.counts)
        self.image_shape.copy_(torch.tensor(shape))

    def compute(self) -> BandPassAccuracy:
        """[`BandPassAccuracy`][lowfreq.analysis.band_pass.BandPassAccuracy] of every image on every process."""
        height, width = (int(v) for v in self.image_shape.tolist())
        return band_pass_accuracy_from_counts(self.counts, self.edges, (height, width), spacing=self.spacing)
