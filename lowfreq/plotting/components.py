"""Figures of P003's LFC / HFC analyses: accuracy on low- and high-frequency components along training (Figs 3–6).

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot state), takes an optional ``ax`` and
returns ``(fig, ax)``. Inputs are analysis results: a ``ComponentAccuracy`` (or an object with its attributes) and
the ``FrequencyComponentAnalysis`` result (a mapping, e.g. its ``result.json`` read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lowfreq.plotting._common import as_array, figure_axes

__all__ = ["plot_component_accuracy", "plot_component_curves"]


_FIGSIZE = (4.6, 3.2)


def _radius_label(r: float) -> str:
    return f"r={r:g}"


def plot_component_curves(
    result: Mapping[str, Any],
    *,
    x: str = "epoch",
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on LFC (solid) and HFC (dashed) for every radius along training (P003 Figs 3–5).

    Args:
        result: the result of ``FrequencyComponentAnalysis`` (its ``result.json``): ``radii`` (R,) in index units
            and ``history``, one mapping per evaluation with ``acc_low`` (R,), ``acc_high`` (R,) and ``acc`` in
            [0, 1] (originals, drawn in black) and the x value.
        x: key of the x value in every history entry ("epoch" or "global_step"); also the x-axis label.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    history = list(result["history"])
    xs = as_array([h[x] for h in history])
    r = as_array(result["radii"]).reshape(-1)
    low = as_array([h["acc_low"] for h in history]).reshape(len(xs), len(r))
    high = as_array([h["acc_high"] for h in history]).reshape(len(xs), len(r))
    few = len(xs) < 30
    for j, radius in enumerate(r):
        colour = f"C{j % 10}"
        ax.plot(xs, 100 * low[:, j], "-", color=colour, marker="o" if few else None, markersize=4,
                label=f"LFC {_radius_label(radius)}")
        ax.plot(xs, 100 * high[:, j], "--", color=colour, marker="x" if few else None, markersize=5,
                label=f"HFC {_radius_label(radius)}")
    if history and all(h.get("acc") is not None for h in history):
        ax.plot(xs, 100 * as_array([h["acc"] for h in history]), "-", color="k", marker="s" if few else None,
                markersize=3, label="original")
    if x == "epoch":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize="x-small", frameon=False, ncol=2, handlelength=3)
    return fig, ax


def plot_component_accuracy(
    result: Any,
    *,
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on LFC and HFC against the radius for one model (call again with ``ax`` to compare models).

    Args:
        result: a ``lowfreq.analysis.ComponentAccuracy`` (or any object with its attributes ``radii`` (R,) in index
            units, ``acc_low`` (R,), ``acc_high`` (R,) and ``acc``, accuracies in [0, 1]); ``acc`` on the
            originals is drawn as a horizontal line unless it is None.
        label: prefix of the legend entries.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    r = as_array(result.radii).reshape(-1)
    prefix = f"{label} " if label else ""
    (line,) = ax.plot(r, 100 * as_array(result.acc_low).reshape(-1), "-o", markersize=3, label=f"{prefix}LFC")
    colour = line.get_color()
    ax.plot(r, 100 * as_array(result.acc_high).reshape(-1), "--o", markersize=3, color=colour, label=f"{prefix}HFC")
    if getattr(result, "acc", None) is not None:
        ax.axhline(100 * float(result.acc), color=colour, linestyle=":", linewidth=1, label=f"{prefix}original")
    ax.set_xlabel("radius r (index units)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.legend(fontsize="small", frameon=False)
    return fig, ax
