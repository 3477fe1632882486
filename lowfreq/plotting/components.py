"""Figures of P003's LFC / HFC analyses: accuracy on low- and high-frequency components along training (Figs 3–6).

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot state), takes an optional ``ax`` and
returns ``(fig, ax)``. Inputs are plain sequences, arrays or tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import as_array, figure_axes

__all__ = ["plot_component_accuracy", "plot_component_curves"]


_FIGSIZE = (4.6, 3.2)



def _radius_label(r: float) -> str:
    return f"r={r:g}"


def plot_component_curves(
    epochs: Sequence[float] | Any,
    radii: Sequence[float] | Any,
    acc_low: Any,
    acc_high: Any,
    acc: Any | None = None,
    *,
    xlabel: str = "epoch",
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on LFC (solid) and HFC (dashed) for every radius against training epochs (P003 Figs 3–5).

    Args:
        epochs: (E,) x values (epochs, or steps with ``xlabel``).
        radii: (R,) radii (index units), one colour each.
        acc_low: (E, R) accuracy on x_l in [0, 1].
        acc_high: (E, R) accuracy on x_h in [0, 1].
        acc: (E,) accuracy on the original images (black), optional.
        xlabel: x-axis label.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    x = as_array(epochs)
    r = as_array(radii).reshape(-1)
    low = as_array(acc_low).reshape(len(x), len(r))
    high = as_array(acc_high).reshape(len(x), len(r))
    few = len(x) < 30
    for j, radius in enumerate(r):
        colour = f"C{j % 10}"
        ax.plot(x, 100 * low[:, j], "-", color=colour, marker="o" if few else None, markersize=4,
                label=f"LFC {_radius_label(radius)}")
        ax.plot(x, 100 * high[:, j], "--", color=colour, marker="x" if few else None, markersize=5,
                label=f"HFC {_radius_label(radius)}")
    if acc is not None:
        ax.plot(x, 100 * as_array(acc).reshape(-1), "-", color="k", marker="s" if few else None, markersize=3,
                label="original")
    if xlabel == "epoch":
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize="x-small", frameon=False, ncol=2, handlelength=3)
    return fig, ax


def plot_component_accuracy(
    radii: Sequence[float] | Any,
    acc_low: Any,
    acc_high: Any,
    acc: float | None = None,
    *,
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on LFC and HFC against the radius for one model (call again with ``ax`` to compare models).

    Args:
        radii: (R,) radii in index units.
        acc_low: (R,) accuracy on x_l in [0, 1].
        acc_high: (R,) accuracy on x_h in [0, 1].
        acc: accuracy on the original images, drawn as a horizontal line.
        label: prefix of the legend entries.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    r = as_array(radii).reshape(-1)
    prefix = f"{label} " if label else ""
    (line,) = ax.plot(r, 100 * as_array(acc_low).reshape(-1), "-o", markersize=3, label=f"{prefix}LFC")
    ax.plot(r, 100 * as_array(acc_high).reshape(-1), "--o", markersize=3, color=line.get_color(), label=f"{prefix}HFC")
    if acc is not None:
        ax.axhline(100 * float(acc), color=line.get_color(), linestyle=":", linewidth=1, label=f"{prefix}original")
    ax.set_xlabel("radius r (index units)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize="small", frameon=False)
    return fig, ax
