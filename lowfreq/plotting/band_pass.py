"""Figure of the band-pass sensitivity: accuracy with one radial band kept and with it removed, per band.

Builds a ``matplotlib.figure.Figure`` directly (no pyplot state), takes an optional ``ax`` and returns
``(fig, ax)``. The input is a ``BandPassAccuracy`` (or an object with its attributes).
"""

from __future__ import annotations

import itertools
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lowfreq.plotting._common import as_array, count_text, figure_axes, is_finite, legend_below

__all__ = ["plot_band_pass"]


def plot_band_pass(
    result: Any,
    *,
    label: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Accuracy (%) on band-pass (solid) and band-stop (dashed) images against the band centre (cycles/pixel).

    The band edges are shaded alternately, the accuracy on the original images is a dotted horizontal line, and
    the legend sits under the axes. Call again with ``ax`` to compare models.

    Args:
        result: a ``lowfreq.analysis.BandPassAccuracy`` (or any object with its attributes ``centres`` (K,) in
            cycles/pixel, ``acc_pass`` (K,), ``acc_stop`` (K,) and ``acc``, accuracies in [0, 1]; optional ``edges``
            (K + 1,) in cycles/pixel, shaded, and ``num_images``, appended to the legend entries).
        label: prefix of the legend entries (e.g. the run).
        ax: axes to draw into; None creates a new figure.
    """
    fig, ax = figure_axes(ax, (4.8, 4.4))
    centres = as_array(result.centres).reshape(-1)
    n = count_text(getattr(result, "num_images", None))
    prefix = ", ".join(t for t in (label, n) if t)
    prefix = f"{prefix}: " if prefix else ""
    (line,) = ax.plot(centres, 100 * as_array(result.acc_pass).reshape(-1), "-o", markersize=3,
                      label=f"{prefix}band kept (band-pass)")
    colour = line.get_color()
    ax.plot(centres, 100 * as_array(result.acc_stop).reshape(-1), "--s", markersize=3, color=colour,
            label=f"{prefix}band removed (band-stop)")
    acc = getattr(result, "acc", None)
    if is_finite(acc):
        ax.axhline(100 * float(acc), color=colour, linestyle=":", linewidth=1, label=f"{prefix}original")
    edges = getattr(result, "edges", None)
    if edges is not None and not ax.patches:  # shade the bands once, also when more models are drawn
        values = as_array(edges).reshape(-1)
        for k, (lo, hi) in enumerate(itertools.pairwise(values)):
            if k % 2 == 0:
                ax.axvspan(lo, hi, color="0.92", zorder=0, linewidth=0)
        ax.set_xlim(float(values[0]), float(values[-1]))
    ax.set_xlabel("band centre (cycles/pixel)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    legend_below(ax, fontsize="small")
    return fig, ax
