"""Figures of P001's adversarial analysis: perturbation spectrum, its radial profile with f_0.5, success rate.

Every function takes an ``lowfreq.analysis.adversarial.AdversarialSpectrum``, an optional ``ax``, and returns
``(fig, ax)``; frequencies in cycles/pixel, budgets in units of 1/255.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from lowfreq.plotting._common import count_text, figure_axes, is_finite, legend_below
from lowfreq.spectral import radial_profile_exact

__all__ = ["plot_perturbation_profile", "plot_perturbation_spectrum", "plot_success_rate"]


def _num_images(result: Any) -> int | None:
    """Images behind the result (its ``epsilons``), None when unknown."""
    eps = getattr(result, "epsilons", None)
    return len(eps) if eps is not None else None


def plot_perturbation_spectrum(result: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Mean perturbation power, fftshifted (DC in the centre, set to 0), log colour scale with a colour bar.

    Args:
        result: an ``AdversarialSpectrum`` (``power`` (H, W), ``epsilons`` (N,)).
        label: the run, first line of the title (with the number of images).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.2, 3.8))
    power = torch.fft.fftshift(result.power.double()).numpy()
    height, width = power.shape
    fy, fx = np.fft.fftshift(np.fft.fftfreq(height)), np.fft.fftshift(np.fft.fftfreq(width))
    extent = (fx[0] - 0.5 / width, fx[-1] + 0.5 / width, fy[-1] + 0.5 / height, fy[0] - 0.5 / height)
    positive = power[power > 0]
    floor = float(positive.min()) if positive.size else 1e-12
    image = ax.imshow(np.clip(power, floor, None), norm=LogNorm(vmin=floor), extent=extent, cmap="viridis")
    fig.colorbar(image, ax=ax, label="mean power")
    ax.set_xlabel("$f_x$ (cycles/pixel)")
    ax.set_ylabel("$f_y$ (cycles/pixel)")
    n = count_text(_num_images(result))
    head = "\n".join(t for t in (label, n) if t)
    ax.set_title(f"{head}\nminimal perturbations: power spectrum" if head else "minimal perturbations: power spectrum",
                 fontsize="small")
    return fig, ax


def plot_perturbation_profile(result: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Cumulative radial power fraction of the mean perturbation spectrum, with f_0.5 (and its interval) marked.

    Args:
        result: an ``AdversarialSpectrum``.
        label: legend entry of the curve (e.g. the run); the number of images is appended.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.6, 4.0))
    freq, fraction = radial_profile_exact(result.power)
    n = count_text(_num_images(result))
    text = f"{label or 'model'}\n{n}" if n else label
    (line,) = ax.plot(freq.numpy(), fraction.numpy(), label=text)
    if is_finite(result.f_half):
        ax.axvline(result.f_half, color=line.get_color(), linestyle="--", linewidth=1,
                   label=f"$f_{{0.5}}$ = {result.f_half:.3f}")
        if is_finite(result.f_half_low) and is_finite(result.f_half_high):
            ax.axvspan(result.f_half_low, result.f_half_high, color=line.get_color(), alpha=0.15)
    ax.axhline(0.5, color="0.6", linewidth=0.8)
    ax.set_xlim(0, float(freq.max()))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("radial frequency (cycles/pixel)")
    ax.set_ylabel("fraction of power below")
    legend_below(ax, fontsize="small")
    return fig, ax


def plot_success_rate(result: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Images fooled (%) within each budget (the empirical CDF of the minimal epsilons), budgets in 1/255.

    Args:
        result: an ``AdversarialSpectrum`` (``epsilons`` (N,), inf where every attack failed; ``summary``).
        label: legend entry of the curve (e.g. the run); n and the median are appended.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.6, 4.0))
    eps = np.sort(result.epsilons.double().numpy()) * 255
    n = len(eps)
    finite = eps[np.isfinite(eps)]
    steps = 100 * np.arange(1, len(finite) + 1) / n
    ax.step(np.concatenate([[0.0], finite]), np.concatenate([[0.0], steps]), where="post",
            label=f"{label + chr(10) if label else ''}{count_text(n)}, median {result.summary['median'] * 255:.2f}/255")
    ax.set_xlabel("L-inf budget (1/255)")
    ax.set_ylabel("images fooled (%)")
    ax.set_ylim(0, 102)
    legend_below(ax, fontsize="small")
    return fig, ax
