"""Figures of Yin et al.'s Fourier heat map: the centred error map and its radial profile.

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot state), takes an optional ``ax`` and
returns ``(fig, ax)``. The input is a [`FourierHeatMap`][lowfreq.analysis.heat_map.FourierHeatMap] (or an object
with its attributes, e.g. a ``result.json`` read back into a namespace).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import as_array, count_text, figure_axes, is_finite, legend_below

__all__ = ["plot_fourier_heat_map", "plot_heat_map_profile"]


def _eps_text(result: Any) -> str:
    eps = getattr(result, "eps", None)
    return f"ε = {float(eps):g}" if is_finite(eps) else ""


def plot_fourier_heat_map(
    result: Any, *, label: str | None = None, vmax: float = 100.0, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """The error rate (%) with each Fourier basis image added, on the centred (fx, fy) grid (Yin et al. Fig. 2).

    DC is in the centre, ``fy`` grows upwards and ``fx`` to the right (cycles/pixel, each cell centred on its
    frequency); frequencies that were not evaluated (``stride``, ``max_frequency``) are left blank.

    Args:
        result: a ``FourierHeatMap``: ``error`` (H, W) in [0, 1] (NaN where not evaluated), ``fy`` (H,), ``fx``
            (W,); optional ``num_images`` and ``eps`` (shown in the title).
        label: the run, first line of the title.
        vmax: top of the colour scale in percent (the paper's maps: 100).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.4, 3.8))
    error = 100 * as_array(result.error)
    fy, fx = as_array(result.fy).reshape(-1), as_array(result.fx).reshape(-1)
    dy = 1.0 / len(fy)
    dx = 1.0 / len(fx)
    extent = (fx[0] - dx / 2, fx[-1] + dx / 2, fy[0] - dy / 2, fy[-1] + dy / 2)
    image = ax.imshow(np.ma.masked_invalid(error), origin="lower", extent=extent, cmap="jet", vmin=0.0, vmax=vmax,
                      interpolation="nearest", aspect="equal")
    fig.colorbar(image, ax=ax, label="error rate (%)")
    ax.set_xlabel("$f_x$ (cycles/pixel)")
    ax.set_ylabel("$f_y$ (cycles/pixel)")
    n = count_text(getattr(result, "num_images", None))
    head = "\n".join(t for t in (label, ", ".join(t for t in (n, _eps_text(result)) if t)) if t)
    ax.set_title(f"{head}\nFourier heat map" if head else "Fourier heat map", fontsize="small")
    return fig, ax


def plot_heat_map_profile(
    result: Any, *, label: str | None = None, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Mean error rate (%) of the heat map per ring of radial frequency, with the clean error as a dotted line.

    Call again with ``ax`` to compare runs.

    Args:
        result: a ``FourierHeatMap``: ``radial_frequency`` (R,) in cycles/pixel, ``radial_error`` (R,) in [0, 1]
            (NaN rings are skipped); optional ``clean_error``, ``num_images`` and ``eps``.
        label: legend entry of the curve (e.g. the run); n and ε are appended.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.6, 4.0))
    freq = as_array(result.radial_frequency).reshape(-1)
    error = 100 * as_array(result.radial_error).reshape(-1)
    keep = np.isfinite(error)
    details = ", ".join(t for t in (count_text(getattr(result, "num_images", None)), _eps_text(result)) if t)
    text = f"{label or 'model'}\n{details}" if details else label
    (line,) = ax.plot(freq[keep], error[keep], "-o", markersize=3, label=text)
    clean = getattr(result, "clean_error", None)
    if is_finite(clean):
        ax.axhline(100 * float(clean), color=line.get_color(), linestyle=":", linewidth=1, label="clean images")
    ax.set_xlim(0, float(freq.max()) if freq.size else 0.71)
    ax.set_ylim(-2, 102)
    ax.set_xlabel("radial frequency (cycles/pixel)")
    ax.set_ylabel("error rate (%)")
    legend_below(ax, fontsize="small")
    return fig, ax
