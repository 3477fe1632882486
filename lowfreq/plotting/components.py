"""Figures of P003's LFC / HFC analyses: accuracy on low- and high-frequency components along training (Figs 3–6).

Every function builds a ``matplotlib.figure.Figure`` directly (no pyplot state), takes an optional ``ax`` and
returns ``(fig, ax)``. Inputs are analysis results: a ``ComponentAccuracy`` (or an object with its attributes) and
the ``FrequencyComponentAnalysis`` result (a mapping, e.g. its ``result.json`` read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lowfreq.plotting._common import as_array, count_text, figure_axes, is_finite, legend_below, legend_outside

__all__ = ["plot_component_accuracy", "plot_component_curves"]


_FIGSIZE = (6.4, 3.2)  # room for the legend right of the axes


def _radius_label(r: float, cycles: float | None = None) -> str:
    """``"r=8 (0.25 c/px)"``: the radius in index units and, when known, in cycles/pixel."""
    return f"r={r:g}" + (f" ({cycles:.3g} c/px)" if cycles is not None and is_finite(cycles) else "")


def _title(ax: Axes, label: str | None, n: Any) -> None:
    """The run and the number of images behind every accuracy, as the axes title."""
    text = "\n".join(t for t in (label, count_text(n)) if t)
    if text:
        ax.set_title(text, fontsize="small")


def plot_component_curves(
    result: Mapping[str, Any],
    *,
    x: str = "epoch",
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on LFC (solid) and HFC (dashed) for every radius along training (P003 Figs 3–5).

    The legend sits right of the axes, off the curves; radii are given in index units and cycles/pixel.

    Args:
        result: the result of ``FrequencyComponentAnalysis`` (its ``result.json``): ``radii`` (R,) in index units
            and ``history``, one mapping per evaluation with ``acc_low`` (R,), ``acc_high`` (R,) and ``acc`` in
            [0, 1] (originals, drawn in black) and the x value; optional ``radii_cycles`` (R,) in cycles/pixel and
            ``last`` (with ``num_images``, shown in the title).
        x: key of the x value in every history entry ("epoch" or "global_step"); also the x-axis label.
        label: the run, shown in the title.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, _FIGSIZE)
    history = list(result["history"])
    xs = as_array([h[x] for h in history])
    r = as_array(result["radii"]).reshape(-1)
    low = as_array([h["acc_low"] for h in history]).reshape(len(xs), len(r))
    high = as_array([h["acc_high"] for h in history]).reshape(len(xs), len(r))
    cycles = result.get("radii_cycles")
    cycles = as_array(cycles).reshape(-1).tolist() if cycles is not None else [None] * len(r)
    few = len(xs) < 30
    for j, radius in enumerate(r):
        colour = f"C{j % 10}"
        ax.plot(xs, 100 * low[:, j], "-", color=colour, marker="o" if few else None, markersize=4,
                label=f"LFC {_radius_label(radius, cycles[j])}")
        ax.plot(xs, 100 * high[:, j], "--", color=colour, marker="x" if few else None, markersize=5,
                label=f"HFC {_radius_label(radius, cycles[j])}")
    if history and all(h.get("acc") is not None for h in history):
        ax.plot(xs, 100 * as_array([h["acc"] for h in history]), "-", color="k", marker="s" if few else None,
                markersize=3, label="original")
    if x == "epoch":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    last = result.get("last")
    _title(ax, label, last.get("num_images") if isinstance(last, Mapping) else result.get("num_images"))
    legend_outside(ax, fontsize="x-small", handlelength=3)
    return fig, ax


def plot_component_accuracy(
    result: Any,
    *,
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on LFC and HFC against the radius for one model (call again with ``ax`` to compare models).

    The legend sits under the axes; a top axis gives the radius in cycles/pixel when ``image_size`` is known.

    Args:
        result: a ``lowfreq.analysis.ComponentAccuracy`` (or any object with its attributes ``radii`` (R,) in index
            units, ``acc_low`` (R,), ``acc_high`` (R,) and ``acc``, accuracies in [0, 1]; optional ``image_size``
            N (radius r is r / N cycles/pixel) and ``num_images``); ``acc`` on the originals is drawn as a
            horizontal line unless it is None.
        label: prefix of the legend entries (e.g. the run); the number of images is appended.
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.8, 4.4))
    r = as_array(result.radii).reshape(-1)
    n = count_text(getattr(result, "num_images", None))
    prefix = ", ".join(t for t in (label, n) if t)
    prefix = f"{prefix}: " if prefix else ""
    (line,) = ax.plot(r, 100 * as_array(result.acc_low).reshape(-1), "-o", markersize=3, label=f"{prefix}LFC")
    colour = line.get_color()
    ax.plot(r, 100 * as_array(result.acc_high).reshape(-1), "--o", markersize=3, color=colour, label=f"{prefix}HFC")
    if getattr(result, "acc", None) is not None:
        ax.axhline(100 * float(result.acc), color=colour, linestyle=":", linewidth=1, label=f"{prefix}original")
    ax.set_xlabel("radius r (index units)")
    size = getattr(result, "image_size", None)
    if is_finite(size) and size > 0 and not any(a.get_label() == "cycles/pixel" for a in ax.child_axes):
        num_px = float(size)

        def to_cycles(v: Any) -> Any:
            return np.asarray(v) / num_px

        def to_index(v: Any) -> Any:
            return np.asarray(v) * num_px

        top = ax.secondary_xaxis("top", functions=(to_cycles, to_index))
        top.set_label("cycles/pixel")
        top.set_xlabel("radius (cycles/pixel)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    legend_below(ax, fontsize="small")
    return fig, ax
