"""Figures of P004's learned Fourier masks: the centred mask (log colour scale) and its radial / angular energies.

Every function takes a :class:`~lowfreq.analysis.masks.FourierMaskResult` (or a mask tensor), an optional ``ax``,
and returns ``(fig, ax)``; frequencies are drawn in cycles/pixel.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from torch import Tensor

from lowfreq.analysis.masks import angular_energy, radial_energy
from lowfreq.plotting._common import figure_axes

__all__ = ["plot_fourier_mask", "plot_mask_energy"]


def _mask(result: Any, index: int) -> Tensor:
    masks = result.masks if hasattr(result, "masks") else result
    masks = masks if masks.ndim == 3 else masks[None]
    if not 0 <= index < len(masks):
        raise ValueError(f"index must be in [0, {len(masks)}), got {index}")
    return masks[index].detach().cpu().double()


def plot_fourier_mask(
    result: Any, *, index: int = 0, floor: float = 1e-3, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """A learned mask, fftshifted (DC in the centre), log colour scale with a colour bar, axes in cycles/pixel.

    Args:
        result: a ``FourierMaskResult`` or a (M, H, W) / (H, W) mask tensor in the unshifted layout.
        index: which of the M masks.
        floor: values below it are drawn at it (log scale; a mask is often exactly 0).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.2, 3.6))
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
    if scope is not None and key is not None:
        ax.set_title(f"{scope} mask {int(key[index])} (mean {mask.mean():.3f})")
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
        result: a ``FourierMaskResult`` or a mask tensor (see :func:`plot_fourier_mask`).
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
