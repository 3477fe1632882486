"""The Fourier heat map of Yin et al. 2019 ("A Fourier Perspective on Model Robustness in Computer Vision").

For every frequency (fy, fx) of the H x W grid the test images are perturbed by a Fourier basis image and the
error rate is measured: ``x' = clip(x + eps * r ⊙ U_ij, 0, 1)``, where

* ``U_ij`` is the real basis image ``cos(2π (ky y / H + kx x / W))`` scaled to unit L2 norm (one H x W plane, the
  same in every channel; its spectrum has two non-zero bins, at ``(ky, kx)`` and ``(-ky, -kx)``). This is the
  basis of the public implementation gatheluck/FourierHeatmap (a one-hot half spectrum through ``irfftn``, then
  L2-normalised), a cosine of phase 0, which never vanishes, also at DC and Nyquist;
* ``r`` holds one sign in {-1, +1} per channel, drawn for every (image, frequency) pair; so every channel of the
  perturbation has L2 norm ``eps`` (Yin et al.: ``eps = 4`` on CIFAR-10, ``15.7`` on ImageNet, images in [0, 1]);
* the sum is clipped to [0, 1].

Conventions: the map is on the **centred** grid (``torch.fft.fftshift``): row a is ``fy = (a - H // 2) / H``,
column b is ``fx = (b - W // 2) / W``, in cycles/pixel (DC at ``[H // 2, W // 2]``). ``U`` at ``(fy, fx)`` equals
``U`` at ``(-fy, -fx)``, so each pair is evaluated once (the frequency with the smaller centred flat index,
[`heat_map_frequencies`][lowfreq.analysis.heat_map.heat_map_frequencies]) and the map is mirrored: it is exactly
symmetric under ``(fy, fx) -> (-fy, -fx)``. Frequencies are named by their signed FFT indices ``(ky, kx)``, ``ky`` in
``[-(H // 2), (H - 1) // 2]``.

Randomness: the signs of the image with dataset index i are ``2 * torch.randint(0, 2, (F_all, C)) - 1`` drawn from
``seeded_generator(seed, i)``, row f for the f-th frequency of the full half grid (stride 1, no band limit). They
depend on (seed, index, frequency) only, so 1 or 2 processes, any batching and any subset of the grid give the
same errors at the same frequencies.

Cost: the model passes run under [`analysis_mode`][lowfreq.core.device.analysis_mode]; a forward pass holds
``batch_size`` (image, basis) pairs, the basis images of a chunk are built on the model's device from 1-D cosine
tables, and memory does not depend on the number of images. ``stride`` and ``max_frequency`` evaluate a sub-grid
(the paper's ImageNet map is the 63 x 63 low-frequency square, ``max_frequency = 31 / 224``); the others are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from tqdm.auto import tqdm

from lowfreq.analysis.hybrid import _check_labels_fit_logits
from lowfreq.core.checks import check_image, check_indices, check_labels, check_positive_int, check_range
from lowfreq.core.device import accumulator_dtype, analysis_mode, image_progress, model_device_dtype
from lowfreq.core.seeding import seeded_generator
from lowfreq.spectral import radial_frequency

__all__ = [
    "DEFAULT_EPS",
    "HIGH_BAND",
    "LOW_BAND",
    "FourierHeatMap",
    "FourierHeatMapMetric",
    "fourier_basis",
    "fourier_heat_map",
    "fourier_heat_map_counts",
    "fourier_heat_map_from_counts",
    "heat_map_frequencies",
    "heat_map_signs",
]

DEFAULT_EPS = 4.0
"""Yin et al.'s L2 norm per channel on CIFAR-10 (32 x 32, [0, 1] pixels); they used 15.7 on ImageNet (224 x 224)."""

LOW_BAND = 0.125
"""``low_error`` averages the map over ``|f| <= LOW_BAND`` cycles/pixel (r = 4 on 32 x 32), DC included."""

HIGH_BAND = 0.25
"""``high_error`` averages the map over ``|f| > HIGH_BAND`` cycles/pixel (r > 8 on 32 x 32)."""


@dataclass
class FourierHeatMap:
    """Result of [`fourier_heat_map`][lowfreq.analysis.heat_map.fourier_heat_map]. Error rates in [0, 1].

    Attributes:
        fy: (H,) row frequencies of the centred grid in cycles/pixel (``fftshift(fftfreq(H))``).
        fx: (W,) column frequencies in cycles/pixel.
        error: (H, W) float64 error rate with the basis image of (fy[a], fx[b]) added, NaN where not evaluated;
            symmetric under (fy, fx) -> (-fy, -fx).
        frequencies: (F, 2) int64 signed FFT indices (ky, kx) of the evaluated frequencies (one of each mirror pair).
        error_half: (F,) their error rates (``error`` holds them at (ky, kx) and at (-ky, -kx)).
        radial_frequency: (R,) ring centres ``k / N`` cycles/pixel, N = max(H, W), k = 0 .. R - 1.
        radial_error: (R,) mean of ``error`` over the evaluated grid points with ``round(N |f|) = k`` (NaN if none).
        clean_error: error rate on the unperturbed images.
        mean_error: mean of ``error`` over the evaluated grid points.
        low_error: mean over the evaluated grid points with ``|f| <= LOW_BAND`` (0.125 cycles/pixel).
        high_error: mean over the evaluated grid points with ``|f| > HIGH_BAND`` (0.25 cycles/pixel).
        eps: L2 norm of every channel of the perturbation.
        num_images: number of images.
        stride: only frequencies whose indices ky and kx are multiples of ``stride`` were evaluated.
        max_frequency: only frequencies with ``max(|fy|, |fx|) <= max_frequency`` were evaluated (0.5: all).
    """

    fy: Tensor
    fx: Tensor
    error: Tensor
    frequencies: Tensor
    error_half: Tensor
    radial_frequency: Tensor
    radial_error: Tensor
    clean_error: float
    mean_error: float
    low_error: float
    high_error: float
    eps: float
    num_images: int
    stride: int
    max_frequency: float

    def __setattr__(self, name: str, value: Any) -> None:
        # keep the documented shapes: torchmetrics squeezes 1-element tensors returned by Metric.compute()
        if isinstance(value, Tensor):
            if name in ("fy", "fx", "error_half", "radial_frequency", "radial_error"):
                value = value.reshape(-1)
            elif name == "frequencies":
                value = value.reshape(-1, 2)
            elif name == "error" and "fy" in self.__dict__ and "fx" in self.__dict__:
                value = value.reshape(self.fy.numel(), self.fx.numel())
        super().__setattr__(name, value)


# ---- the grid, the basis, the signs --------------------------------------------------------------------------------


def _image_size(image_size: int | tuple[int, int] | list[int], name: str = "image_size") -> tuple[int, int]:
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        check_positive_int(name, image_size)
        return image_size, image_size
    if not isinstance(image_size, (tuple, list)) or len(image_size) != 2:
        raise ValueError(f"{name} must be an int N or a pair (H, W), got {image_size!r}")
    for value in image_size:
        check_positive_int(name, value)
    return int(image_size[0]), int(image_size[1])


def _check_options(eps: float, stride: int, max_frequency: float | None, batch_size: int, seed: int) -> float:
    check_range("eps", eps, 0.0, math.inf)
    check_positive_int("stride", stride)
    check_positive_int("batch_size", batch_size)
    check_positive_int("seed", seed, minimum=0)
    if max_frequency is None:
        return 0.5
    check_range("max_frequency", max_frequency, 0.0, 0.5)
    return float(max_frequency)


def _centred_indices(n: int) -> Tensor:
    """Signed FFT indices of the centred axis: ``-(n // 2) .. (n - 1) // 2`` (fftshift order)."""
    return torch.arange(n) - n // 2


def _half_grid(height: int, width: int) -> tuple[Tensor, Tensor]:
    """(F_all, 2) signed indices of one frequency of every mirror pair, and (H, W) the position of each grid point's.

    Grid point p = a * W + b of the centred grid and its mirror (-ky, -kx) (indices taken modulo H, W) share a
    basis image; the representative is the one with the smaller flat index p.
    """
    ky, kx = _centred_indices(height), _centred_indices(width)
    mirror_a = (height // 2 - ky) % height - height // 2  # signed index of -ky, wrapped into the centred range
    mirror_b = (width // 2 - kx) % width - width // 2
    flat = torch.arange(height * width).reshape(height, width)
    mirror = ((mirror_a + height // 2)[:, None] * width + (mirror_b + width // 2)[None, :])  # (H, W) flat of mirror
    representative = torch.minimum(flat, mirror)
    unique, position = torch.unique(representative, sorted=True, return_inverse=True)
    frequencies = torch.stack([ky[unique // width], kx[unique % width]], dim=1)
    return frequencies, position


def heat_map_frequencies(
    height: int, width: int, *, stride: int = 1, max_frequency: float | None = None
) -> Tensor:
    """The frequencies a heat map evaluates: one of each mirror pair ``(ky, kx) ~ (-ky, -kx)`` of the H x W grid.

    Args:
        height: H of the images.
        width: W of the images.
        stride: keep the frequencies whose signed indices ky and kx are both multiples of ``stride``.
        max_frequency: keep those with ``max(|ky| / H, |kx| / W) <= max_frequency`` cycles/pixel (None: all).

    Returns:
        (F, 2) int64 signed FFT indices (ky, kx), ky in ``[-(H // 2), (H - 1) // 2]``, sorted by their flat index
        on the centred grid; ``F = (H W + S) / 2`` for the full grid, S the number of self-mirrored points
        (DC and the Nyquist bins of even sizes).

    Raises:
        ValueError: a size, ``stride`` or ``max_frequency`` (in [0, 0.5]) out of range.
    """
    check_positive_int("height", height)
    check_positive_int("width", width)
    limit = _check_options(0.0, stride, max_frequency, 1, 0)
    frequencies, _ = _half_grid(height, width)
    return frequencies[_selected(frequencies, height, width, stride, limit)]


def _selected(frequencies: Tensor, height: int, width: int, stride: int, limit: float) -> Tensor:
    """Positions in ``frequencies`` of the sub-grid (stride, band limit)."""
    ky, kx = frequencies[:, 0], frequencies[:, 1]
    keep = (ky % stride == 0) & (kx % stride == 0)
    keep &= (ky.abs().double() / height <= limit + 1e-12) & (kx.abs().double() / width <= limit + 1e-12)
    return torch.nonzero(keep).flatten()


def fourier_basis(
    frequencies: Tensor,
    height: int,
    width: int,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Unit-L2-norm real Fourier basis images ``cos(2π (ky y / H + kx x / W))`` of the given frequencies.

    Built from 1-D cosine and sine tables (``cos(a + b) = cos a cos b - sin a sin b``) on ``device``; the phase is
    taken modulo the period in integers, so the values are exact to rounding for any size.

    Args:
        frequencies: (F, 2) integer signed FFT indices (ky, kx).
        height: H of the basis images.
        width: W of the basis images.
        device: where to build them (None: the CPU).
        dtype: floating dtype of the result (the tables are float64 where the device has it).

    Returns:
        (F, H, W) basis images, each with L2 norm 1 (``U(ky, kx) == U(-ky, -kx)``).

    Raises:
        ValueError: ``frequencies`` is not an (F, 2) integer tensor.
    """
    if not isinstance(frequencies, Tensor) or frequencies.ndim != 2 or frequencies.shape[1] != 2 or (
        frequencies.dtype.is_floating_point or frequencies.dtype.is_complex
    ):
        got = f"{frequencies.dtype} {tuple(frequencies.shape)}" if isinstance(frequencies, Tensor) else type(
            frequencies).__name__
        raise ValueError(f"frequencies must be an (F, 2) integer tensor of (ky, kx) indices, got {got}")
    check_positive_int("height", height)
    check_positive_int("width", width)
    device = torch.device("cpu") if device is None else torch.device(device)
    table = torch.float32 if device.type == "mps" else torch.float64
    k = frequencies.to(device=device, dtype=torch.long)

    def tables(index: Tensor, n: int) -> tuple[Tensor, Tensor]:
        phase = (index[:, None] * torch.arange(n, device=device)[None, :]) % n  # (F, n) integer phase
        angle = (2 * math.pi / n) * phase.to(table)
        return torch.cos(angle), torch.sin(angle)

    cy, sy = tables(k[:, 0], height)
    cx, sx = tables(k[:, 1], width)
    basis = cy[:, :, None] * cx[:, None, :] - sy[:, :, None] * sx[:, None, :]  # (F, H, W)
    basis = basis / basis.flatten(1).norm(dim=1)[:, None, None]
    return cast("Tensor", basis.to(dtype))


def heat_map_signs(seed: int, indices: Tensor, num_frequencies: int, channels: int) -> Tensor:
    """The signs r of every (image, frequency, channel): (B, F_all, C) int8 in {-1, +1} on the CPU.

    Image b's are ``2 * torch.randint(0, 2, (F_all, C), generator=seeded_generator(seed, indices[b])) - 1``, row f
    for the f-th frequency of ``heat_map_frequencies(H, W)`` (the full half grid).

    Args:
        seed: seed of the heat map.
        indices: (B,) non-negative integer dataset indices of the images.
        num_frequencies: F_all, the number of frequencies of the full half grid.
        channels: C.
    """
    rows = [torch.randint(0, 2, (num_frequencies, channels), generator=seeded_generator(seed, int(i)),
                          dtype=torch.int8) for i in indices.tolist()]
    if not rows:
        return torch.zeros(0, num_frequencies, channels, dtype=torch.int8)
    return 2 * torch.stack(rows) - 1


# ---- update / compute ----------------------------------------------------------------------------------------------


def _heat_map_update(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    keys: Tensor,
    eps: float,
    seed: int,
    stride: int,
    limit: float,
    batch_size: int,
    bar: tqdm,
) -> Tensor:
    """Sums of one set of images: (F + 2,) float64, wrong predictions per frequency, wrong on clean, images."""
    num_images, channels, height, width = images.shape
    full, _ = _half_grid(height, width)
    chosen = _selected(full, height, width, stride, limit)
    frequencies = full[chosen]
    num_freq = len(chosen)
    device, dtype = model_device_dtype(model, images)
    counts = torch.zeros(num_freq + 2, dtype=accumulator_dtype(device), device=device)
    counts[-1] = num_images
    block = min(max(num_images, 1), batch_size)  # images held at once
    per_pass = max(1, batch_size // block)  # frequencies per forward pass: block x per_pass <= batch_size pairs
    with analysis_mode(model):
        for start in range(0, num_images, block):
            x = images[start : start + block].to(device=device, dtype=dtype)  # (m, C, H, W)
            y = labels[start : start + block].to(device)
            m = x.shape[0]
            signs = heat_map_signs(seed, keys[start : start + block], len(full), channels)[:, chosen]  # (m, F, C)
            logits = model(x)
            if start == 0:  # labels the model cannot output would silently count as errors
                _check_labels_fit_logits(logits, (labels,), ("labels",))
            counts[-2] += (logits.argmax(dim=-1) != y).sum()
            bar.update(m)
            for first in range(0, num_freq, per_pass):
                part = slice(first, first + per_pass)
                basis = eps * fourier_basis(frequencies[part], height, width, device=device, dtype=dtype)  # (f, H, W)
                r = signs[:, part].to(device=device, dtype=dtype)  # (m, f, C)
                f = basis.shape[0]
                perturbed = (x[:, None] + r[..., None, None] * basis[None, :, None]).clamp_(0, 1)  # (m, f, C, H, W)
                logits = model(perturbed.reshape(m * f, channels, height, width))  # (m f, K)
                wrong = logits.argmax(dim=-1) != y.repeat_interleave(f)
                counts[first : first + f] += wrong.reshape(m, f).sum(dim=0)
                bar.update(m * f)
    return counts.cpu().double()


def _band_mean(error: Tensor, mask: Tensor) -> float:
    values = error[mask & ~error.isnan()]
    return float(values.mean()) if values.numel() else math.nan


def fourier_heat_map_from_counts(
    counts: Tensor,
    image_size: int | tuple[int, int],
    *,
    eps: float = DEFAULT_EPS,
    stride: int = 1,
    max_frequency: float | None = None,
) -> FourierHeatMap:
    """Turn summed ``fourier_heat_map_counts`` into a [`FourierHeatMap`][lowfreq.analysis.heat_map.FourierHeatMap].

    Args:
        counts: (F + 2,) summed counts (wrong per frequency, wrong on clean images, images).
        image_size: N or (H, W) of the images.
        eps: the L2 norm per channel they were made with.
        stride: the sub-grid's stride they were made with.
        max_frequency: the band limit they were made with (None: all).

    Returns:
        The heat map; every error is NaN when the counts hold no image.

    Raises:
        ValueError: ``counts`` does not match the grid of ``image_size``, ``stride`` and ``max_frequency``.
    """
    height, width = _image_size(image_size)
    limit = _check_options(eps, stride, max_frequency, 1, 0)
    full, position = _half_grid(height, width)
    chosen = _selected(full, height, width, stride, limit)
    if not isinstance(counts, Tensor) or counts.shape != (len(chosen) + 2,):
        got = tuple(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__
        raise ValueError(f"counts must have shape ({len(chosen) + 2},) for this grid, got {got}")
    counts = counts.detach().double().cpu()
    n = float(counts[-1])
    rates = counts[:-1] / n if n > 0 else torch.full((len(chosen) + 1,), math.nan, dtype=torch.float64)
    per_pair = torch.full((len(full),), math.nan, dtype=torch.float64)
    per_pair[chosen] = rates[:-1]
    error = per_pair[position]  # (H, W): each grid point reads its mirror pair's rate
    radius = torch.fft.fftshift(radial_frequency(height, width))  # (H, W) |f| on the centred grid
    size = max(height, width)
    ring = torch.round(radius * size).long()
    evaluated = torch.zeros(len(full), dtype=torch.bool)
    evaluated[chosen] = True
    seen = evaluated[position]
    num_rings = int(ring.max()) + 1
    total = torch.zeros(num_rings, dtype=torch.float64).index_add_(0, ring[seen], error[seen].nan_to_num())
    number = torch.zeros(num_rings, dtype=torch.float64).index_add_(0, ring[seen], torch.ones_like(error[seen]))
    radial_error = torch.where(number > 0, total / number.clamp(min=1), torch.full_like(total, math.nan))
    if n <= 0:
        radial_error = torch.full_like(total, math.nan)
    return FourierHeatMap(
        fy=torch.fft.fftshift(torch.fft.fftfreq(height, dtype=torch.float64)),
        fx=torch.fft.fftshift(torch.fft.fftfreq(width, dtype=torch.float64)),
        error=error,
        frequencies=full[chosen],
        error_half=rates[:-1],
        radial_frequency=torch.arange(num_rings, dtype=torch.float64) / size,
        radial_error=radial_error,
        clean_error=float(rates[-1]),
        mean_error=_band_mean(error, seen),
        low_error=_band_mean(error, seen & (radius <= LOW_BAND + 1e-12)),
        high_error=_band_mean(error, seen & (radius > HIGH_BAND + 1e-12)),
        eps=float(eps),
        num_images=int(n),
        stride=stride,
        max_frequency=limit,
    )


def _check_inputs(images: Tensor, labels: Tensor) -> None:
    check_image(images, "images")
    check_labels(labels, "labels", length=images.shape[0])


def fourier_heat_map_counts(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
    indices: Tensor | None = None,
    stride: int = 1,
    max_frequency: float | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> Tensor:
    """Wrong predictions per frequency of the heat map, on the clean images, and the images (sum across shards).

    Args:
        model: classifier mapping (B, C, H, W) images in [0, 1] to (B, K) logits; run under ``analysis_mode``
            (eval, no autograd; training flag restored) on the device and float dtype of its parameters.
        images: (N, C, H, W) float images in [0, 1].
        labels: (N,) integer labels.
        eps: L2 norm of every channel of the perturbation (>= 0).
        seed: seed of the signs.
        indices: (N,) dataset indices of the images, the keys of their signs; None = 0 .. N - 1.
        stride: evaluate the frequencies whose indices ky, kx are multiples of ``stride``.
        max_frequency: evaluate those with ``max(|fy|, |fx|) <= max_frequency`` cycles/pixel (None: all).
        batch_size: (image, basis) pairs per forward pass (also images per clean pass).
        progress: show a bar counting the images passed to the model (N x (F + 1)), with the time left.

    Returns:
        (F + 2,) float64 on the CPU: ``[wrong with each frequency of heat_map_frequencies(H, W, stride=...,
        max_frequency=...), wrong on the clean images, number of images]``.

    Raises:
        ValueError: bad images, labels, indices or options (naming the parameter).
    """
    _check_inputs(images, labels)
    limit = _check_options(eps, stride, max_frequency, batch_size, seed)
    keys = check_indices(indices, images.shape[0])
    height, width = images.shape[-2:]
    num_freq = len(heat_map_frequencies(height, width, stride=stride, max_frequency=max_frequency))
    with image_progress(images.shape[0] * (num_freq + 1), "Fourier heat map", progress) as bar:
        return _heat_map_update(model, images, labels, keys, eps, seed, stride, limit, batch_size, bar)


def fourier_heat_map(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
    indices: Tensor | None = None,
    stride: int = 1,
    max_frequency: float | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> FourierHeatMap:
    """Yin et al.'s Fourier heat map: the error rate with each Fourier basis image added to the images.

    Args:
        model: classifier mapping (B, C, H, W) images in [0, 1] to (B, K) logits; run under ``analysis_mode``
            on the device and float dtype of its parameters.
        images: (N, C, H, W) float images in [0, 1].
        labels: (N,) integer labels.
        eps: L2 norm of every channel of the perturbation (Yin et al.: 4 on CIFAR-10, 15.7 on ImageNet).
        seed: seed of the signs; image i's are drawn from ``seeded_generator(seed, indices[i])``.
        indices: (N,) dataset indices of the images; None = 0 .. N - 1.
        stride: evaluate only the frequencies whose indices ky, kx are multiples of ``stride`` (the rest is NaN).
        max_frequency: evaluate only ``max(|fy|, |fx|) <= max_frequency`` cycles/pixel (None: the whole grid).
        batch_size: (image, basis) pairs per forward pass.
        progress: show a bar counting the images passed to the model, with the time left.

    Returns:
        [`FourierHeatMap`][lowfreq.analysis.heat_map.FourierHeatMap]: the (H, W) centred error map, its radial
        profile, the clean error and the band means.

    Raises:
        ValueError: bad images, labels, indices or options (naming the parameter).

    Example:
        ``heat = fourier_heat_map(model, x, y, eps=4.0)``; ``plot_fourier_heat_map(heat)`` draws it.
    """
    counts = fourier_heat_map_counts(
        model, images, labels, eps=eps, seed=seed, indices=indices, stride=stride, max_frequency=max_frequency,
        batch_size=batch_size, progress=progress,
    )
    return fourier_heat_map_from_counts(
        counts, (images.shape[-2], images.shape[-1]), eps=eps, stride=stride, max_frequency=max_frequency
    )


class FourierHeatMapMetric(Metric):
    """[`fourier_heat_map`][lowfreq.analysis.heat_map.fourier_heat_map] as a torchmetrics ``Metric``.

    Each [`update`][lowfreq.analysis.heat_map.FourierHeatMapMetric.update] adds a batch's (F + 2,) counts to a
    sum state; [`compute`][lowfreq.analysis.heat_map.FourierHeatMapMetric.compute] sums them over the processes and
    returns the [`FourierHeatMap`][lowfreq.analysis.heat_map.FourierHeatMap]. The signs depend on each image's
    dataset index only, so any sharding and batching give the function's map on all the images.

    Args:
        image_size: N or (H, W) of the images (it fixes the size of the state).
        eps: L2 norm of every channel of the perturbation (Yin et al.: 4 on CIFAR-10, 15.7 on ImageNet).
        seed: seed of the signs.
        stride: evaluate only the frequencies whose indices ky, kx are multiples of ``stride``.
        max_frequency: evaluate only ``max(|fy|, |fx|) <= max_frequency`` cycles/pixel (None: all).
        batch_size: (image, basis) pairs per forward pass inside an update.
        kwargs: ``torchmetrics.Metric`` options (e.g. ``process_group``).

    Raises:
        ValueError: bad options (naming the parameter).
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False
    counts: Tensor

    def __init__(
        self,
        image_size: int | tuple[int, int],
        eps: float = DEFAULT_EPS,
        *,
        seed: int = 0,
        stride: int = 1,
        max_frequency: float | None = None,
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.image_size = _image_size(image_size)
        _check_options(eps, stride, max_frequency, batch_size, seed)
        self.eps, self.seed, self.stride, self.max_frequency = float(eps), seed, stride, max_frequency
        self.batch_size = batch_size
        num_freq = len(heat_map_frequencies(*self.image_size, stride=stride, max_frequency=max_frequency))
        self.add_state("counts", torch.zeros(num_freq + 2, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, model: nn.Module, images: Tensor, labels: Tensor, indices: Tensor) -> None:
        """Count the errors of a batch with every basis image (see ``fourier_heat_map_counts``).

        Args:
            model: classifier mapping (B, C, H, W) images to (B, K) logits.
            images: (B, C, H, W) float images in [0, 1] of the metric's ``image_size``.
            labels: (B,) integer labels.
            indices: (B,) dataset indices of the images (the keys of their signs).
        """
        check_image(images, "images")
        if tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(f"images must be {self.image_size[0]}x{self.image_size[1]} (image_size), "
                             f"got {tuple(images.shape[-2:])}")
        counts = fourier_heat_map_counts(
            model, images, labels, eps=self.eps, seed=self.seed, indices=indices, stride=self.stride,
            max_frequency=self.max_frequency, batch_size=self.batch_size,
        )
        self.counts += counts.to(self.counts)

    def compute(self) -> FourierHeatMap:
        """[`FourierHeatMap`][lowfreq.analysis.heat_map.FourierHeatMap] of every image on every process."""
        return fourier_heat_map_from_counts(
            self.counts, self.image_size, eps=self.eps, stride=self.stride, max_frequency=self.max_frequency
        )
