"""Figures of P001's adversarial analysis: perturbation spectrum, its radial profile with f_0.5, success rate.

Every function takes an :class:`~lowfreq.analysis.adversarial.AdversarialSpectrum`, an optional ``ax``, and returns
``(fig, ax)``; frequencies in cycles/pixel, budgets in units of 1/255.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from lowfreq.plotting._common import figure_axes, is_finite
from lowfreq.spectral import radial_profile_exact

__all__ = ["plot_perturbation_profile", "plot_perturbation_spectrum", "plot_success_rate"]


def plot_perturbation_spectrum(result: Any, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Mean perturbation power, fftshifted (DC in the centre, set to 0), log colour scale with a colour bar."""
    fig, ax = figure_axes(ax, (4.2, 3.6))
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
    ax.set_title("minimal perturbations: power spectrum")
    return fig, ax


def plot_perturbation_profile(result: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Cumulative radial power fraction of the mean perturbation spectrum, with f_0.5 (and its interval) marked."""
    fig, ax = figure_axes(ax, (4.6, 3.2))
    freq, fraction = radial_profile_exact(result.power)
    (line,) = ax.plot(freq.numpy(), fraction.numpy(), label=label)
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
    ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_success_rate(result: Any, *, label: str | None = None, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Fraction of images fooled within each budget (the empirical CDF of the minimal epsilons), budgets in 1/255."""
    fig, ax = figure_axes(ax, (4.6, 3.2))
    eps = np.sort(result.epsilons.double().numpy()) * 255
    n = len(eps)
    finite = eps[np.isfinite(eps)]
    steps = np.arange(1, len(finite) + 1) / n
    ax.step(np.concatenate([[0.0], finite]), np.concatenate([[0.0], steps]), where="post",
            label=f"{label + ' ' if label else ''}(n = {n}, median {result.summary['median'] * 255:.2f}/255)")
    ax.set_xlabel("L-inf budget (1/255)")
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False, fontsize="small")
    return fig, ax
