"""Batched tensor augmentation (crop, flip, colour jitter) and the frequency-component training transform.

Each random op comes in two halves: a *draw* of its parameters on the CPU (``crop_flip_params``,
``color_jitter_factors``) and a deterministic *apply* (``crop_flip``, ``apply_color_jitter``), so the
DataLoader path ([`random_crop_flip`][lowfreq.data.transforms.random_crop_flip],
[`color_jitter`][lowfreq.data.transforms.color_jitter]) and the device-resident path
([`DeviceLoader`][lowfreq.data.device.DeviceLoader]) draw and apply identically.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from lowfreq.core.checks import check_choice, check_image, check_range
from lowfreq.filters import frequency_components, rescale_by_max

__all__ = [
    "Component",
    "ComponentTransform",
    "apply_color_jitter",
    "check_crop_padding",
    "color_jitter",
    "color_jitter_factors",
    "crop_flip",
    "crop_flip_params",
    "random_crop_flip",
]

Component = Literal["low", "high", "original"]


def check_crop_padding(padding: int, height: int, width: int) -> None:
    """Raise ValueError unless ``padding`` (reflect padding of a crop, pixels) is in [0, min(H, W) - 1]."""
    if not 0 <= padding < min(height, width):
        raise ValueError(
            f"padding must be in [0, {min(height, width) - 1}] for {height}x{width} images, got {padding}"
        )


def _reflect(index: Tensor, size: int) -> Tensor:
    """Fold positions in [-(size - 1), 2 * (size - 1)] into [0, size) as reflect padding does (no edge repeat)."""
    index = index.abs()
    return torch.where(index > size - 1, 2 * (size - 1) - index, index)


def crop_flip(
    images: Tensor, oy: Tensor, ox: Tensor, flip: Tensor, padding: int, index: Tensor | None = None
) -> Tensor:
    """Crop after reflect padding and optionally mirror, with given offsets: one batched gather, any dtype.

    ``out[b] = flip[b] ? mirror(window) : window`` where ``window`` is the (H, W) window at ``(oy[b], ox[b])`` of
    ``images[index[b]]`` reflect-padded by ``padding`` pixels. It is what
    [`random_crop_flip`][lowfreq.data.transforms.random_crop_flip] draws, without building the padded images, so it also
    runs on uint8 images held on an accelerator.

    Args:
        images: (N, C, H, W) images of any dtype.
        oy: (B,) integer vertical crop offsets in [0, 2 * padding] (``padding`` = the un-shifted centre crop).
        ox: (B,) integer horizontal crop offsets in [0, 2 * padding].
        flip: (B,) bool, mirror horizontally.
        padding: reflect padding in pixels, in [0, min(H, W) - 1].
        index: (B,) rows of ``images`` to crop; None crops every image (B = N).

    Returns:
        (B, C, H, W) tensor with the dtype and device of ``images``.
    """
    _, c, h, w = images.shape
    check_crop_padding(padding, h, w)
    dev = images.device
    rows = _reflect(oy[:, None] + torch.arange(-padding, h - padding, device=dev), h)  # (B, H)
    cols = ox[:, None] + torch.arange(-padding, w - padding, device=dev)  # (B, W)
    cols = _reflect(torch.where(flip[:, None], cols.flip(-1), cols), w)
    bi = torch.arange(images.shape[0], device=dev) if index is None else index
    ci = torch.arange(c, device=dev)[None, :, None, None]
    return images[bi[:, None, None, None], ci, rows[:, None, :, None], cols[:, None, None, :]]  # (B, C, H, W)


def crop_flip_params(
    num_images: int, padding: int, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Draw random crop offsets and flips on the CPU, the random half of ``random_crop_flip``.

    Draws, in this order, ``oy`` and ``ox`` ~ U{0..2 padding} (zeros when ``padding`` is 0, drawing nothing), then
    ``flip`` ~ Bernoulli(0.5).

    Args:
        num_images: number of images B, >= 0.
        padding: reflect padding of the crop in pixels, >= 0.
        generator: random source; ``None`` uses torch's global generator.

    Returns:
        ``(oy, ox, flip)``: (num_images,) int64, int64 and bool CPU tensors, the arguments of ``crop_flip``.
    """
    if padding > 0:
        oy = torch.randint(0, 2 * padding + 1, (num_images,), generator=generator)
        ox = torch.randint(0, 2 * padding + 1, (num_images,), generator=generator)
    else:
        oy = ox = torch.zeros(num_images, dtype=torch.long)
    return oy, ox, torch.rand(num_images, generator=generator) < 0.5


def random_crop_flip(x: Tensor, padding: int = 4, *, generator: torch.Generator | None = None) -> Tensor:
    """Random crop after reflect padding, then a random horizontal flip, drawn independently per image.

    Draws the parameters with ``crop_flip_params``, then applies ``crop_flip``.

    Args:
        x: (B, C, H, W) float images.
        padding: pixels of reflect padding on every side before cropping back to (H, W); 0 disables the crop.
        generator: random source; ``None`` uses torch's global generator (seeded per DataLoader worker).

    Returns:
        (B, C, H, W) tensor with the dtype and device of ``x``.
    """
    check_crop_padding(padding, *x.shape[-2:])
    oy, ox, flip = crop_flip_params(x.shape[0], padding, generator=generator)
    return crop_flip(x, oy.to(x.device), ox.to(x.device), flip.to(x.device), padding)


def color_jitter_factors(num_images: int, strength: float, *, generator: torch.Generator | None = None) -> Tensor:
    """Draw brightness, contrast and saturation factors uniformly from ``[max(0, 1 - strength), 1 + strength]``.

    Args:
        num_images: number of images B, >= 0.
        strength: jitter strength, >= 0.
        generator: random source; ``None`` uses torch's global generator.

    Returns:
        (3, num_images) float32 CPU tensor, the ``factors`` of ``apply_color_jitter``.
    """
    check_range("strength", strength, 0.0, math.inf)
    lo, hi = max(0.0, 1.0 - strength), 1.0 + strength
    return lo + (hi - lo) * torch.rand(3, num_images, generator=generator)


def color_jitter(x: Tensor, strength: float, *, generator: torch.Generator | None = None) -> Tensor:
    """Batched brightness, contrast and saturation jitter (torchvision ``ColorJitter(s, s, s)`` without hue).

    Factors are drawn per image by ``color_jitter_factors`` and applied by ``apply_color_jitter`` in the
    fixed order brightness, contrast, saturation; the result is clamped to [0, 1].

    Args:
        x: (B, 3, H, W) float images in [0, 1].
        strength: jitter strength, >= 0; 0 returns ``x`` unchanged.
        generator: random source; ``None`` uses torch's global generator.

    Returns:
        (B, 3, H, W) tensor in [0, 1] with the dtype and device of ``x``.
    """
    check_range("strength", strength, 0.0, math.inf)
    if strength == 0 or x.numel() == 0:
        return x
    return apply_color_jitter(x, color_jitter_factors(x.shape[0], strength, generator=generator))


def apply_color_jitter(x: Tensor, factors: Tensor) -> Tensor:
    """Brightness, contrast and saturation jitter with given factors (the deterministic half of ``color_jitter``).

    Args:
        x: (B, 3, H, W) float images in [0, 1].
        factors: (3, B) brightness, contrast and saturation factors, >= 0 (1 = unchanged).

    Returns:
        (B, 3, H, W) tensor in [0, 1] with the dtype and device of ``x``.
    """
    f = factors.to(x)[:, :, None, None, None]  # (3, B, 1, 1, 1)
    weights = x.new_tensor([0.299, 0.587, 0.114])[None, :, None, None]
    x = (x * f[0]).clamp(0, 1)
    gray_mean = (x * weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = (gray_mean + f[1] * (x - gray_mean)).clamp(0, 1)
    gray = (x * weights).sum(1, keepdim=True)
    return (gray + f[2] * (x - gray)).clamp(0, 1)


class ComponentTransform(nn.Module):
    """Replace images by their LFC or HFC (P003 Table 1: train on ``x_l`` or ``x_h``), optionally rescaled by max.

    The split is [`lowfreq.filters.frequency_components`][lowfreq.filters.frequency_components]: ``split_frequencies``
    at ``radius_bins / N`` cycles/pixel on N x N images (P003's index radius on the centred spectrum). Works on a
    single (C, N, N) image (dataset transform) or a (B, C, N, N) batch (``ImageDataModule(train_transform=...)``).
    The output is not clipped: an HFC lies around 0 with negative values, which is what P003 trains on.

    Args:
        radius_bins: r > 0 in index units on the N x N centred spectrum (cutoff r / N cycles/pixel).
        component: "low" (x_l), "high" (x_h) or "original" (x itself; with ``rescale`` P003's rescaled originals).
        inclusive: ``|f| <= r / N`` instead of P003's code's strict ``<``.
        rescale: divide every image by its maximum over channels and pixels (P003's "standard pixel scale",
            §4.2, per image as in its code); images whose maximum is <= 0 stay unchanged.
    """

    def __init__(
        self, radius_bins: float = 8.0, component: Component = "low", inclusive: bool = False, rescale: bool = False
    ) -> None:
        super().__init__()
        check_range("radius_bins", radius_bins, 0.0, math.inf, low_open=True)
        check_choice("component", component, ("low", "high", "original"))
        self.radius_bins, self.component, self.inclusive, self.rescale = radius_bins, component, inclusive, rescale

    def forward(self, x: Tensor) -> Tensor:
        """(C, N, N) or (B, C, N, N) float images (any range) -> the same shape, dtype and device."""
        single = isinstance(x, Tensor) and x.ndim == 3
        batch = x[None] if single else x
        check_image(batch, unit_range=False, values=self.component == "original")  # else checked by the split
        out = batch
        if self.component != "original":
            low, high = frequency_components(batch, self.radius_bins, inclusive=self.inclusive)
            out = low if self.component == "low" else high
        if self.rescale:
            out = rescale_by_max(out)
        return out[0] if single else out

    def extra_repr(self) -> str:
        """Constructor arguments, shown by ``repr``."""
        return (
            f"radius_bins={self.radius_bins}, component={self.component!r}, inclusive={self.inclusive}, "
            f"rescale={self.rescale}"
        )
