"""Figures of P004's learned Fourier masks: the centred mask (log colour scale) and its radial / angular energies.

Every function takes a [`FourierMaskResult`][lowfreq.analysis.masks.FourierMaskResult] (or a mask tensor), an optional
``ax``, and returns ``(fig, ax)``; frequencies are drawn in cycles/pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from torch import Tensor

from lowfreq.analysis.masks import angular_energy, apply_masks, complementary_mask, radial_energy
from lowfreq.plotting._common import figure_axes

__all__ = ["plot_filtered_images", "plot_fourier_mask", "plot_mask_energies", "plot_mask_energy"]


def _mask(result: Any, index: int) -> Tensor:
    masks = result.masks if hasattr(result, "masks") else result
    masks = masks if masks.ndim == 3 else masks[None]
    if not 0 <= index < len(masks):
        raise ValueError(f"index must be in [0, {len(masks)}), got {index}")
    return cast("Tensor", masks[index].detach().cpu().double())


def plot_fourier_mask(
    result: Any, *, index: int = 0, floor: float = 1e-3, label: str | None = None, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """A learned mask, fftshifted (DC in the centre), log colour scale with a colour bar, axes in cycles/pixel.

    Args:
        result: a ``FourierMaskResult`` or a (M, H, W) / (H, W) mask tensor in the unshifted layout.
        index: which of the M masks.
        floor: values below it are drawn at it (log scale; a mask is often exactly 0).
        label: the run (e.g. the probed classifier), first line of the title.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.2, 3.8))
    mask = torch.fft.fftshift(_mask(result, index)).numpy()
    height, width = mask.shape
    fy, fx = np.fft.fftshift(np.fft.fftfreq(height)), np.fft.fftshift(np.fft.fftfreq(width))
    extent = (fx[0] - 0.5 / width, fx[-1] + 0.5 / width, fy[-1] + 0.5 / height, fy[0] - 0.5 / height)
    image = ax.imshow(np.clip(mask, floor, 1.0), norm=LogNorm(vmin=floor, vmax=1.0), extent=extent, cmap="magma")
    fig.colorbar(image, ax=ax, label="mask value")
    ax.set_xlabel("$f_x$ (cycles/pixel)")
    ax.set_ylabel("$f_y$ (cycles/pixel)")
    key = getattr(result, "keys", None)
    scope = getattr(result, "scope", None)
    what = f"{scope} mask {int(key[index])}" if scope is not None and key is not None else "mask"
    details = f"{what} (mean {mask.mean():.3f})"
    ax.set_title(f"{label}\n{details}" if label else details, fontsize="small")
    return fig, ax


def plot_mask_energy(
    result: Any,
    *,
    kind: Literal["radial", "angular"] = "radial",
    num_bands: int = 64,
    index: int = 0,
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Band energies of a mask (P004 Fig. 4): against frequency (radial, cycles/pixel) or angle (degrees).

    Args:
        result: a ``FourierMaskResult`` or a mask tensor (see
            [`plot_fourier_mask`][lowfreq.plotting.masks.plot_fourier_mask]).
        kind: "radial" (rings around DC) or "angular" (sectors).
        num_bands: number of bands (P004: 64).
        index: which of the M masks.
        label: legend entry (call again with ``ax`` to compare masks).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.6, 3.2))
    mask = _mask(result, index)
    if kind == "radial":
        energy, edges = radial_energy(mask, num_bands)
        centres = (edges[:-1] + edges[1:]).numpy() / 2 / mask.shape[-1]  # index units -> cycles/pixel
        ax.set_xlabel("radial frequency (cycles/pixel)")
    elif kind == "angular":
        energy, edges = angular_energy(mask, num_bands)
        centres = (edges[:-1] + edges[1:]).numpy() / 2
        ax.set_xlabel("orientation (degrees, counter-clockwise from +$f_x$)")
    else:
        raise ValueError(f"kind must be one of ['radial', 'angular'], got {kind!r}")
    ax.plot(centres, energy.numpy(), "-o", markersize=2, label=label)
    ax.set_ylabel("band energy (L2 norm of the normalised mask)")
    if label:
        ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_mask_energies(
    result: Any,
    *,
    num_bands: int = 64,
    index: int = 0,
    label: str | None = None,
    axes: Sequence[Axes] | None = None,
) -> tuple[Figure, Sequence[Axes]]:
    """Radial (top; square masks only) and angular (bottom) band energies of one mask in one figure.

    Args:
        result: a ``FourierMaskResult`` or a mask tensor (see
            [`plot_fourier_mask`][lowfreq.plotting.masks.plot_fourier_mask]).
        num_bands: number of bands (P004: 64).
        index: which of the M masks.
        label: the run, as the figure title.
        axes: two axes to draw into (one for a non-square mask); None creates a new figure.
    """
    height, width = _mask(result, index).shape
    kinds: list[Literal["radial", "angular"]] = ["radial", "angular"] if height == width else ["angular"]
    if axes is None:
        fig = Figure(figsize=(4.6, 3.0 * len(kinds)), layout="constrained")
        axes = list(np.atleast_1d(fig.subplots(len(kinds), 1)))
    else:
        fig = axes[0].get_figure()  # type: ignore[assignment]
    for kind, ax in zip(kinds, axes, strict=False):
        plot_mask_energy(result, kind=kind, num_bands=num_bands, index=index, ax=ax)
    if label:
        fig.suptitle(label, fontsize="small")
    return fig, axes


def plot_filtered_images(
    images: Tensor, result: Any, *, index: int | None = None, num_images: int = 6
) -> tuple[Figure, np.ndarray]:
    """Grid of images: originals (top), filtered with the mask (middle), with its complement (bottom), P004 Fig. 5.

    Filtered images are clipped to [0, 1] for display only.

    Args:
        images: (N, C, H, W) images in [0, 1] (C = 1 or 3).
        result: a ``FourierMaskResult`` or masks; one mask (``index``, default 0) is used for every image, unless
            ``index`` is None and there is one mask per image (single-image masks).
        index: which mask to use for all images; None with per-image masks uses mask i for image i.
        num_images: columns (the first images).

    Returns:
        ``(fig, axes)`` with axes of shape (3, num_images).
    """
    masks = result.masks if hasattr(result, "masks") else result
    masks = masks if masks.ndim == 3 else masks[None]
    n = min(num_images, len(images))
    x = images[:n].detach().cpu().double()
    if index is None and len(masks) == len(images):
        chosen = masks[:n].double()
    else:
        chosen = _mask(masks, 0 if index is None else index)
    rows = [x, apply_masks(x, chosen), apply_masks(x, complementary_mask(chosen))]
    fig = Figure(figsize=(1.4 * n, 4.4), layout="constrained")
    axes = np.atleast_2d(fig.subplots(3, n, squeeze=False))
    for r, (batch, name) in enumerate(zip(rows, ("original", "masked", "complement"), strict=True)):
        for c in range(n):
            image = batch[c].clamp(0, 1).permute(1, 2, 0).numpy()
            axes[r, c].imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name)
    return fig, axes
